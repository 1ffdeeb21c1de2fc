"""Building blocks of a stage: small typed instructions, rendered by ``conda2docker.render``.

User-derived values (package names, paths, variables) only ever enter through typed
fields (argv lists, key/value pairs, paths); :class:`Shell` holds fixed text written by
conda2docker itself and is validated to carry no interpolated user data.
"""

from __future__ import annotations

import re
import sys

from conda2docker.errors import InputError
from conda2docker.validate import PIP_NAME, SHA256_HEX, shown
from conda2docker.values import frozen

if sys.version_info >= (3, 11):
    from typing import assert_never as assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never as assert_never

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_LABEL_KEY = re.compile(r"^[a-z0-9][a-z0-9.\-]*\Z")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*\Z")
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.\-]+\Z")


class PlanError(InputError):
    """A value that cannot be placed into a build file safely."""


def check_env_name(name: str) -> str:
    if not _ENV_NAME.match(name):
        raise PlanError(f"invalid environment variable name {shown(name)}",
                        fix="name it with letters, digits and '_', not starting with a digit")
    return name


def check_label_key(key: str) -> str:
    if not _LABEL_KEY.match(key):
        raise PlanError(f"invalid label key {shown(key)}",
                        fix="use lowercase letters, digits, '.' and '-' (e.g. org.opencontainers.image.title)")
    return key


def check_stage_name(name: str) -> str:
    if not _STAGE_NAME.match(name):
        raise PlanError(f"invalid stage name {shown(name)}",
                        fix="start it with a lowercase letter; then letters, digits, '_', '.', '-'")
    return name


def check_pip_name(name: str) -> str:
    """A PEP 508 distribution name: it lands in requirement files and in paths."""
    if not PIP_NAME.match(name):
        raise PlanError(f"invalid pip package name {shown(name)}",
                        fix="a PEP 508 name is letters, digits, '.', '_' and '-', starting and ending with a letter or digit")
    return name


def check_debian_package(name: str) -> str:
    if not _DEBIAN_PACKAGE.match(name):
        raise PlanError(f"invalid Debian package name {shown(name)}",
                        fix="a Debian package name is lowercase letters, digits, '+', '.' and '-'")
    return name


def check_requirement_url(url: str) -> str:
    """A URL for one line of a requirements file: whitespace would start pip options."""
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise PlanError(f"URL with whitespace or control characters cannot be locked: {shown(url)}",
                        fix="percent-encode the URL (%20 for a space), or lock again")
    return url


def check_sha256(digest: str) -> str:
    """A digest as the lock readers return it: lowercase (``validate.check_sha256``)."""
    if not SHA256_HEX.match(digest):
        raise PlanError(f"invalid sha256 digest {shown(digest)}",
                        fix="a sha256 is 64 lowercase hexadecimal digits: lock again")
    return digest


def check_image(ref: str) -> str:
    """A base image as the user names it: the distribution reference grammar, no ``${…}``."""
    from conda2docker.validate import UnsafeValue, check_image_reference

    try:
        return check_image_reference(ref)
    except UnsafeValue as error:
        raise PlanError(error.message, fix=error.fix) from None


@frozen
class Comment:
    """A ``#`` comment line."""
    text: str


@frozen
class Arg:
    """``ARG name[=default]``."""
    name: str
    default: str | None = None

    def __post_init__(self) -> None:
        check_env_name(self.name)


@frozen
class Env:
    """``ENV k=v …``."""
    pairs: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        for name, _ in self.pairs:
            check_env_name(name)


@frozen
class Label:
    """``LABEL k=v …``."""
    pairs: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        for key, _ in self.pairs:
            check_label_key(key)


@frozen
class Copy:
    """``COPY [--from…] sources… dest``."""
    sources: tuple[str, ...]
    dest: str
    from_stage: str | None = None
    chown: str | None = None
    arg_sources: bool = False
    """The sources name build args (``conda-${TARGETARCH:-amd64}.lock``, written by
    conda2docker only): resolved by the builder, so only a Dockerfile can hold this step."""


@frozen
class AddArchive:
    """``ADD`` of a local tar archive, which the builder unpacks into ``dest``."""

    source: str
    dest: str


@frozen
class Shell:
    """A fixed shell snippet written by conda2docker (may use ``${ARG}`` references)."""

    text: str


Command = tuple[str, ...] | Shell


@frozen
class Run:
    """Commands joined with ``&&`` into one layer; argv tuples are quoted word by word."""

    commands: tuple[Command, ...]
    cache_mounts: tuple[str, ...] = ()
    """Targets for BuildKit cache mounts, rendered only when the plan enables BuildKit."""
    secrets: tuple[str, ...] = ()
    """Ids of BuildKit secrets the step reads from ``/run/secrets/<id>`` (the plan asks for
    them only when it enables BuildKit)."""
    engine_only: bool = False
    """Only meaningful for an image a container engine runs (user accounts): Apptainer runs
    every container as the calling user, so its definition leaves the step out."""


@frozen
class User:
    """``USER user``."""
    user: str


@frozen
class Workdir:
    """``WORKDIR path``."""
    path: str


@frozen
class Entrypoint:
    """``ENTRYPOINT [argv…]`` (exec form)."""
    argv: tuple[str, ...]


@frozen
class Cmd:
    """``CMD [argv…]`` (exec form)."""
    argv: tuple[str, ...]


@frozen
class Expose:
    """``EXPOSE port``."""
    port: int


Instruction = (
    Comment | Arg | Env | Label | Copy | AddArchive | Run | User | Workdir | Entrypoint | Cmd | Expose
)
"""Every renderer matches over this union and ends with ``assert_never``: mypy names each
renderer that does not handle a new instruction type."""
