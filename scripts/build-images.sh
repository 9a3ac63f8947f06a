#!/usr/bin/env bash
# Build the local images the integration tests use, without any registry:
#   corral/etcd:3.4  from /usr/bin/etcd (+ etcdctl)   (apt: etcd-server, etcd-client)
#   corral/nats:2.9  from /usr/sbin/nats-server        (apt: nats-server)
# Each image is FROM scratch: the binaries and the shared libraries they need (found with ldd)
# are staged into a temporary build context. An image is skipped when its label
# corral.inputs (a hash of the Dockerfile and every staged file) already matches.
# Set FORCE=1 to rebuild anyway.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOCKER_BUILDKIT=0 # no buildx here; the legacy builder handles FROM scratch fine

WORK="$(mktemp -d "${TMPDIR:-/tmp}/corral-images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# stage_binaries DIR BIN...: copy each binary and its ldd dependencies (symlinks resolved) into DIR.
stage_binaries() {
  local dir="$1"; shift
  local bin lib
  for bin in "$@"; do
    [[ -x "$bin" ]] || { echo "build-images: $bin is missing (apt-get install the package)" >&2; exit 1; }
    install -D -m 0755 "$bin" "$dir$bin"
    # ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    while read -r lib; do
      [[ -n "$lib" ]] || continue
      install -D -m 0755 "$(readlink -f "$lib")" "$dir$lib"
    done < <(ldd "$bin" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u)
  done
  # Empty dirs the programs expect: /tmp (sticky, world-writable) and /data.
  install -d -m 1777 "$dir/tmp"
  install -d -m 0755 "$dir/data"
}

# build IMAGE NAME BIN...: stage a context for images/NAME and build IMAGE unless unchanged.
build() {
  local image="$1" name="$2"; shift 2
  local ctx t0 hash have
  t0=$(date +%s%N)
  ctx="$WORK/$name"
  mkdir -p "$ctx"
  cp "$ROOT/images/$name/Dockerfile" "$ctx/Dockerfile"
  stage_binaries "$ctx/rootfs" "$@"
  hash="$(cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)"
  have="$(docker image inspect --format '{{ index .Config.Labels "corral.inputs" }}' "$image" 2>/dev/null || true)"
  if [[ "${FORCE:-0}" != 1 && "$have" == "$hash" ]]; then
    echo "build-images: $image up to date"
    return 0
  fi
  echo "build-images: building $image"
  local out
  if ! out="$(docker build --label "corral.inputs=$hash" -t "$image" "$ctx" 2>&1)"; then
    echo "$out" >&2
    echo "build-images: building $image failed" >&2
    exit 1
  fi
  echo "build-images: built $image in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

build corral/etcd:3.4 etcd /usr/bin/etcd /usr/bin/etcdctl
build corral/nats:2.9 nats /usr/sbin/nats-server
