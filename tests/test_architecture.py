"""The import graph keeps the layers docs/design.md draws, and package faces stay light."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import conda2docker

PACKAGE = Path(conda2docker.__file__).parent
DESIGN = PACKAGE.parents[1] / "docs" / "design.md"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every conda2docker module ``path`` imports at run time (also inside functions;
    ``if TYPE_CHECKING:`` blocks excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree)
                   if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                   for node in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "conda2docker":
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "conda2docker")


MODULES = {_module(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if "data" not in p.relative_to(PACKAGE).parts}  # data/: scripts run inside the image
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def _layers() -> dict[str, int]:
    """``{"audit": 4, "audit.run": 8, …}`` from the table in docs/design.md."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text[text.index("## Which modules may import which"):]
    layers: dict[str, int] = {}
    for number, cells in re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.M):
        for name in re.findall(r"`([^`]+)`", cells):
            key = "conda2docker" if name == "conda2docker" else "conda2docker." + name.replace("/", ".")
            layers[key] = int(number)
    return layers


LAYERS = _layers()


def _layer(module: str) -> int:
    """The layer of the most specific row naming ``module`` or one of its packages."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = LAYERS.get(".".join(parts[:end]))
        if found is not None and (end > 1 or module == "conda2docker"):
            return found
    raise AssertionError(f"{module} is in no layer of docs/design.md: add it to the table")


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = sorted(f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})"
                    for m, targets in GRAPH.items() for t in targets
                    if _layer(t) > _layer(m))
    assert not upward


def test_commands_are_imported_by_the_cli_only_and_never_by_each_other() -> None:
    def is_command(name: str) -> bool:
        return name.startswith("conda2docker.commands")

    outside = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets
                     if is_command(t) and not is_command(m) and m != "conda2docker.cli")
    assert not outside
    shared = {"conda2docker.commands", "conda2docker.commands._options"}
    between = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if is_command(m)
                     for t in targets if is_command(t) and t not in shared and t != m)
    assert not between


def test_package_faces_only_hand_names_on() -> None:
    """An ``__init__`` holds a docstring, imports and ``__all__``/lazy loading: no logic."""
    allowed = (ast.Expr, ast.Import, ast.ImportFrom, ast.If, ast.Assign, ast.AnnAssign,
               ast.FunctionDef)
    for path in sorted(PACKAGE.rglob("__init__.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            assert isinstance(node, allowed), f"{path}: {ast.dump(node)[:60]}"
            if isinstance(node, ast.FunctionDef):
                assert node.name in ("__getattr__", "__dir__"), f"{path}: def {node.name}"


def _loaded_after(statement: str) -> list[str]:
    code = (f"import json, sys; {statement}; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('conda2docker'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize("renderer", ["dockerfile", "apptainer", "compose"])
def test_importing_a_renderer_loads_no_audit_rule_and_no_engine(renderer: str) -> None:
    loaded = _loaded_after(f"import conda2docker.render.{renderer}")
    assert f"conda2docker.render.{renderer}" in loaded
    heavy = [m for m in loaded if m.startswith(("conda2docker.audit.rules", "conda2docker.audit.engine",
                                                "conda2docker.engine", "conda2docker.resolve",
                                                "conda2docker.commands"))]
    assert not heavy


def test_the_cli_loads_only_what_help_needs() -> None:
    loaded = _loaded_after("import conda2docker.cli")
    assert not [m for m in loaded if m.startswith(("conda2docker.audit", "conda2docker.plan",
                                                   "conda2docker.resolve", "conda2docker.read"))]


def test_imported_third_party_packages_are_declared() -> None:
    """Every distribution the package imports is a declared dependency (not a transitive one)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
                for d in project["project"]["dependencies"]}
    provided_by = {"yaml": "pyyaml", "rattler": "py-rattler", "ruamel": "ruamel.yaml",
                   "docker": "docker", "conda_lock": "conda-lock", "conda_pypi": "conda-pypi",
                   "typer": "typer", "rich": "rich", "networkx": "networkx", "packaging": "packaging",
                   "resolvelib": "resolvelib", "certifi": "certifi", "tomli": "tomli",
                   "click": "typer", "typing_extensions": "typing-extensions",
                   "hcl2": "python-hcl2", "lark": "lark"}
    stdlib = set(sys.stdlib_module_names) | {"conda2docker"}
    missing = set()
    for path in MODULES.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        optional = {id(node) for block in ast.walk(tree) if isinstance(block, ast.Try)
                    and any("ImportError" in ast.unparse(h.type or ast.Name("")) for h in block.handlers)
                    for node in ast.walk(block)}  # guarded: works without it
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top in stdlib:
                    continue
                if provided_by.get(top, top) not in declared:
                    missing.add(f"{path.relative_to(PACKAGE)}: {top}")
    assert not missing


def test_readme_shows_the_ci_test_command() -> None:
    """CI runs ``TEST_COMMAND`` of .ci/run; the README shows the same command."""
    root = PACKAGE.parents[1]
    ci = root / ".ci" / "run"
    if not ci.is_file():
        pytest.skip("no .ci/run in this checkout")
    command = re.search(r'^TEST_COMMAND="([^"]+)"$', ci.read_text(encoding="utf-8"), flags=re.M)
    assert command is not None
    assert "--durations=15" in command.group(1)
    assert command.group(1) in (root / "README.md").read_text(encoding="utf-8")


PURE_STEPS = ("conda2docker.read", "conda2docker.graph", "conda2docker.audit", "conda2docker.plan",
              "conda2docker.render")
JOBS = {"conda2docker.audit.run"}


def test_pure_steps_reach_neither_network_nor_engine() -> None:
    """read, graph, audit, plan and render import no network, process or engine client, and
    none of conda2docker's boundaries (resolve's clients, the engine, the context writer).
    py-rattler is allowed: the reader parses match specs with it, offline."""
    boundaries = ("conda2docker.resolve", "conda2docker.engine", "conda2docker.context",
                  "conda2docker.outputs", "conda2docker.pipeline")
    clients = {"socket", "ssl", "subprocess", "http", "docker", "requests", "conda_lock"}
    offenders = []
    for module, path in MODULES.items():
        if not any(module == p or module.startswith(p + ".") for p in PURE_STEPS) or module in JOBS:
            continue
        offenders += [f"{module} imports {t}" for t in GRAPH[module] if t.startswith(boundaries)]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and node.level == 0 else [])
            offenders += [f"{module} imports {n}" for n in names if n.split(".")[0] in clients]
    assert not offenders


def test_every_dataclass_has_a_docstring() -> None:
    """Each says what it holds; and without one, ``dataclass`` writes one at import from
    ``inspect.signature`` (about 60 µs a class, paid by every command's start-up)."""
    bare = [f"{_module(path)}.{node.name}" for path in MODULES.values()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ClassDef) and not ast.get_docstring(node)
            and any(_makes_dataclass(d) for d in node.decorator_list)]
    assert bare == []


def _makes_dataclass(decorator: ast.expr) -> bool:
    text = ast.unparse(decorator)
    return "dataclass" in text or text == "frozen"


def test_frozen_slotted_dataclasses_are_made_by_frozen() -> None:
    """``@frozen`` (conda2docker.values) makes the same class as
    ``@dataclass(frozen=True, slots=True)`` without compiling three of its six methods at
    import, which every command's start-up pays for each class."""
    spelled = [f"{_module(path)}.{node.name}" for path in MODULES.values()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef)
               and any(ast.unparse(d) == "dataclass(frozen=True, slots=True)" for d in node.decorator_list)]
    assert spelled == []
