"""The wheel → conda package converter of the test channels (``support.wheel_conda``), on two
small wheels written here: where each file lands, the entry point scripts (run for real from an
extracted prefix), ``depends`` from ``Requires-Dist`` (markers for CPython 3.11 on linux, extras,
conda names), the RECORD pip reads, and byte-identical output."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.channel import _ASSEMBLE_TIMESTAMP
from support.wheel_conda import LAUNCHER, convert_wheels, entry_point_script, read_wheel


def write_wheel(directory: Path, filename: str, files: dict[str, str | bytes],
                executable: frozenset[str] = frozenset()) -> Path:
    path = directory / filename
    dist_info = next(n.split("/")[0] for n in files if n.split("/")[0].endswith(".dist-info"))
    record = []
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = zipfile.ZipInfo(name, date_time=(2020, 2, 2, 0, 0, 0))
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            archive.writestr(info, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")
        archive.writestr(f"{dist_info}/RECORD", "\n".join([*record, f"{dist_info}/RECORD,,"]))
    return path


@pytest.fixture
def wheels(tmp_path: Path) -> list[Path]:
    src = tmp_path / "wheels"
    src.mkdir()
    tool = write_wheel(src, "c2d_tool-1.0-py3-none-any.whl", {
        "c2d_tool/__init__.py": "def main():\n    print('c2d-tool runs')\n    return 0\n",
        "c2d_tool-1.0.data/data/share/jupyter/labextensions/c2d/package.json": "{}",
        "c2d_tool-1.0.data/data/etc/jupyter/jupyter_server_config.d/c2d_tool.json":
            json.dumps({"ServerApp": {"jpserver_extensions": {"c2d_tool": True}}}),
        "c2d_tool-1.0.data/scripts/c2d-legacy": "#!python\nprint('legacy script')\n",
        "c2d_tool-1.0.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: C2D_Tool\nVersion: 1.0\n"
            "Requires-Dist: c2d-lib[fast]>=2.0\n"
            "Requires-Dist: typing-extensions>=4; python_version < '3.13'\n"
            "Requires-Dist: tomli; python_version < '3.11'\n"
            "Requires-Dist: pywin32; sys_platform == 'win32'\n"
            "Requires-Dist: pytest; extra == 'test'\n"),
        "c2d_tool-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n",
        "c2d_tool-1.0.dist-info/entry_points.txt":
            "[console_scripts]\nc2d-tool = c2d_tool:main\n",
    }, executable=frozenset({"c2d_tool-1.0.data/scripts/c2d-legacy"}))
    lib = write_wheel(src, "c2d_lib-2.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", {
        "c2d_lib/__init__.py": "",
        "c2d_lib-2.1.dist-info/METADATA": (
            "Metadata-Version: 2.1\nName: c2d-lib\nVersion: 2.1\n"
            "Requires-Dist: packaging\nRequires-Dist: typing_extensions; extra == 'fast'\n"),
        "c2d_lib-2.1.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n",
    })
    typing = write_wheel(src, "typing_extensions-4.16.0-py3-none-any.whl", {
        "typing_extensions.py": "",
        "typing_extensions-4.16.0.dist-info/METADATA":
            "Metadata-Version: 2.1\nName: typing_extensions\nVersion: 4.16.0\n",
    })
    return [tool, lib, typing]


def convert(wheels: list[Path], out: Path) -> dict[str, Path]:
    work = out / "work"
    work.mkdir(parents=True)
    built = convert_wheels(wheels, out, work, python="3.11", provided=["packaging"],
                           timestamp=_ASSEMBLE_TIMESTAMP)
    return {p.name.rsplit("-", 2)[0]: p for p in built}


def test_layout_depends_and_entry_points(wheels: list[Path], tmp_path: Path) -> None:
    from rattler.package_streaming import extract

    built = convert(wheels, tmp_path / "out")
    assert sorted(built) == ["c2d-lib", "c2d-tool", "typing_extensions"]  # conda names
    assert built["c2d-tool"].name == "c2d-tool-1.0-py311_0.conda"
    assert built["c2d-tool"].parent.name == "linux-64"
    prefix = tmp_path / "prefix"
    for package in built.values():
        extract(package, prefix)
    index = json.loads((prefix / "info" / "index.json").read_text())  # the last one extracted
    assert index["name"] == "typing_extensions" and index["depends"] == ["python 3.11.*"]

    site = prefix / "lib" / "python3.11" / "site-packages"
    assert (site / "c2d_tool" / "__init__.py").is_file()
    assert (prefix / "share/jupyter/labextensions/c2d/package.json").is_file()
    assert (prefix / "etc/jupyter/jupyter_server_config.d/c2d_tool.json").is_file()
    assert not list(prefix.rglob("*.data"))
    dist_info = site / "c2d_tool-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "conda\n"
    record = (dist_info / "RECORD").read_text().splitlines()
    assert any(r.startswith("../../../bin/c2d-tool,sha256=") for r in record)
    assert any(r.startswith("../../../etc/jupyter/jupyter_server_config.d/c2d_tool.json,") for r in record)
    assert any(r.startswith("c2d_tool/__init__.py,sha256=") for r in record)

    # The scripts run with the python next to them, wherever the prefix is.
    (prefix / "bin" / "python").symlink_to(sys.executable)
    env = {**os.environ, "PYTHONPATH": str(site)}
    for command, expected in (("c2d-tool", "c2d-tool runs"), ("c2d-legacy", "legacy script")):
        script = prefix / "bin" / command
        assert script.read_text().startswith(LAUNCHER)
        assert os.access(script, os.X_OK)
        done = subprocess.run([str(script)], capture_output=True, text=True, env=env, check=False)
        assert (done.returncode, done.stdout.strip()) == (0, expected), done.stderr


def test_depends_from_requires_dist(wheels: list[Path], tmp_path: Path) -> None:
    from rattler.package_streaming import extract

    built = convert(wheels, tmp_path / "out")
    depends = {}
    for name in ("c2d-tool", "c2d-lib"):
        dest = tmp_path / name
        extract(built[name], dest)
        depends[name] = json.loads((dest / "info" / "index.json").read_text())["depends"]
    # Markers for CPython 3.11 on linux: tomli (<3.11), pywin32 and the `test` extra are out;
    # c2d-lib[fast] brings what its `fast` extra needs (typing-extensions, conda's name).
    assert depends["c2d-tool"] == ["c2d-lib >=2.0", "python 3.11.*", "typing_extensions >=4"]
    assert depends["c2d-lib"] == ["__glibc >=2.17", "packaging", "python 3.11.*"]


def test_output_is_byte_identical_and_holes_are_named(wheels: list[Path], tmp_path: Path) -> None:
    first = convert(wheels, tmp_path / "one")
    second = convert(wheels, tmp_path / "two")
    assert {n: p.read_bytes() for n, p in first.items()} == {
        n: p.read_bytes() for n, p in second.items()}
    with pytest.raises(ValueError, match=r"c2d-lib \(of c2d-tool\)"):
        convert_wheels(wheels[:1], tmp_path / "three", tmp_path, python="3.11")


def test_wheel_metadata_and_entry_point_scripts(wheels: list[Path]) -> None:
    lib = read_wheel(wheels[1])
    assert (lib.name, lib.version, lib.min_glibc, lib.conda_name) == ("c2d-lib", "2.1", "2.17",
                                                                       "c2d-lib")
    assert read_wheel(wheels[0]).min_glibc is None
    script = entry_point_script("jupyter_core.command:main")
    assert "from jupyter_core.command import main\n" in script
    assert "sys.exit(main())" in script
    assert "sys.exit(App.launch())" in entry_point_script("pkg.app:App.launch")
    with pytest.raises(ValueError, match="not module:attr"):
        entry_point_script("pkg")


def test_markers_use_the_full_python_version_and_ranges_combine() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from support.wheel_conda import Wheel, conda_depends

    requires = ("foo>=1", "foo<3,>=1; python_version >= '3'",
                "bar; python_full_version < '3.11.3'", "baz; platform_machine == 'aarch64'")
    wheel = Wheel(Path("x-1-py3-none-any.whl"), canonicalize_name("x"), "1",
                  tuple(map(Requirement, requires)), None)
    assert conda_depends(wheel, {}, "3.11.7") == ["foo >=1,<3", "python 3.11.*"]
    assert conda_depends(wheel, {}, "3.11") == ["bar", "foo >=1,<3", "python 3.11.*"]
