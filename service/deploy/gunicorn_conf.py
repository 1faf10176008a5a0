"""gunicorn settings, read from the same environment variables as the app.

``make run`` and the Docker image start ``python -m service.deploy.serve``, which checks the
settings
and execs ``gunicorn --config service/deploy/gunicorn_conf.py service.deploy.wsgi:app`` (see
:mod:`service.deploy.serve` for why). Every value is parsed by :mod:`service.config` here too, so a
bad
one stops a directly started gunicorn with the same one-line message (exit status 2).

Decisions
---------
* **Workers.** ``WEB_CONCURRENCY`` processes (``auto``: 2 × usable CPUs + 1, capped). The
  estimators are CPU-bound numpy code, so the default is gunicorn's *sync* worker: one request
  per process, no GIL contention, and each new connection goes to whichever worker is free.
  ``GUNICORN_THREADS`` > 1 switches to the *gthread* worker, which overlaps database waits and
  honours ``KEEPALIVE``. As many workers as CPUs would spare the time slicing of more processes
  than CPUs (measured: up to a fifth less CPU per reconcile, a lower p99) but served a fifth to
  a third fewer ``/healthz`` requests per second in most runs and leaves no worker free while
  slow requests (a large batch, a plot) hold the others, so ``auto`` keeps gunicorn's rule
  (``docs/benchmarks.md``, "HTTP load").
* **No preload.** ``preload_app`` stays off: each worker builds its own app after the fork.
  The app opens database connections (and may migrate) when it is built, and a connection
  opened in the arbiter and inherited by several workers would be shared by all of them. The
  price is a slower start (each worker imports numpy and scipy itself) and no copy-on-write
  sharing of those modules. Do not add ``--preload`` (say through
  ``GUNICORN_CMD_ARGS``).
* **Graceful shutdown.** SIGTERM (``docker stop``) makes the arbiter stop accepting, lets every
  worker finish the requests it is serving for up to ``GRACEFUL_TIMEOUT`` seconds, then exit
  with status 0. ``GUNICORN_TIMEOUT`` bounds one request: a worker silent for longer is killed.
* **No control socket** (gunicorn ≥ 25 opens one under ``$HOME``; the image's user has none).
* **Logs.** :class:`service.deploy.logs.GunicornLogger` writes gunicorn's own lines and one line per
  request (the access log) as JSON or text (``LOG_FORMAT``), each with the request id, and sets
  up the root logger the same way for the app's lines.
* **Request limits.** The app refuses a request target over ``MAX_URI_LENGTH`` (414) and a
  header section over ``MAX_HEADER_FIELDS`` / ``MAX_HEADER_BYTES`` (431) itself, as
  problem+json (:mod:`service.http.limits`). gunicorn's own limits are set above those, so the
  app is the one that answers: ``limit_request_line`` at gunicorn's hard maximum (8190 bytes;
  0 would mean unbounded, read into memory), ``limit_request_fields`` at twice
  ``MAX_HEADER_FIELDS`` (gunicorn counts repeated fields the app sees merged) and
  ``limit_request_field_size`` at ``MAX_HEADER_BYTES`` (one field can be no larger than all of
  them). What gunicorn still refuses before the app (a longer request line, far more fields,
  bytes that are not HTTP/1.x) it answers as problem+json too: ``post_fork`` installs
  :func:`service.deploy.errors.write_problem` in each worker.
* **Metrics.** With ``METRICS_ENABLED``, the workers write their Prometheus samples to files in
  ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory unless set, wiped at start) so that
  ``GET /metrics`` on any worker reports the sum over all of them; ``child_exit`` marks a dead
  worker's live gauges as gone.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

# gunicorn executes this file by path; make the project importable when it is not installed.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from service.config import ConfigError, load_settings  # noqa: E402

try:
    _settings = load_settings(os.environ)
except ConfigError as exc:
    # One clear line instead of gunicorn's "Failed to read config file" traceback.
    print(f"triangulate: {exc}", file=sys.stderr)
    raise SystemExit(2) from None


def _bind_address(host: str, port: int) -> str:
    # An IPv6 literal needs brackets to be told apart from the port.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: Environment variable naming the metrics directory this configuration created (and removes).
OWNED_METRICS_DIR = "TRIANGULATE_OWNED_METRICS_DIR"
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"

bind = [_bind_address(_settings["HOST"], _settings["PORT"])]
workers = _settings["WEB_CONCURRENCY"]
threads = _settings["GUNICORN_THREADS"]
worker_class = "sync" if threads == 1 else "gthread"
timeout = _settings["GUNICORN_TIMEOUT"]
graceful_timeout = _settings["GRACEFUL_TIMEOUT"]
keepalive = _settings["KEEPALIVE"]
preload_app = False
#: gunicorn's hard maximum for a request line (a larger value is lowered to it).
GUNICORN_MAX_REQUEST_LINE = 8190
#: gunicorn's hard maximum for the number of header fields.
GUNICORN_MAX_HEADERS = 32768
limit_request_line = GUNICORN_MAX_REQUEST_LINE
limit_request_fields = min(2 * _settings["MAX_HEADER_FIELDS"], GUNICORN_MAX_HEADERS)
limit_request_field_size = _settings["MAX_HEADER_BYTES"]
loglevel = _settings["LOG_LEVEL"].lower()
accesslog = "-"
errorlog = "-"
logger_class = "service.deploy.logs.GunicornLogger"
# gunicorn >= 25 opens a control socket under $HOME by default; the service does not use it and
# a socket left in a shared home directory is one more thing to secure.
control_socket_disable = True
# Workers touch a heartbeat file every second; on tmpfs that never blocks on a slow disk (a
# container's overlay file system), as gunicorn's documentation recommends.
# Bandit's B108 (shared temporary directory) is waived: gunicorn puts only its workers'
# heartbeat files there, made with mkstemp (unique names, mode 0600).
_SHM = "/dev/shm"  # nosec B108
if Path(_SHM).is_dir() and os.access(_SHM, os.W_OK):
    worker_tmp_dir = _SHM


def _prepare_metrics_dir() -> None:
    """Give the workers an empty PROMETHEUS_MULTIPROC_DIR (set in the environment they inherit).

    Samples left by an earlier run would be added to this one's, so a configured directory is
    wiped of its ``*.db`` files; without one, a fresh temporary directory is made.
    """
    configured = _settings["PROMETHEUS_MULTIPROC_DIR"]
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="triangulate-metrics-"))
        os.environ[OWNED_METRICS_DIR] = str(path)
    os.environ[METRICS_DIR] = str(path)


def on_starting(server: Any) -> None:
    """In the arbiter, before any worker starts: create DATA_DIR and the metrics directory."""
    Path(_settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if _settings["METRICS_ENABLED"]:
        _prepare_metrics_dir()
    else:
        # No files for metrics nobody serves (and none in a directory that may not exist).
        os.environ.pop(METRICS_DIR, None)


def when_ready(server: Any) -> None:
    """In the arbiter, once listening: one line with the address, database and workers."""
    from service.deploy.logs import startup_message

    # A listener prints as its URL (http://127.0.0.1:8000, http://[::1]:8000, unix:...).
    addresses = [str(listener) for listener in server.LISTENERS]
    server.log.info(startup_message(_settings, addresses or [f"http://{b}" for b in bind]))


def post_fork(server: Any, worker: Any) -> None:
    """In each worker, after the fork: gunicorn's own refusals as problem+json."""
    from service.deploy import errors

    errors.install()


def child_exit(server: Any, worker: Any) -> None:
    """In the arbiter, after a worker exited: drop its live gauge samples."""
    if os.environ.get(METRICS_DIR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """In the arbiter, on the way out: remove the metrics directory if it made it."""
    owned = os.environ.get(OWNED_METRICS_DIR)
    if owned and owned == os.environ.get(METRICS_DIR):
        shutil.rmtree(owned, ignore_errors=True)
