#!/bin/sh
# Run by the installer after linking (conda, micromamba and rattler with link scripts do).
echo "post-link of ${PKG_NAME} ${PKG_VERSION} ran" > "${PREFIX}/share/c2d-activate/post-link.txt"
