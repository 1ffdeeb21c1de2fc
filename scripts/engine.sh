#!/usr/bin/env bash
# scripts/engine.sh up|down|status
#
# A local Docker engine for conda2docker's tests and CI, plus the local base images
# that generated Dockerfiles name (Docker Hub is unreachable here, so nothing is pulled).
#
#   up      install docker.io + debootstrap if missing, start dockerd unless an engine
#           already answers (then it is left alone and recorded as "reused"), and make
#           sure the cached base images exist:
#             debian:bookworm-slim      (= conda2docker-ci/debian-minbase:bookworm)
#                                       debootstrap --variant=minbase, rootfs tarball cached
#             buildpack-deps:bookworm   (= conda2docker-ci/buildpack-deps:bookworm)
#                                       FROM debian:bookworm-slim + gcc, g++, make,
#                                       libc6-dev, dpkg-dev, git, ca-certificates (like the
#                                       public image: no build-essential metapackage);
#                                       `docker save` cached
#             nvidia/cuda:13.0.2-{devel,runtime}-ubuntu22.04
#                                       CUDA 13.0 stand-ins from NVIDIA's PyPI wheels (see
#                                       "CUDA stand-ins" below); `docker save` cached;
#                                       C2D_CUDA_STANDINS=0 skips them
#   down    stop the dockerd that `up` started (by its recorded pid, never by name) and
#           wait for it to exit; an engine `up` merely reused is left running.
#   status  engine, ownership, images and caches.
#   cuda-standins  (internal, run by `up` under its lock) make the CUDA stand-in images.
#
# Environment:
#   C2D_STATE           state dir (default /var/tmp/conda2docker-ci): dockerd.log,
#                       dockerd.pid, rootfs tarball, image caches, lock.
#   C2D_ENGINE_RECEIPT  where `up` records what it did and `down` reads it
#                       (default $C2D_STATE/up.receipt). CI uses its own receipt so it
#                       never stops an engine somebody else started.
#   C2D_ENGINE_TIMEOUT  seconds to wait for the socket to answer (default 60).
#   C2D_DEBIAN_MIRROR   override the mirror (default: the one apt uses on this host).
set -euo pipefail

STATE="${C2D_STATE:-/var/tmp/conda2docker-ci}"
RECEIPT="${C2D_ENGINE_RECEIPT:-$STATE/up.receipt}"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
START_TIMEOUT="${C2D_ENGINE_TIMEOUT:-60}"
SOCK=/var/run/docker.sock

SUITE=bookworm
BASE_TAG=debian:bookworm-slim
BASE_ALIAS=conda2docker-ci/debian-minbase:bookworm
BUILD_TAG=buildpack-deps:bookworm
BUILD_ALIAS=conda2docker-ci/buildpack-deps:bookworm
ROOTFS_TAR="$STATE/debian-minbase-$SUITE.tar"

# Everything this script does targets the local engine on the default socket.
if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix://$SOCK" ]]; then
    echo "[engine] note: DOCKER_HOST=$DOCKER_HOST is ignored here; this script manages unix://$SOCK" >&2
fi
export DOCKER_HOST="unix://$SOCK"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
DIED=0
die() {
    printf 'engine.sh: ERROR: %s\n' "$*" >&2
    DIED=1
    exit 1
}
# Any other failure (set -e) also ends with one "engine.sh: ERROR:" line naming the command,
# which .ci/run passes on as the reason the engine tests skip.
set -E
FAILED_CMD=""
FAILED_LINE=""
trap 'FAILED_CMD=$BASH_COMMAND FAILED_LINE=$LINENO' ERR
on_exit() {
    local rc=$?
    if ((rc != 0 && !DIED)) && [[ -n "$FAILED_CMD" ]]; then
        printf "engine.sh: ERROR: line %s: '%s' failed (exit %s)\n" "$FAILED_LINE" "$FAILED_CMD" "$rc" >&2
    fi
}
trap on_exit EXIT
now() { printf '%s' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# The docker client: Debian's (20.10, matches the daemon's API 1.41) when present.
docker_cli() {
    if [[ -x /usr/bin/docker ]]; then
        /usr/bin/docker "$@"
    elif command -v docker >/dev/null 2>&1; then
        docker "$@"
    else
        die "no docker client (install docker.io)"
    fi
}

# Does an engine answer on the socket? (docker version via a client, else a python ping)
engine_answers() {
    [[ -S "$SOCK" ]] || return 1
    if [[ -x /usr/bin/docker ]]; then
        timeout 15 /usr/bin/docker version >/dev/null 2>&1
        return
    fi
    timeout 15 python3 - "$SOCK" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
sys.exit(0 if data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0] else 1)
EOF
}

