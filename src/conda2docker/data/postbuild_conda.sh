#!/bin/sh
# `mamba`, `conda` and `micromamba` while a repository's postBuild runs (written by
# `conda2docker init`; not in the image's PATH afterwards).
#
# The image holds one locked environment, $CONDA_PREFIX. init read postBuild's
# `mamba|conda install PKG...` lines and locked those packages into it (one solve, hash-checked),
# so here `install` only checks they are there, and fails naming any that is not (a line init
# could not read: list its packages in the environment file). `clean` has nothing to clean;
# `list` lists the environment.
prefix=${CONDA_PREFIX:-/opt/env}
tool=${0##*/}

say() { printf '%s\n' "conda2docker ($tool): $*" >&2; }

installed() {
    for meta in "$prefix"/conda-meta/"$1"-*.json; do
        [ -e "$meta" ] || continue
        rest=${meta#"$prefix/conda-meta/$1"-}
        case $rest in
            *-*-*) continue ;;  # another package whose name starts with "$1-"
            *-*.json) return 0 ;;
        esac
    done
    return 1
}

spec_name() {
    name=${1#*::}
    name=${name%%[=<>!~ \[]*}
    printf '%s' "$name" | tr '[:upper:]' '[:lower:]'
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
    install | update | upgrade)
        missing=""
        found=""
        while [ $# -gt 0 ]; do
            case $1 in
                -c | --channel | -n | --name | -p | --prefix | -r | --root-prefix) shift ;;
                --file)
                    say "--file: init cannot read it; list its packages in the environment file"
                    exit 1 ;;
                -*) ;;
                *)
                    name=$(spec_name "$1")
                    if installed "$name"; then found="$found $name"; else missing="$missing $name"; fi ;;
            esac
            [ $# -gt 0 ] && shift
        done
        if [ -n "$missing" ]; then
            say "not in the locked environment $prefix:$missing"
            say "init locks the packages of the install lines it can read; add these to the environment file"
            exit 1
        fi
        say "already in the locked environment $prefix:${found:- (nothing asked)}"
        ;;
    clean)
        say "nothing to clean (the environment was installed without a package cache)" ;;
    list)
        for meta in "$prefix"/conda-meta/*.json; do
            [ -e "$meta" ] || continue
            base=${meta##*/}
            base=${base%.json}
            build=${base##*-}
            rest=${base%-*}
            printf '%s %s %s\n' "${rest%-*}" "${rest##*-}" "$build"
        done ;;
    --version | -V | version)
        printf '%s\n' "conda2docker-postbuild-check (no installer: the environment is locked)" ;;
    *)
        say "'$command' is not available while postBuild runs: the image holds one locked environment, $prefix, already on PATH"
        exit 2 ;;
esac
