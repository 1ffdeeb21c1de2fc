#!/usr/bin/env bash
# scripts/mutation.sh - mutation testing of conda2docker's safety-critical modules (issue 16).
#
#   bash scripts/mutation.sh            run (or resume) mutmut, then write docs/mutation.md
#   bash scripts/mutation.sh --report   only rewrite docs/mutation.md from the last run's verdicts
#   bash scripts/mutation.sh --fresh    forget earlier results (mutants/, benchmarks/mutation/) first
#   bash scripts/mutation.sh --only NAME...  check only the named mutants (globs allowed)
#
# Not part of CI: a full run takes hours on 2 cores (it resumes from benchmarks/mutation/, on any
# machine). The modules mutated and the lines left alone (message text only) are configured
# under [tool.mutmut] in pyproject.toml.
# mutmut runs the tests from a copy of the tree (mutants/), where ../shared is not beside the
# checkout: CONDA2DOCKER_SHARED points the tests at it, and C2D_REQUIRE_SHARED=1 turns a
# missing ../shared into a failure instead of a silent skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD

export CONDA2DOCKER_SHARED="${CONDA2DOCKER_SHARED:-$(cd "$REPO/.." && pwd)/shared}"
export C2D_REQUIRE_SHARED=1
export C2D_MUTATION=1   # tests/conftest.py: hypothesis without deadline or shrinking
[[ -d "$CONDA2DOCKER_SHARED" ]] || {
    echo "mutation.sh: ERROR: $CONDA2DOCKER_SHARED is absent; the corpus and lock tests need it" >&2
    exit 2
}
python -c 'import mutmut' 2>/dev/null || python -m pip install -q 'mutmut==3.8.1'

mode=run
case "${1:-}" in
--report) mode=report ;;
--fresh) rm -rf mutants; python scripts/mutation_state.py forget; shift ;;
--only) mode=only; shift ;;
"") ;;
*) echo "usage: $0 [--report|--fresh|--only MUTANT_NAME...]" >&2; exit 2 ;;
esac

# Mutants must not write into the user's cache (~/.cache/conda2docker: bootstrap pythons, wheels,
# index answers): the run gets its own, a hard-linked copy of the user's (cheap; every writer in
# conda2docker writes a new file and renames it, so a link is never written through).
export CONDA2DOCKER_CACHE="$REPO/mutants/.c2d-cache"
user_cache="${XDG_CACHE_HOME:-$HOME/.cache}/conda2docker"
if [[ $mode != report && ! -d $CONDA2DOCKER_CACHE ]]; then
    mkdir -p mutants
    if [[ -d $user_cache ]]; then cp -al "$user_cache" "$CONDA2DOCKER_CACHE"; else mkdir "$CONDA2DOCKER_CACHE"; fi
fi

# The verdicts are kept in benchmarks/mutation/verdicts.json (tracked), saved each minute of a
# run: on a new machine, mutants/ is seeded from them and only the mutants of functions changed
# since (mutmut compares a hash of each function's source) are checked again. --report seeds
# too, so that a fresh clone writes the report from them without a run.
STATE=benchmarks/mutation
mkdir -p "$STATE"
python scripts/mutation_state.py seed

# mutmut copies src/ into mutants/ only once (an existing file is kept): a data file changed
# since (src/conda2docker/data/*.json) must be brought over, or a resumed run tests stale data.
if [[ $mode != report && -d mutants/src ]]; then
    (cd src && find . -type f ! -name '*.py' ! -name '*.pyc' -print0) |
        while IFS= read -r -d '' f; do
            cmp -s "src/$f" "mutants/src/$f" || { mkdir -p "$(dirname "mutants/src/$f")"; cp -p "src/$f" "mutants/src/$f"; }
        done
fi

# mutmut selects a mutant's tests by node id, in a process that has collected the suite before:
# an id that changes when collected a second time (pytest escapes ids=repr backslashes again)
# is "not found", and mutmut then counts the mutant as a timeout, i.e. as detected. Refuse to run.
if [[ $mode != report ]]; then
    python - <<'PY'
import contextlib, io, sys
import pytest

def ids() -> set[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pytest.main(["-q", "-p", "no:cacheprovider", "--collect-only", "-m", "not engine and not network", "tests"])
    return {line for line in out.getvalue().splitlines() if "::" in line}

first, second = ids(), ids()
unstable = sorted(first ^ second)
if unstable:
    print(f"mutation.sh: ERROR: {len(unstable)} test ids change when collected again, e.g. {unstable[0]}; "
          "fix: give their parametrize ids without backslashes", file=sys.stderr)
    sys.exit(2)
PY
fi

if [[ $mode != report ]]; then
    # The machine is shared: the 1-minute load average, sampled each minute, goes in the report.
    # The verdicts are saved each minute too: a run cut off keeps what it had checked.
    (while :; do
        cut -d' ' -f1 /proc/loadavg >>"$STATE/load.txt"
        python scripts/mutation_state.py save >/dev/null 2>&1 || true
        sleep 60
    done) &
    sampler=$!
    trap 'kill "$sampler" 2>/dev/null || true' EXIT
    start=$EPOCHREALTIME
    # survivors make mutmut exit non-zero; the report says what survived
    if [[ $mode == run ]]; then mutmut run || true; kind=""; else mutmut run "$@" || true; kind=" selected"; fi
    # A run stopped and resumed is several segments; the report adds them up.
    awk -v a="$start" -v b="$EPOCHREALTIME" -v c="$(git rev-parse --short HEAD)" -v k="$kind" \
        'BEGIN { printf "%d %s%s\n", b - a, c, k }' >>"$STATE/segments.txt"
fi
[[ $mode == report ]] || python scripts/mutation_state.py save
python scripts/mutation_report.py --out docs/mutation.md
echo "wrote docs/mutation.md"
