#!/usr/bin/env bash
# Start dockerd in the background if it is not already running, then wait until it answers.
# Idempotent: exits 0 at once when `docker info` already works.
#
# Env:
#   DOCKER_START_TIMEOUT   seconds to wait for the daemon (default 60)
#   CORRAL_DOCKERD_LOG     daemon log file (default /var/log/corral-dockerd.log)
#   CORRAL_DOCKERD_DRIVER  force a storage driver (default: try dockerd's default, fall back to vfs)
set -euo pipefail

TIMEOUT="${DOCKER_START_TIMEOUT:-60}"
LOG="${CORRAL_DOCKERD_LOG:-/var/log/corral-dockerd.log}"
PIDFILE=/var/run/corral-dockerd.pid

# The docker CLI first on PATH (/usr/local/bin, 28.x) is newer than Debian's daemon (20.10,
# API 1.41); it negotiates the API version down by itself, so no DOCKER_API_VERSION is needed.
docker_ok() { docker info >/dev/null 2>&1; }

if docker_ok; then
  echo "start-docker: docker already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-docker: dockerd not installed (apt-get install docker.io)" >&2
  exit 1
fi

# alive PID: the process exists and is not a zombie (a killed dockerd can linger as one here).
alive() {
  local state
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# A daemon may be starting already (e.g. a parallel invocation): wait for it instead of starting another.
wait_ready() {
  local pid="$1" deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    if docker_ok; then return 0; fi
    if [[ -n "$pid" ]] && ! alive "$pid"; then return 1; fi
    sleep 0.2
  done
  return 1
}

start_dockerd() {
  local driver="$1"
  local args=(--host=unix:///var/run/docker.sock --pidfile="$PIDFILE")
  [[ -n "$driver" ]] && args+=(--storage-driver="$driver")
  echo "start-docker: starting dockerd ${driver:+(storage driver $driver) }log: $LOG"
  rm -f "$PIDFILE"
  # setsid + nohup: the daemon must outlive this script and the CI step that ran it.
  setsid nohup dockerd "${args[@]}" >>"$LOG" 2>&1 </dev/null &
  DOCKERD_PID=$!
}

existing=""
for pid in $(pgrep -x dockerd || true); do
  if alive "$pid"; then existing="$pid"; break; fi
done
if [[ -n "$existing" ]]; then
  echo "start-docker: dockerd (pid $existing) is running but not answering yet; waiting"
  if wait_ready "$existing"; then echo "start-docker: docker ready"; exit 0; fi
  if alive "$existing"; then
    echo "start-docker: dockerd (pid $existing) did not answer within ${TIMEOUT}s; see $LOG" >&2
    exit 1
  fi
  echo "start-docker: dockerd (pid $existing) exited; starting a new one"
fi

mkdir -p "$(dirname "$LOG")"
started_ms=$(date +%s%3N)
if [[ -n "${CORRAL_DOCKERD_DRIVER:-}" ]]; then
  drivers=("$CORRAL_DOCKERD_DRIVER")
else
  drivers=("" vfs)
fi
for driver in "${drivers[@]}"; do
  start_dockerd "$driver"
  if wait_ready "$DOCKERD_PID"; then
    echo "start-docker: docker ready after $(( $(date +%s%3N) - started_ms )) ms ($(docker info --format '{{.Driver}}' 2>/dev/null) storage driver, server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  echo "start-docker: dockerd ${driver:+(driver $driver) }failed to come up; last log lines:" >&2
  tail -n 20 "$LOG" >&2 || true
  kill "$DOCKERD_PID" 2>/dev/null || true
  for _ in $(seq 50); do alive "$DOCKERD_PID" || break; sleep 0.2; done
done
echo "start-docker: could not start dockerd" >&2
exit 1
