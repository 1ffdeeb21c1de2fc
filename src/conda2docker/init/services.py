"""Databases ``init --service`` puts beside the Jupyter service of ``compose.yaml``.

Each one is a published image with a named volume for its data, a healthcheck the Jupyter
service waits for (``depends_on: condition: service_healthy``), and the URL the notebooks
use, given to the Jupyter service as an environment variable. No port is published on the
host: the database is reachable from the notebooks only, by the service's name, so the
credentials below are those of a local, private database (PostgreSQL trusts its network).
The audit side: :func:`missing_clients` names the Python client library a service needs
when the lock has none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conda2docker.errors import InputError


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    image: str
    data_dir: str
    healthcheck: tuple[str, ...]
    url_variable: str
    url: str
    clients: tuple[str, ...]
    """Python distributions (PyPI/conda names) that talk to it; the first is suggested."""
    environment: tuple[tuple[str, str], ...] = ()


SERVICES: dict[str, Service] = {
    "mongodb": Service(
        name="mongodb", image="mongo:7.0", data_dir="/data/db",
        healthcheck=("CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"),
        url_variable="MONGODB_URL", url="mongodb://mongodb:27017/",
        clients=("pymongo", "motor", "mongoengine"),
    ),
    "postgres": Service(
        name="postgres", image="postgres:16-bookworm", data_dir="/var/lib/postgresql/data",
        healthcheck=("CMD", "pg_isready", "--username=postgres", "--host=127.0.0.1"),
        url_variable="DATABASE_URL", url="postgresql://postgres@postgres:5432/postgres",
        clients=("psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000", "psycopg-binary"),
        environment=(("POSTGRES_HOST_AUTH_METHOD", "trust"),),
    ),
    "redis": Service(
        name="redis", image="redis:7.2-bookworm", data_dir="/data",
        healthcheck=("CMD", "redis-cli", "ping"),
        url_variable="REDIS_URL", url="redis://redis:6379/0",
        clients=("redis", "redis-py", "hiredis"),
    ),
}


def services(names: Iterable[str]) -> tuple[Service, ...]:
    """The services asked for, in a stable order, each once; an unknown name is an error."""
    chosen: dict[str, Service] = {}
    for name in names:
        key = name.strip().lower()
        if key == "mongo":
            key = "mongodb"
        if key in ("postgresql", "pg"):
            key = "postgres"
        if key not in SERVICES:
            raise InputError(f"unknown --service {name!r}",
                             fix="choose from " + ", ".join(sorted(SERVICES)))
        chosen[key] = SERVICES[key]
    return tuple(chosen[k] for k in sorted(chosen))


def missing_clients(chosen: Iterable[Service], installed: Iterable[str]) -> list[str]:
    """One line per service whose client library the environment lacks, with the fix."""
    have = {n.lower().replace("_", "-") for n in installed}
    return [f"--service {s.name}: the environment has no client library for it "
            f"({', '.join(s.clients[:2])}); add `{s.clients[0]}` to the environment "
            f"(the notebooks find it at ${s.url_variable})"
            for s in chosen if not have & set(s.clients)]
