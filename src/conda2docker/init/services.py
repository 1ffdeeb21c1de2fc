"""Databases ``init --service`` puts beside the Jupyter service of ``compose.yaml``.

Each one is a published image with a named volume for its data, a healthcheck the Jupyter
service waits for (``depends_on: condition: service_healthy``), and the URL the notebooks
use, given to the Jupyter service as an environment variable. No port is published on the
host: the database is reachable from the notebooks only, by the service's name, so the
credentials below are those of a local, private database (PostgreSQL trusts its network).
The audit side: rule S307 (``service-client-missing``) names the Python client library a
service needs when the environment has none of them; init passes it the services chosen.
"""

from __future__ import annotations

from collections.abc import Iterable

from conda2docker.audit.knowledge.services import service_name
from conda2docker.errors import InputError
from conda2docker.values import frozen


@frozen
class Service:
    """A service of the compose file (a database, a cache) and how the app reaches it."""
    name: str
    image: str
    data_dir: str
    healthcheck: tuple[str, ...]
    url_variable: str
    url: str
    environment: tuple[tuple[str, str], ...] = ()


SERVICES: dict[str, Service] = {
    "mongodb": Service(
        name="mongodb", image="mongo:7.0", data_dir="/data/db",
        healthcheck=("CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"),
        url_variable="MONGODB_URL", url="mongodb://mongodb:27017/",
    ),
    "postgres": Service(
        name="postgres", image="postgres:16-bookworm", data_dir="/var/lib/postgresql/data",
        healthcheck=("CMD", "pg_isready", "--username=postgres", "--host=127.0.0.1"),
        url_variable="DATABASE_URL", url="postgresql://postgres@postgres:5432/postgres",
        environment=(("POSTGRES_HOST_AUTH_METHOD", "trust"),),
    ),
    "redis": Service(
        name="redis", image="redis:7.2-bookworm", data_dir="/data",
        healthcheck=("CMD", "redis-cli", "ping"),
        url_variable="REDIS_URL", url="redis://redis:6379/0",
    ),
}


def services(names: Iterable[str]) -> tuple[Service, ...]:
    """The services asked for, in a stable order, each once; an unknown name is an error."""
    chosen: dict[str, Service] = {}
    for name in names:
        key = service_name(name)
        if key not in SERVICES:
            raise InputError(f"unknown --service {name!r}",
                             fix="choose from " + ", ".join(sorted(SERVICES)))
        chosen[key] = SERVICES[key]
    return tuple(chosen[k] for k in sorted(chosen))
