#!/usr/bin/env bash
# install_wheel.sh PIP_WHEEL TARGET...: shared build step of the noarch: python test recipes.
# Installs TARGET (wheels or a source directory) into $PREFIX with pip run straight from its
# wheel (no pip needed in the host env), then leaves entry points to the conda installer.
set -euo pipefail
pip_wheel=$1
shift
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
before=$(ls -A "$PREFIX/bin")
"$PYTHON" "$pip_wheel/pip" install --no-deps --no-index --no-build-isolation --no-compile \
    --no-warn-script-location --ignore-installed --root-user-action=ignore "$@"
# Console scripts are generated at install time from build.python.entry_points: drop pip's.
for f in $(ls -A "$PREFIX/bin"); do
    if ! grep -qxF "$f" <<<"$before"; then rm -f "$PREFIX/bin/$f"; fi
done
site=$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
for d in "$site"/*.dist-info; do
    rm -f "$d/direct_url.json" "$d/REQUESTED"
    echo conda > "$d/INSTALLER"
done
