#!/usr/bin/env bash
# Build the Docker image and check it as a production service would be checked:
#   healthz and readyz answer, the troop case reconciles through it, metrics count it, logs are
#   JSON with the request id, it runs as a non-root user, Docker's HEALTHCHECK reports healthy,
#   and `docker stop` (SIGTERM) ends it cleanly with exit status 0.
# Exits non-zero on the first failed check. Needs root on Debian 12 (the shared recipe installs
# and starts a Docker engine when none runs) and the project's .venv (made by `make test`).
#
#   bash scripts/docker_smoke.sh          # CI calls it from .ci/run after make test
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-triangulate:ci}
NAME=triangulate-ci-$$
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

log() { printf 'docker-smoke: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# --- Engine: the shared recipe (installs docker.io, starts dockerd, builds the base image) ----
dockerd_before=${DOCKERD_PID:-}
# shellcheck source=/dev/null
source ../shared/docker/ensure-engine.sh
started_dockerd=""
if [ -n "${DOCKERD_PID:-}" ] && [ "${DOCKERD_PID}" != "$dockerd_before" ]; then
  started_dockerd=$DOCKERD_PID
fi

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && docker inspect "$NAME" >/dev/null 2>&1; then
    log "last log lines of the container:"
    docker logs --tail 30 "$NAME" 2>&1 | sed 's/^/  | /' >&2 || true
  fi
  docker rm -f -v "$NAME" >/dev/null 2>&1 || true
  # Intermediate images of the legacy builder's first stage.
  docker image prune -f >/dev/null 2>&1 || true
  if [ -n "$started_dockerd" ]; then
    log "stopping the dockerd this script started (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.25; done
  fi
  exit "$status"
}
trap cleanup EXIT

# --- Build --------------------------------------------------------------------------------------
log "building $IMAGE"
build_started=$(date +%s)
BUILD_LOG=$(mktemp -t triangulate-docker-build.XXXXXX)
docker build --network host -t "$IMAGE" . >"$BUILD_LOG" 2>&1 \
  || { tail -40 "$BUILD_LOG" >&2; fail "docker build failed"; }
log "built in $(( $(date +%s) - build_started )) s; size $(docker image ls --format '{{.Size}}' "$IMAGE")"

# --- Run on a free loopback port (no bridge network on these machines) ------------------------
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# A short health interval only makes CI faster: the check itself is the image's HEALTHCHECK.
run_started=$("$PY" -c 'import time; print(time.monotonic())')
docker run -d --name "$NAME" --network host -e PORT="$PORT" -e WEB_CONCURRENCY=2 \
  --health-interval 2s "$IMAGE" >/dev/null
log "container $NAME on port $PORT"

# --- HTTP checks (python, not curl: only python is sure to be there) --------------------------
"$PY" - "$BASE" "$run_started" "$NAME" <<'PYCHECK' || fail "HTTP checks"
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

base, run_started, name = sys.argv[1], float(sys.argv[2]), sys.argv[3]


def get(path, headers=None, body=None):
    request = urllib.request.Request(base + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(path, deadline=90.0):
    last = None
    while time.monotonic() - run_started < deadline:
        try:
            status, _, body = get(path)
            if status == 200:
                return time.monotonic() - run_started
            last = f"{status} {body[:200]!r}"
        except OSError as error:
            last = str(error)
        running = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Running}}", name],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        if running != "true":
            sys.exit(f"the container stopped while waiting for {path}")
        time.sleep(0.25)
    sys.exit(f"{path} did not answer 200 within {deadline:.0f} s (last: {last})")


print(f"docker-smoke: /healthz 200 after {wait_for('/healthz'):.1f} s", file=sys.stderr)
print(f"docker-smoke: start-up (docker run -> /readyz 200): {wait_for('/readyz'):.1f} s",
      file=sys.stderr)

status, headers, body = get("/readyz")
assert status == 200 and json.loads(body) == {"status": "ready"}, (status, body)

sys.path.insert(0, ".")
from tests.conftest import TROOP_CASE  # noqa: E402

status, headers, body = get(
    "/v1/reconcile",
    headers={"Content-Type": "application/json", "X-Request-ID": "docker-smoke-troops"},
    body=json.dumps(TROOP_CASE).encode(),
)
if status != 200:
    sys.exit(f"POST /v1/reconcile answered {status}: {body[:500]!r}")
estimate = json.loads(body)["estimate"]["value"]
if not 1500 <= estimate <= 12000:
    sys.exit(f"troop estimate {estimate} outside [1500, 12000]")
if headers.get("X-Request-ID") != "docker-smoke-troops":
    sys.exit(f"X-Request-ID not echoed: {headers.get('X-Request-ID')!r}")
print(f"docker-smoke: troop case estimate {estimate:.0f}", file=sys.stderr)

status, headers, body = get("/metrics")
text = body.decode()
line = 'triangulate_http_requests_total{method="POST",route="/v1/reconcile",status="200"} 1.0'
if status != 200 or line not in text:
    sys.exit(f"/metrics ({status}) lacks {line!r}")
if not re.search(r'^triangulate_reconcile_duration_seconds_count\{method="robust"\} 1\.0$',
                 text, re.M):
    sys.exit("/metrics lacks the reconcile duration")

logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=True)
lines = [ln for ln in (logs.stdout + logs.stderr).splitlines() if ln.strip()]
try:
    entries = [json.loads(ln) for ln in lines]
except json.JSONDecodeError as error:
    sys.exit(f"a log line is not JSON: {error}")
access = [e for e in entries if e.get("logger") == "gunicorn.access"
          and e.get("path") == "/v1/reconcile"]
if not access or access[-1].get("request_id") != "docker-smoke-troops":
    sys.exit(f"no access log line with the request id: {access}")
print(f"docker-smoke: {len(entries)} log lines, all JSON", file=sys.stderr)
PYCHECK

# --- Non-root, healthy --------------------------------------------------------------------------
uid=$(docker exec "$NAME" id -u)
[ "$uid" != "0" ] || fail "the container runs as root"
log "runs as uid $uid"

health=""
for _ in $(seq 1 60); do
  health=$(docker inspect --format '{{.State.Health.Status}}' "$NAME")
  [ "$health" = "healthy" ] && break
  [ "$health" = "unhealthy" ] && break
  sleep 0.5
done
[ "$health" = "healthy" ] || fail "HEALTHCHECK reports '$health'"
log "HEALTHCHECK: $health"

# --- Clean stop on SIGTERM ----------------------------------------------------------------------
stop_started=$(date +%s)
docker stop -t 20 "$NAME" >/dev/null
code=$(docker inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$code" = "0" ] || fail "exit status $code after docker stop (SIGTERM), expected 0"
docker logs "$NAME" 2>&1 | grep -q '"Shutting down: Master"' \
  || fail "gunicorn did not log a graceful shutdown"
log "stopped cleanly in $(( $(date +%s) - stop_started )) s (exit status 0)"
log "all checks passed"
