"""Generated environment files read back to the spec they were written from; nothing a user
can feed the reader (bytes, YAML) escapes as anything but an InputError."""

from __future__ import annotations

import codecs
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.model import CondaDependency, EnvSpec, PipRequirement
from conda2docker.read import parse_environment, read_input
from conda2docker.read.environment import KNOWN_KEYS
from conda2docker.read.platform_only import Origin, adapt_conda, adapt_pip

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANCHOR = Path(tempfile.mkdtemp(prefix="c2d-read-hypothesis-"))
SRC = ANCHOR / "environment.yml"
YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}


def _ordinary_conda(name: str) -> bool:
    dependency = CondaDependency(name=name)
    everywhere: frozenset[Origin] = frozenset({"osx", "win"})
    return (
        name not in YAML_WORDS
        and name not in ("pip",)
        and "_linux-" not in name
        and adapt_conda(dependency, "linux-64", everywhere) == (dependency, None)
    )


def _ordinary_pip(name: str) -> bool:
    requirement = PipRequirement(kind="registry", raw=name, name=name)
    return adapt_pip(requirement, "linux-64") == (requirement, None)


conda_names = st.from_regex(r"\A[a-z][a-z0-9_.\-]{0,14}[a-z0-9]\Z").filter(_ordinary_conda)
pip_names = st.from_regex(r"\A[a-z][a-z0-9]{0,10}\Z").filter(_ordinary_pip)
versions = st.lists(st.integers(0, 999), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
builds = st.from_regex(r"\A[a-z][a-z0-9]{0,6}_[0-9]{1,2}\Z")
channels = st.from_regex(r"\A[a-z][a-z0-9\-]{0,10}[a-z0-9]\Z").filter(
    lambda c: c not in YAML_WORDS and c != "nodefaults"
)


@dataclass(frozen=True)
class Conda:
    text: str
    expected: tuple[str, str, str | None, str | None]
    selector: str | None
    kept: bool


@st.composite
def conda_entries(draw: st.DrawFn, name: str) -> Conda:
    version = draw(versions)
    upper = draw(versions)
    build = draw(builds)
    channel = draw(st.none() | channels)
    form, text, expected_version, expected_build = draw(
        st.sampled_from(
            [
                ("any", name, "", None),
                ("fuzzy", f"{name}={version}", f"{version}.*", None),
                ("fuzzy-space", f"{name} ={version}", f"{version}.*", None),
                ("star", f"{name} {version}.*", f"{version}.*", None),
                ("exact", f"{name}=={version}", f"=={version}", None),
                ("range", f"{name} >= {version}", f">={version}", None),
                ("two-sided", f"{name}>={version},<{upper}", f">={version},<{upper}", None),
                ("build", f"{name}={version}={build}", f"=={version}", build),
                ("range-build", f"{name}>={version}={build}", f">={version}", build),
                ("space-build", f"{name} {version} {build}", f"=={version}", build),
            ]
        )
    )
    del form
    if channel is not None:
        text = f"{channel}::{text}"
    selector, kept = draw(
        st.sampled_from(
            [(None, True), ("linux", True), ("not win", True), ("win", False), ("osx", False)]
        )
    )
    return Conda(text, (name, expected_version, expected_build, channel), selector, kept)


@dataclass(frozen=True)
class Env:
    name: str | None
    channels: tuple[str, ...]
    conda: tuple[Conda, ...]
    pip: tuple[tuple[str, str], ...]
    """(line, canonical specifier)"""


@st.composite
def environments(draw: st.DrawFn) -> Env:
    names = draw(st.lists(conda_names, min_size=1, max_size=8, unique=True))
    conda = tuple(draw(conda_entries(name)) for name in names)
    pip_entries = []
    for name in draw(st.lists(pip_names, max_size=5, unique=True)):
        version = draw(versions)
        line, specifier = draw(
            st.sampled_from(
                [
                    (name, ""),
                    (f"{name}=={version}", f"=={version}"),
                    (f"{name} >= {version}", f">={version}"),
                ]
            )
        )
        pip_entries.append((line, specifier))
    return Env(
        name=draw(
            st.none()
            | st.from_regex(r"\A[a-z][a-z0-9_\-]{0,12}\Z").filter(lambda n: n not in YAML_WORDS)
        ),
        channels=tuple(draw(st.lists(channels, max_size=3, unique=True))),
        conda=conda,
        pip=tuple(pip_entries),
    )


def render(env: Env, indent: int, quote: bool) -> str:
    pad = " " * indent
    lines = [] if env.name is None else [f"name: {env.name}"]
    if env.channels:
        lines += ["channels:", *(f"{pad}- {c}" for c in env.channels)]
    lines.append("dependencies:")
    for entry in env.conda:
        text = f'"{entry.text}"' if quote else entry.text
        lines.append(f"{pad}- {text}" + (f"  # [{entry.selector}]" if entry.selector else ""))
    if env.pip:
        lines.append(f"{pad}- pip:")
        lines += [f"{pad}{pad}  - {line}" for line, _ in env.pip]
    return "\n".join(lines) + "\n"


ENCODINGS = {
    "utf-8": lambda text: text.encode(),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode(),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


@SETTINGS
@given(
    env=environments(),
    indent=st.sampled_from([2, 4]),
    quote=st.booleans(),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    crlf=st.booleans(),
)
def test_generated_environments_read_back(
    env: Env, indent: int, quote: bool, encoding: str, crlf: bool
) -> None:
    text = render(env, indent, quote)
    if crlf:
        text = text.replace("\n", "\r\n")
    spec = parse_environment(ENCODINGS[encoding](text), SRC)

    assert spec.name == env.name
    assert spec.channels == env.channels  # none: left to --default-channels (resolve)
    expected = [c.expected for c in env.conda if c.kept]
    if env.pip:
        expected.append(("pip", "", None, None))
    assert [(d.name, d.version, d.build, d.channel) for d in spec.conda] == expected
    assert [(r.name, r.specifier) for r in spec.pip] == [
        (line.split("=")[0].split(" ")[0], specifier) for line, specifier in env.pip
    ]
    dropped = sorted(c.text for c in env.conda if not c.kept)
    assert sorted(c.subject for c in spec.changes if c.code == "S305") == dropped
    decoded = [c for c in spec.changes if c.action == "decoded"]
    assert len(decoded) == int(encoding != "utf-8" or crlf)
    assert {c.code for c in spec.changes} <= {"", "S305", "R510"}


def _rendered_from_spec(spec: EnvSpec) -> str:
    lines = ["dependencies:", *(f'  - "{d.matchspec}"' for d in spec.conda)]
    if spec.pip:
        lines += ["  - pip:", *(f'    - "{r.name}{r.specifier}"' for r in spec.pip)]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(env=environments())
def test_normalised_spec_reads_back_to_itself(env: Env) -> None:
    first = parse_environment(render(env, 2, False).encode(), SRC)
    again = parse_environment(_rendered_from_spec(first).encode(), SRC)
    assert [(d.name, d.version, d.build, d.channel) for d in again.conda] == [
        (d.name, d.version, d.build, d.channel) for d in first.conda
    ]
    assert [(r.name, r.specifier) for r in again.pip] == [(r.name, r.specifier) for r in first.pip]


def _only_input_errors(data: bytes, source: Path = SRC) -> None:
    try:
        parse_environment(data, source)
    except InputError as error:
        assert error.location is not None
        assert error.location.file == source or error.location.file.parent == ANCHOR
        assert "\n" not in error.one_line()


@SETTINGS
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_are_a_spec_or_an_input_error(data: bytes) -> None:
    _only_input_errors(data)


@SETTINGS
@given(text=st.text(max_size=400))
def test_arbitrary_text_is_a_spec_or_an_input_error(text: str) -> None:
    _only_input_errors(text.encode("utf-8", "surrogatepass"))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=24)
    | st.sampled_from(["numpy=1.2", "-e .", "--pre", "python>=3", "pip", "-r x.txt", "$X", "a::b"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["pip", "name"]), inner, max_size=4)
    ),
    max_leaves=16,
)
documents = (
    st.dictionaries(st.sampled_from([*KNOWN_KEYS, "other"]), values, max_size=7)
    | st.fixed_dictionaries(
        {
            "dependencies": st.lists(
                scalars | st.dictionaries(st.sampled_from(["pip", "conda"]), values, max_size=2),
                max_size=6,
            )
        }
    )
    | values
)


