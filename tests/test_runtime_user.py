"""The runtime user's script (``plan.runtime.user_commands``) run by ``/bin/sh`` as a build runs
it, against a base image's account database, without an engine.

The account tools (``getent``, ``groupadd``, ``groupmod``, ``useradd``, ``usermod``,
``install``) are stand-ins that read and change ``passwd``/``group`` files of the test's own
and record each call, so what the script does to a base image is seen call by call: a plain
image gets a new system user, ubuntu:24.04's login account with the same UID is adopted, a
system account or root is refused with the message the build log shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conda2docker.image import home_dir, work_dir
from conda2docker.plan.runtime import jupyter_command, user_commands
from fixtures.audit.cases import PLATFORM, cpkg, lock

DEBIAN_PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
                 "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
                 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
DEBIAN_GROUP = "root:x:0:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n"
# ubuntu:24.04 ships the login account `ubuntu` (UID and GID 1000)
UBUNTU_PASSWD = DEBIAN_PASSWD + "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n"
UBUNTU_GROUP = DEBIAN_GROUP + "ubuntu:x:1000:\n"

_LOOKUP = """#!/bin/sh
# getent passwd|group NAME-OR-ID, from the test's files
awk -F: -v k="$2" '$1 == k || $3 == k { print; found = 1; exit } END { exit !found }' "$DB/$1"
"""
_RECORD = """#!/bin/sh
echo "$(basename "$0") $*" >> "$DB/calls"
"""
# usermod --login NEW OLD and groupmod --new-name NEW OLD rename the entry; useradd/groupadd add it
_RENAME = """#!/bin/sh
echo "$(basename "$0") $*" >> "$DB/calls"
file=passwd; [ "$(basename "$0")" = groupmod ] && file=group
if [ "$1" = --login ] || [ "$1" = --new-name ]; then
  awk -F: -v OFS=: -v old="$3" -v new="$2" '$1 == old { $1 = new } { print }' "$DB/$file" > "$DB/$file.new"
  mv "$DB/$file.new" "$DB/$file"
fi
"""
_ADD = """#!/bin/sh
echo "$(basename "$0") $*" >> "$DB/calls"
for last; do :; done
if [ "$(basename "$0")" = useradd ]; then echo "$last:x:0:0::/:/bin/sh" >> "$DB/passwd";
else echo "$last:x:0:" >> "$DB/group"; fi
"""


def _run(tmp_path: Path, passwd: str, group: str, uid: str, gid: str,
         user: str = "app") -> tuple[int, str, list[str]]:
    """Exit code, standard error and the account tools' calls of the script in that image."""
    db = tmp_path / "db"
    bin_dir = tmp_path / "bin"
    for folder in (db, bin_dir):
        folder.mkdir()
    (db / "passwd").write_text(passwd)
    (db / "group").write_text(group)
    (db / "calls").write_text("")
    for name, body in (("getent", _LOOKUP), ("usermod", _RENAME), ("groupmod", _RENAME),
                       ("useradd", _ADD), ("groupadd", _ADD), ("install", _RECORD)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    script = " && ".join(shell.text for shell in user_commands(user, work_dir(user)))
    tools = os.pathsep.join(str(Path(shutil.which(t) or "/bin").parent) for t in ("awk", "mv"))
    result = subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, text=True, check=False, timeout=60,
        env={"PATH": f"{bin_dir}{os.pathsep}{tools}", "DB": str(db), "APP_UID": uid, "APP_GID": gid})
    return result.returncode, result.stderr, (db / "calls").read_text().splitlines()


@pytest.fixture(autouse=True)
def _needs_tools() -> None:
    if not (Path("/bin/sh").exists() and shutil.which("awk")):
        pytest.skip("needs /bin/sh and awk")


def test_a_plain_image_gets_a_system_user_with_its_home_and_workdir(tmp_path: Path) -> None:
    code, err, calls = _run(tmp_path, DEBIAN_PASSWD, DEBIAN_GROUP, "10001", "10001")
    assert (code, err) == (0, "")
    assert calls == [
        "groupadd --system --gid 10001 app",
        f"useradd --system --uid 10001 --gid 10001 --home-dir {home_dir('app')} --create-home "
        "--shell /usr/sbin/nologin app",
        f"install -d -o 10001 -g 10001 {work_dir('app')}",
    ]


def test_an_existing_group_with_the_gid_is_reused(tmp_path: Path) -> None:
    """``APP_GID=100`` is Debian's ``users``: no group is added, the user joins it."""
    code, _, calls = _run(tmp_path, DEBIAN_PASSWD, DEBIAN_GROUP, "10001", "100")
    assert code == 0
    assert calls[0].startswith("useradd --system --uid 10001 --gid 100 ")


def test_ubuntus_login_account_with_the_uid_is_adopted_not_duplicated(tmp_path: Path) -> None:
    """``APP_UID=$(id -u)`` is 1000 on most desktops, ubuntu's own account in ubuntu:24.04: it
    becomes the user (renamed, its group with it, moved to the user's home)."""
    code, err, calls = _run(tmp_path, UBUNTU_PASSWD, UBUNTU_GROUP, "1000", "1000")
    assert (code, err) == (0, "")
    assert calls == [
        "groupmod --new-name app ubuntu",
        "usermod --login app ubuntu",
        f"usermod --uid 1000 --gid 1000 --home {home_dir('app')} --move-home "
        "--shell /usr/sbin/nologin app",
        f"install -d -o 1000 -g 1000 {work_dir('app')}",
    ]


@pytest.mark.parametrize(("uid", "gid"), [("0", "10001"), ("10001", "0"), ("root", "10001"), ("", "")])
def test_root_or_no_number_is_refused_with_the_reason(tmp_path: Path, uid: str, gid: str) -> None:
    code, err, calls = _run(tmp_path, DEBIAN_PASSWD, DEBIAN_GROUP, uid, gid)
    assert (code, err, calls) == (1, "APP_UID and APP_GID must be numbers above 0 (0 is root)\n", [])


@pytest.mark.parametrize(("uid", "account"), [("33", "www-data"), ("65534", "nobody")])
def test_a_system_account_with_the_uid_is_refused_not_taken_over(tmp_path: Path, uid: str,
                                                                  account: str) -> None:
    code, err, calls = _run(tmp_path, DEBIAN_PASSWD, DEBIAN_GROUP, uid, "10001")
    assert (code, calls) == (1, [])
    assert err == f"APP_UID {uid} is the system account {account} of the base image: pass another APP_UID\n"


@pytest.mark.parametrize(
    ("packages", "app"),
    [
        (("jupyterlab", "notebook"), "lab"),
        (("notebook",), "notebook"),
        (("jupyter",), "notebook"),   # the metapackage: classic notebook server
        (("ipykernel",), None),
    ],
)
def test_the_default_command_is_the_jupyter_server_the_lock_holds(
    packages: tuple[str, ...], app: str | None
) -> None:
    """An image whose lock holds JupyterLab starts `jupyter lab`; one with only `notebook` or
    the `jupyter` metapackage starts `jupyter notebook` (an image started with `lab` without
    JupyterLab exits at once); with neither there is no Jupyter command."""
    locked = lock(*(cpkg(name, "1.0") for name in packages))
    command = jupyter_command(locked, PLATFORM, "/opt/env", "/home/app/work")
    if app is None:
        assert command is None
    else:
        assert command is not None
        assert command[:2] == ("/opt/env/bin/jupyter", app)
