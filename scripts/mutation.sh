#!/usr/bin/env bash
# scripts/mutation.sh - mutation testing of conda2docker's safety-critical modules (issue 16).
#
#   bash scripts/mutation.sh            run (or resume) mutmut, then write docs/mutation.md
#   bash scripts/mutation.sh --report   only rewrite docs/mutation.md from the last run
#   bash scripts/mutation.sh --fresh    forget earlier results (rm -rf mutants/) first
#
# Not part of CI: a full run takes an hour or more on 2 cores. The modules mutated and the
# lines left alone (message text only) are configured under [tool.mutmut] in pyproject.toml.
# mutmut runs the tests from a copy of the tree (mutants/), where ../shared is not beside the
# checkout: CONDA2DOCKER_SHARED points the tests at it, and C2D_REQUIRE_SHARED=1 turns a
# missing ../shared into a failure instead of a silent skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

export CONDA2DOCKER_SHARED="${CONDA2DOCKER_SHARED:-$(cd "$REPO/.." && pwd)/shared}"
export C2D_REQUIRE_SHARED=1
[[ -d "$CONDA2DOCKER_SHARED" ]] || {
    echo "mutation.sh: ERROR: $CONDA2DOCKER_SHARED is absent; the corpus and lock tests need it" >&2
    exit 2
}
python -c 'import mutmut' 2>/dev/null || python -m pip install -q 'mutmut==3.8.1'

mode=run
case "${1:-}" in
--report) mode=report ;;
--fresh) rm -rf mutants ;;
"") ;;
*) echo "usage: $0 [--report|--fresh]" >&2; exit 2 ;;
esac

if [[ $mode == run ]]; then
    start=$EPOCHREALTIME
    mutmut run || true   # survivors make mutmut exit non-zero; the report says what survived
    awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d\n", b - a }' >mutants/.c2d-seconds
fi
python scripts/mutation_report.py --seconds-file mutants/.c2d-seconds --out docs/mutation.md
echo "wrote docs/mutation.md"
