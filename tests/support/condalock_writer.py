"""conda-lock's own writer, fed a :class:`Lock` the way conda2docker used to write locks.

The reference the fast writer (``conda2docker.lock_writer``) is proved against: conda-lock's
pydantic models, ``write_conda_lock_file`` and its PyYAML emitter. Tests only; the user's
``lock`` and ``convert`` never import conda-lock unless its solver backend is chosen.
"""

from __future__ import annotations

from pathlib import Path

from conda2docker.lockfile import lock_custom_metadata
from conda2docker.model import Lock


def write_with_conda_lock(lock: Lock, path: Path) -> None:
    """Write ``lock`` to ``path`` through conda-lock's models and writer."""
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta

    dependencies = [
        LockedDependency(
            name=package.name,
            version=package.version,
            manager=package.manager,
            platform=package.platform,
            dependencies=dict(package.dependencies),
            url=package.url,
            hash=HashModel(md5=package.md5, sha256=package.sha256),
            build=package.build,
            categories={package.category},
        )
        for package in lock.packages
    ]
    lockfile = Lockfile(
        package=dependencies,
        metadata=LockMeta(
            content_hash=dict(lock.content_hash),
            channels=list(lock.channels),
            platforms=list(lock.platforms),
            sources=list(lock.sources),
            custom_metadata=lock_custom_metadata(lock),
        ),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_conda_lock_file(lockfile, path, metadata_choices=None, include_help_text=True)