proc_start() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null || true; }

# Is "pid start" (as recorded) still the very dockerd we started?
is_our_dockerd() {
    local pid="$1" start="$2"
    [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
    [[ "$(proc_start "$pid")" == "$start" ]]
}

pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

ensure_packages() {
    local missing=() p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    if ((${#missing[@]} == 0)); then
        log "packages present: $*"
        return 0
    fi
    is_root || die "packages missing (${missing[*]}) and installing them needs root (uid $(id -u))"
    local t
    t=$(now)
    log "installing ${missing[*]} (apt-get update first)"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    log "timing: install ${missing[*]}: $(since "$t")"
}

# The Debian mirror apt uses on this host, for suite $SUITE (deb822 .sources or one-line .list).
debian_mirror() {
    if [[ -n "${C2D_DEBIAN_MIRROR:-}" ]]; then
        printf '%s\n' "$C2D_DEBIAN_MIRROR"
        return 0
    fi
    local f uri=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        uri=$(awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($i ~ /^https?:\/\// && $(i + 1) == suite) { print $i; exit }
            }' "$f")
        [[ -n "$uri" ]] && break
    done
    if [[ -z "$uri" ]]; then
        for f in /etc/apt/sources.list.d/*.sources; do
            [[ -f "$f" ]] || continue
            uri=$(awk -v suite="$SUITE" '
                function flush(   u) {
                    if (!found && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" \
                        && (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
                        split(uris, u, /[ \t]+/)
                        if (u[1] ~ /^https?:\/\//) { print u[1]; found = 1 }
                    }
                    types = suites = uris = enabled = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                {
                    key = tolower($1); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                    if (key == "types:") types = val
                    else if (key == "uris:") uris = val
                    else if (key == "suites:") suites = val
                    else if (key == "enabled:") enabled = tolower(val)
                }
                END { flush() }' "$f")
            [[ -n "$uri" ]] && break
        done
    fi
    [[ -n "$uri" ]] || die "no http(s) Debian mirror for '$SUITE' in /etc/apt/sources.list{,.d/*}; set C2D_DEBIAN_MIRROR"
    printf '%s\n' "${uri%/}"
}

write_receipt() { mkdir -p "$(dirname "$RECEIPT")" && printf '%s\n' "$*" >"$RECEIPT"; }

start_engine() {
    local t pid start
    t=$(now)
    if engine_answers; then
        local prev="" ppid="" pstart=""
        [[ -f "$RECEIPT" ]] && read -r prev ppid pstart <"$RECEIPT" || true
        if [[ "$prev" == started ]] && is_our_dockerd "$ppid" "$pstart"; then
            log "engine already running, started by an earlier 'up' with this receipt (dockerd pid $ppid); still ours"
        else
            log "engine already running and answering on $SOCK: leaving it alone (not started by this 'up'; receipt $RECEIPT)"
            write_receipt "reused $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        fi
        return 0
    fi

    # A dockerd we started earlier that is still coming up: wait for it instead of starting another.
    if [[ -f "$PIDFILE" ]]; then
        read -r pid start <"$PIDFILE" || true
        if is_our_dockerd "${pid:-}" "${start:-}"; then
            log "dockerd pid $pid (started by engine.sh) is alive but not answering yet; waiting"
            wait_for_engine "$pid" "$t"
            write_receipt "started $pid $start"
            return 0
        fi
        rm -f "$PIDFILE"
    fi

    is_root || die "no engine answers on $SOCK and starting dockerd needs root (uid $(id -u))"
    command -v dockerd >/dev/null 2>&1 || die "dockerd not found (docker.io not installed?)"
    if [[ -f /var/run/docker.pid ]]; then
        local other
        other=$(cat /var/run/docker.pid 2>/dev/null || true)
        if [[ -n "$other" && -d "/proc/$other" ]]; then
            die "a dockerd (pid $other, /var/run/docker.pid) runs but does not answer on $SOCK; not starting a second one"
        fi
    fi
    [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
    log "starting dockerd (log $LOG)"
    # setsid: own session, so the daemon outlives the calling shell / CI job group.
    # 9>&-: the daemon must not inherit (and so hold forever) the state lock on fd 9.
    setsid dockerd </dev/null >"$LOG" 2>&1 9>&- &
    pid=$!
    sleep 0.2
    start=$(proc_start "$pid")
    printf '%s %s\n' "$pid" "$start" >"$PIDFILE"
    write_receipt "started $pid $start"
    wait_for_engine "$pid" "$t"
    log "timing: start dockerd: $(since "$t") (pid $pid, $(docker_cli version --format '{{.Server.Version}} API {{.Server.APIVersion}}' 2>/dev/null || echo '?'))"
}

wait_for_engine() {
    local pid="$1" t="$2"
    local deadline=$((SECONDS + START_TIMEOUT))
    until engine_answers; do
        if [[ ! -d "/proc/$pid" ]]; then
            echo "---- tail of $LOG ----" >&2
            tail -n 30 "$LOG" >&2 || true
            rm -f "$PIDFILE" "$RECEIPT"
            die "dockerd (pid $pid) exited before answering on $SOCK"
        fi
        if ((SECONDS >= deadline)); then
            echo "---- tail of $LOG ----" >&2
            tail -n 30 "$LOG" >&2 || true
            die "dockerd (pid $pid) did not answer on $SOCK within ${START_TIMEOUT}s; it is left running (stop it with: scripts/engine.sh down)"
        fi
        sleep 0.5
    done
}

image_exists() { docker_cli image inspect --format '{{.Id}}' "$1" >/dev/null 2>&1; }

ensure_base_image() {
    local t
    t=$(now)
    if image_exists "$BASE_ALIAS" && image_exists "$BASE_TAG"; then
        log "image $BASE_TAG present (cached)"
    elif image_exists "$BASE_ALIAS"; then
        docker_cli tag "$BASE_ALIAS" "$BASE_TAG"
        log "image $BASE_TAG tagged from $BASE_ALIAS"
    elif image_exists "$BASE_TAG"; then
        docker_cli tag "$BASE_TAG" "$BASE_ALIAS"
        log "image $BASE_TAG present (not made here); tagged $BASE_ALIAS"
    else
        if [[ ! -s "$ROOTFS_TAR" ]]; then
            build_rootfs_tar
        else
            log "rootfs tarball cached: $ROOTFS_TAR"
        fi
        local t2
        t2=$(now)
        docker_cli import --change 'CMD ["bash"]' \
            --message "conda2docker-ci: debootstrap --variant=minbase $SUITE" \
            - "$BASE_ALIAS" <"$ROOTFS_TAR" >/dev/null ||
            die "docker import of $ROOTFS_TAR failed (is the engine healthy? see $LOG)"
        docker_cli tag "$BASE_ALIAS" "$BASE_TAG"
        log "timing: docker import $BASE_ALIAS: $(since "$t2")"
    fi
    log "timing: base image $BASE_TAG: $(since "$t")"
}

build_rootfs_tar() {
    local t mirror tmp
    is_root || die "debootstrap needs root (uid $(id -u))"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap not installed"
    mirror=$(debian_mirror)
    tmp="$STATE/rootfs.tmp"
    rm -rf "$tmp" "$ROOTFS_TAR.tmp"
    t=$(now)
    log "debootstrap --variant=minbase $SUITE from $mirror (about 30 s)"
    if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$STATE/debootstrap.log" 2>&1; then
        tail -n 20 "$STATE/debootstrap.log" >&2 || true
        rm -rf "$tmp"
        die "debootstrap failed (log $STATE/debootstrap.log)"
    fi
    log "timing: debootstrap: $(since "$t")"
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/*
    mkdir -p "$tmp/var/lib/apt/lists/partial"
    : >"$tmp/etc/resolv.conf"
    t=$(now)
    tar --numeric-owner -C "$tmp" -cf "$ROOTFS_TAR.tmp" .
    mv -f "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    printf 'suite=%s variant=minbase mirror=%s created=%s\n' "$SUITE" "$mirror" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$ROOTFS_TAR.info"
    rm -rf "$tmp"
    log "timing: rootfs tarball $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1)): $(since "$t")"
}

build_dockerfile() {
    cat <<EOF
FROM $BASE_TAG
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        gcc g++ make libc6-dev dpkg-dev git ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
LABEL org.opencontainers.image.description="conda2docker CI stand-in for buildpack-deps:$SUITE (compile stage base)"
CMD ["bash"]
EOF
}

ensure_build_image() {
    local t key cache ctx
    t=$(now)
    key=$(build_dockerfile | sha256sum | cut -c1-12)
    cache="$STATE/buildpack-deps-$SUITE-$key.tar"
    if image_exists "$BUILD_ALIAS" && image_exists "$BUILD_TAG"; then
        log "image $BUILD_TAG present (cached)"
    elif image_exists "$BUILD_ALIAS"; then
        docker_cli tag "$BUILD_ALIAS" "$BUILD_TAG"
        log "image $BUILD_TAG tagged from $BUILD_ALIAS"
    elif image_exists "$BUILD_TAG"; then
        docker_cli tag "$BUILD_TAG" "$BUILD_ALIAS"
        log "image $BUILD_TAG present (not made here); tagged $BUILD_ALIAS"
    elif [[ -s "$cache" ]]; then
        docker_cli load -q -i "$cache" >/dev/null ||
            die "docker load of $cache failed (is the engine healthy? see $LOG)"
        log "image $BUILD_TAG loaded from $cache"
    else
        ctx="$STATE/buildpack-deps.ctx"
        rm -rf "$ctx"
        mkdir -p "$ctx"
        build_dockerfile >"$ctx/Dockerfile"
        log "building $BUILD_TAG from $BASE_TAG (apt-get inside the build)"
        if ! DOCKER_BUILDKIT=0 docker_cli build --rm --force-rm -q \
            -t "$BUILD_ALIAS" -t "$BUILD_TAG" "$ctx" >"$STATE/buildpack-deps.log" 2>&1; then
            tail -n 30 "$STATE/buildpack-deps.log" >&2 || true
            die "building $BUILD_TAG failed (log $STATE/buildpack-deps.log)"
        fi
        log "timing: docker build $BUILD_TAG: $(since "$t")"
        local t2
        t2=$(now)
        rm -f "$STATE"/buildpack-deps-"$SUITE"-*.tar
        docker_cli save -o "$cache.tmp" "$BUILD_ALIAS" "$BUILD_TAG" || die "docker save to $cache failed"
        mv -f "$cache.tmp" "$cache"
        log "timing: docker save $cache ($(du -h "$cache" | cut -f1)): $(since "$t2")"
    fi
    log "timing: build image $BUILD_TAG: $(since "$t")"
}

# --- CUDA stand-ins ----------------------------------------------------------------------
# nvidia/cuda images cannot be pulled here. NVIDIA publishes the CUDA 13 compiler as PyPI
# wheels (the cu12/cu11 nvcc wheels hold only ptxas), so the stand-ins are CUDA 13.0:
#   devel    FROM buildpack-deps:bookworm (gcc 12 is nvcc's host compiler) + nvcc, cicc,
#            headers, cccl and cudart from the wheels, laid out as /usr/local/cuda like
#            NVIDIA's images; tagged as the devel image conda2docker plans for CUDA 13.0.
#   runtime  FROM debian:bookworm-slim + libcudart.so.13 only; tagged as the runtime image.
# The tags must be what conda2docker.cuda.images chooses for 13.0 (tests/test_cuda.py checks).
CUDA_STANDIN=13.0
CUDA_DEVEL_TAG=nvidia/cuda:13.0.2-devel-ubuntu22.04
CUDA_DEVEL_ALIAS=conda2docker-ci/cuda-devel:13.0
CUDA_RUNTIME_TAG=nvidia/cuda:13.0.2-runtime-ubuntu22.04
CUDA_RUNTIME_ALIAS=conda2docker-ci/cuda-runtime:13.0
CUDA_WHEELS=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85)
CUDA_ENV='ENV PATH=/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CUDA_VERSION=13.0.2 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NVIDIA_REQUIRE_CUDA=cuda>=13.0'

cuda_devel_dockerfile() {
    cat <<EOF
FROM $BUILD_TAG
COPY cuda/ /usr/local/cuda-$CUDA_STANDIN/
RUN ln -s cuda-$CUDA_STANDIN /usr/local/cuda \\
 && echo /usr/local/cuda/lib64 >/etc/ld.so.conf.d/cuda.conf && ldconfig
$CUDA_ENV
LABEL org.opencontainers.image.description="conda2docker CI stand-in for $CUDA_DEVEL_TAG: nvcc from NVIDIA's PyPI wheels (${CUDA_WHEELS[*]})"
CMD ["bash"]
EOF
}

cuda_runtime_dockerfile() {
    cat <<EOF
FROM $BASE_TAG
COPY cudart/ /usr/local/cuda-$CUDA_STANDIN/lib64/
RUN ln -s cuda-$CUDA_STANDIN /usr/local/cuda \\
 && echo /usr/local/cuda/lib64 >/etc/ld.so.conf.d/cuda.conf && ldconfig
$CUDA_ENV
LABEL org.opencontainers.image.description="conda2docker CI stand-in for $CUDA_RUNTIME_TAG: libcudart from nvidia-cuda-runtime (PyPI)"
CMD ["bash"]
EOF
}

# The wheels, downloaded once (PyPI), unpacked into one prefix laid out as /usr/local/cuda.
cuda_prefix() {
    local dl="$STATE/cuda-wheels-$CUDA_STANDIN" out="$1" py t w
    py=$(command -v python3) || die "python3 is needed to fetch and unpack NVIDIA's CUDA wheels"
    mkdir -p "$dl"
    if (($(find "$dl" -name '*.whl' | wc -l) < ${#CUDA_WHEELS[@]})); then
        t=$(now)
        log "downloading ${CUDA_WHEELS[*]} from PyPI (about 100 MB)"
        "$py" -m pip download -q --no-deps --only-binary :all: --disable-pip-version-check \
            -d "$dl" "${CUDA_WHEELS[@]}" >"$STATE/cuda-wheels.log" 2>&1 ||
            die "pip download of NVIDIA's CUDA wheels failed (log $STATE/cuda-wheels.log)"
        log "timing: CUDA wheels: $(since "$t")"
    fi
    rm -rf "$out.unpack" "$out"
    mkdir -p "$out.unpack"
    for w in "$dl"/*.whl; do "$py" -m zipfile -e "$w" "$out.unpack/" || die "cannot unpack $w"; done
    mv "$out.unpack/nvidia/cu13" "$out"
    rm -rf "$out.unpack" "$out/.metadata" "$out/lib64"
    mv "$out/lib" "$out/lib64"
    ln -s lib64 "$out/lib"
    ln -sf libcudart.so.13 "$out/lib64/libcudart.so"
    chmod 0755 "$out"/bin/* "$out"/nvvm/bin/*
    [[ -x "$out/bin/nvcc" && -x "$out/nvvm/bin/cicc" && -f "$out/lib64/libcudart.so.13" ]] ||
        die "the CUDA wheels did not give bin/nvcc, nvvm/bin/cicc and lib64/libcudart.so.13"
}

cuda_devel_context() { cuda_prefix "$1/cuda"; }
cuda_runtime_context() {
    cuda_prefix "$1/full"
    mkdir -p "$1/cudart"
    cp -a "$1/full/lib64/libcudart.so.13"* "$1/cudart/"
    rm -rf "$1/full"
}

# ensure_cached_image TAG ALIAS NAME DOCKERFILE-FUNCTION CONTEXT-FUNCTION: present, else
# loaded from its `docker save` cache, else built offline and saved (key: Dockerfile + wheels).
ensure_cached_image() {
    local tag="$1" alias="$2" name="$3" dockerfile_fn="$4" context_fn="$5" t t2 key cache ctx
    t=$(now)
    key=$({ "$dockerfile_fn"; printf '%s\n' "${CUDA_WHEELS[@]}"; } | sha256sum | cut -c1-12)
    cache="$STATE/$name-$key.tar"
    if image_exists "$tag" && [[ "$(docker_cli image inspect --format \
        '{{index .Config.Labels "io.conda2docker.ci.key"}}' "$tag" 2>/dev/null)" == "$key" ]]; then
        log "image $tag present (cached)"
    elif [[ -s "$cache" ]]; then
        docker_cli load -q -i "$cache" >/dev/null || die "docker load of $cache failed (see $LOG)"
        log "image $tag loaded from $cache"
    else
        ctx="$STATE/$name.ctx"
        rm -rf "$ctx"
        mkdir -p "$ctx"
        "$context_fn" "$ctx"
        { "$dockerfile_fn"; printf 'LABEL io.conda2docker.ci.key="%s"\n' "$key"; } >"$ctx/Dockerfile"
        log "building $tag (stand-in, offline)"
        if ! DOCKER_BUILDKIT=0 docker_cli build --rm --force-rm -q --network none \
            -t "$alias" -t "$tag" "$ctx" >"$STATE/$name.log" 2>&1; then
            tail -n 30 "$STATE/$name.log" >&2 || true
            die "building $tag failed (log $STATE/$name.log)"
        fi
        rm -rf "$ctx"
        log "timing: docker build $tag: $(since "$t")"
        t2=$(now)
        rm -f "$STATE/$name"-*.tar
        docker_cli save -o "$cache.tmp" "$alias" "$tag" || die "docker save to $cache failed"
        mv -f "$cache.tmp" "$cache"
        log "timing: docker save $cache ($(du -h "$cache" | cut -f1)): $(since "$t2")"
    fi
    log "timing: image $tag: $(since "$t")"
}

ensure_cuda_images() {
    ensure_cached_image "$CUDA_DEVEL_TAG" "$CUDA_DEVEL_ALIAS" "cuda-devel-$CUDA_STANDIN" \
        cuda_devel_dockerfile cuda_devel_context
    ensure_cached_image "$CUDA_RUNTIME_TAG" "$CUDA_RUNTIME_ALIAS" "cuda-runtime-$CUDA_STANDIN" \
        cuda_runtime_dockerfile cuda_runtime_context
}

# One up/down at a time per state dir (two CI runs must not debootstrap at once).
lock_state() {
    local wait="$1"
    mkdir -p "$STATE"
    exec 9>>"$STATE/engine.lock"
    flock -w "$wait" 9 || die "could not lock $STATE/engine.lock within ${wait}s (held by: $(
        fuser "$STATE/engine.lock" 2>/dev/null || echo '?'))"
}

cmd_up() {
    local t0
    t0=$(now)
    lock_state 1200
    if ! engine_answers || ! pkg_installed debootstrap; then
        ensure_packages docker.io debootstrap
    fi
    start_engine
    ensure_base_image
    ensure_build_image
    if [[ "${C2D_CUDA_STANDINS:-1}" == 1 ]]; then
        # Its own process (errexit intact): a CUDA stand-in that cannot be made (PyPI down)
        # must not take the engine away from every other test; the GPU engine test skips.
        if ! "$0" cuda-standins; then
            log "WARNING: the CUDA stand-ins were not made (see above): the GPU engine tests will skip"
        fi
    else
        log "CUDA stand-ins skipped (C2D_CUDA_STANDINS=0)"
    fi
    log "timing: up total: $(since "$t0")"
}

cmd_down() {
    lock_state 120
    if [[ ! -f "$RECEIPT" ]]; then
        log "no receipt at $RECEIPT: this 'up' started no engine; nothing to stop"
        return 0
    fi
    local what pid start
    read -r what pid start <"$RECEIPT" || true
    if [[ "$what" != started ]]; then
        log "the engine was already running when 'up' ran ($what); leaving it running"
        rm -f "$RECEIPT"
        return 0
    fi
    if ! is_our_dockerd "$pid" "$start"; then
        log "dockerd pid $pid (started by 'up') is already gone"
    else
        local t
        t=$(now)
        log "stopping dockerd pid $pid (SIGTERM)"
        kill -TERM "$pid"
        local deadline=$((SECONDS + 60))
        while is_our_dockerd "$pid" "$start" && ((SECONDS < deadline)); do sleep 0.25; done
        if is_our_dockerd "$pid" "$start"; then
            log "dockerd pid $pid still running after 60 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            while [[ -d "/proc/$pid" ]] && ((SECONDS < deadline + 10)); do sleep 0.25; done
        fi
        log "timing: stop dockerd: $(since "$t")"
    fi
    rm -f "$RECEIPT"
    if [[ -f "$PIDFILE" ]]; then
        local ppid pstart
        read -r ppid pstart <"$PIDFILE" || true
        [[ "$ppid" == "$pid" ]] && rm -f "$PIDFILE"
    fi
}

cmd_status() {
    local rc=0
    if engine_answers; then
        log "engine: answering on $SOCK ($(docker_cli version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null || echo '?'))"
    else
        log "engine: NOT answering on $SOCK"
        rc=1
    fi
    if [[ -f "$PIDFILE" ]]; then
        local pid start
        read -r pid start <"$PIDFILE" || true
        if is_our_dockerd "$pid" "$start"; then
            log "dockerd pid $pid was started by engine.sh (pid file $PIDFILE)"
        else
            log "stale pid file $PIDFILE (pid $pid)"
        fi
    else
        log "no dockerd started by engine.sh (no $PIDFILE)"
    fi
    [[ -f "$RECEIPT" ]] && log "receipt $RECEIPT: $(cat "$RECEIPT")"
    if ((rc == 0)); then
        local tag
        for tag in "$BASE_TAG" "$BASE_ALIAS" "$BUILD_TAG" "$BUILD_ALIAS" "$CUDA_DEVEL_TAG" "$CUDA_RUNTIME_TAG"; do
            if image_exists "$tag"; then
                log "image $tag: $(docker_cli image inspect --format '{{.Id}} {{.Size}}' "$tag" |
                    awk '{ printf "%s, %.0f MB", substr($1, 8, 12), $2 / 1e6 }')"
            else
                log "image $tag: absent (scripts/engine.sh up creates it)"
            fi
        done
    fi
    local f
    for f in "$ROOTFS_TAR" "$STATE"/buildpack-deps-"$SUITE"-*.tar "$STATE"/cuda-*-"$CUDA_STANDIN"-*.tar; do
        [[ -f "$f" ]] && log "cache $f ($(du -h "$f" | cut -f1))"
    done
    return "$rc"
}

case "${1:-}" in
up) cmd_up ;;
cuda-standins) ensure_cuda_images ;; # called by `up`, which holds the state lock
down) cmd_down ;;
status) if cmd_status; then exit 0; else exit 1; fi ;; # exit 1: engine not answering
*)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
