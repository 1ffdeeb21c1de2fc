"""The Python client libraries of the databases ``init --service`` puts beside an environment.

Names are conda and PyPI distribution names (compared canonically: lower case, ``_`` as ``-``);
the first of each is the one suggested (on both conda-forge and PyPI).
"""

from __future__ import annotations

SERVICE_CLIENTS: dict[str, tuple[str, ...]] = {
    "mongodb": ("pymongo", "motor", "mongoengine"),
    "postgres": ("psycopg", "psycopg2", "psycopg2-binary", "psycopg-binary", "asyncpg", "pg8000"),
    "redis": ("redis", "redis-py", "hiredis"),
}


def clients_of(service: str) -> tuple[str, ...]:
    """The client libraries of ``service`` (empty for a service this table does not know)."""
    return SERVICE_CLIENTS.get(service, ())


ALIASES: dict[str, str] = {"mongo": "mongodb", "postgresql": "postgres", "pg": "postgres"}


def service_name(name: str) -> str:
    """A service as the user may write it (``Mongo``, ``postgresql``, ``pg``) in its one name."""
    key = name.strip().lower()
    return ALIASES.get(key, key)
