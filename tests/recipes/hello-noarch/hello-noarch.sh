#!/bin/sh
# hello-noarch: runs chello from the same prefix, then prints its own line.
set -e
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
"$here/chello"
echo "hello from hello-noarch @VERSION@"
