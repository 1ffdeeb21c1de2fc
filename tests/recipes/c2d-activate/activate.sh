#!/bin/sh
# Keeps what was set before (bookkeeping, as conda-forge's scripts do), then sets its data
# directory only where it exists, a fixed value, and extends a list variable.
if [ -n "${C2D_ACTIVATE_DATA:-}" ]; then
    export _CONDA_SET_C2D_ACTIVATE_DATA="$C2D_ACTIVATE_DATA"
fi
if [ -d "${CONDA_PREFIX}/share/c2d-activate" ]; then
    export C2D_ACTIVATE_DATA="${CONDA_PREFIX}/share/c2d-activate"
fi
if [ -d "${CONDA_PREFIX}/share/c2d-activate/plugins" ]; then
    export C2D_ACTIVATE_PLUGINS="${CONDA_PREFIX}/share/c2d-activate/plugins"
fi
export C2D_ACTIVATE_ENCODING=UTF-8
export C2D_ACTIVATE_CATALOGS="${C2D_ACTIVATE_CATALOGS:+${C2D_ACTIVATE_CATALOGS} }file://${CONDA_PREFIX}/etc/c2d-catalog"