def _dump(document: object) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


@SETTINGS
@given(document=documents)
def test_arbitrary_yaml_is_a_spec_or_an_input_error(document: object) -> None:
    _only_input_errors(_dump(document).encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=300), name=st.sampled_from(["requirements.txt", "x.lock", "env.yml"])
)
def test_arbitrary_files_through_read_input(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            read_input(path)
        except InputError as error:
            assert error.location is not None


specifiers = st.lists(
    st.tuples(st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="]),
              st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){1,2}\Z")),
    min_size=1, max_size=2,
).map(lambda parts: ",".join(op + version for op, version in parts))


@SETTINGS
@given(entries=st.lists(st.tuples(pip_names, specifiers), min_size=1, max_size=5),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_generated_constraints_files_read_back(entries: list[tuple[str, str]], encoding: str) -> None:
    from packaging.specifiers import SpecifierSet

    with tempfile.TemporaryDirectory() as folder:
        env = Path(folder) / "environment.yml"
        env.write_text("dependencies:\n  - python\n  - pip\n  - pip:\n    - -c pins/constraints.txt\n"
                       "    - requests\n")
        (Path(folder) / "pins").mkdir()
        lines = "".join(f"{name}{spec}  # pinned\n" for name, spec in entries)
        (Path(folder) / "pins" / "constraints.txt").write_bytes(lines.encode(encoding))
        spec = read_input(env)
    got = [(c.name, SpecifierSet(c.specifier)) for c in spec.pip_options.constraints]
    assert got == [(name, SpecifierSet(s)) for name, s in entries]
    assert [r.name for r in spec.pip] == ["requests"]
