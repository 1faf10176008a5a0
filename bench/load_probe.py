"""gunicorn configuration for ``bench_load.py --probe``: the service's own
(``service/deploy/gunicorn_conf.py``) plus hooks that account, per route, for each worker's CPU.

* ``pre_request`` to ``post_request``, in thread CPU time: the app, writing the response and
  the access log line (gunicorn calls both hooks around them); what the server spends beyond
  that per request is gunicorn's accept, parse and close, and the arbiter.
* Within that span, the stages of a request (:data:`STAGES`): the app as a whole (Flask's
  ``wsgi_app``), its hooks, reading and loading the body, ``models.reconcile`` and the
  findings and words within it, the response's mapping and dump, and its JSON encoding. Each is
  timed by wrapping the function the stage runs in, in the worker only.
* The garbage collector's CPU time and collections by generation (``gc.callbacks``), charged to
  the route being served (or ``-`` between requests).

Each worker writes its totals to ``$PROBE_DIR/<pid>.json`` when it exits. Not for production:
the hooks cost a few microseconds per request.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.deploy.gunicorn_conf import *  # noqa: F403  (the service's settings and hooks)

PROBE_DIR = "PROBE_DIR"
_IDLE = "-"
#: route -> [requests, CPU seconds in the hooks' span, GC seconds, gen-0, gen-1, gen-2 count]
_totals: dict[str, list[float]] = {}
#: route -> stage -> CPU seconds
_stages: dict[str, dict[str, float]] = {}
_state: dict[str, Any] = {"route": _IDLE, "gc_started": 0.0, "request_started": 0.0}

#: Stage name -> (module, owner attribute path, function name): what is wrapped to time it.
#: ``models.reconcile`` includes ``words``; ``app`` includes every other stage.
STAGES: dict[str, tuple[str, str, str]] = {
    "app": ("flask", "Flask", "wsgi_app"),
    "hooks before": ("flask", "Flask", "preprocess_request"),
    "hooks after": ("flask", "Flask", "process_response"),
    "teardown": ("flask", "Flask", "do_teardown_request"),
    "body and schema load": ("service.http.api", "JSONBodyParser", "parse"),
    "models.reconcile": ("service.http.views.reconcile", "", "reconcile"),
    "words": ("models.reconcile", "", "_with_words"),
    "mapping": ("service.http.views.reconcile", "", "reconcile_response"),
    "schema dump": ("service.http.schemas.reconcile", "ReconcileResponseSchema", "dump"),
    "JSON and Response": ("service.http.api", "StrictJSONProvider", "response"),
}


def _row(route: str) -> list[float]:
    return _totals.setdefault(route, [0, 0.0, 0.0, 0, 0, 0])


def _timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            stages = _stages.setdefault(_state["route"], {})
            stages[stage] = stages.get(stage, 0.0) + time.thread_time() - started

    return timed


def _wrap_stages() -> None:
    import importlib

    for stage, (module_name, owner_name, name) in STAGES.items():
        owner: Any = importlib.import_module(module_name)
        if owner_name:
            owner = getattr(owner, owner_name, None)
        # A tree of the service without the function (an older checkout, ``--tree``) goes
        # without that stage.
        if owner is not None and hasattr(owner, name):
            setattr(owner, name, _timed(stage, getattr(owner, name)))


def _collection(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _state["gc_started"] = time.thread_time()
    else:
        row = _row(_state["route"])
        row[2] += time.thread_time() - _state["gc_started"]
        row[3 + info["generation"]] += 1


def post_worker_init(worker: Any) -> None:
    gc.callbacks.append(_collection)
    _wrap_stages()


def pre_request(worker: Any, req: Any) -> None:
    _state["route"] = req.path
    _state["request_started"] = time.thread_time()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    row = _row(req.path)
    row[0] += 1
    row[1] += time.thread_time() - _state["request_started"]
    _state["route"] = _IDLE


def worker_exit(server: Any, worker: Any) -> None:
    directory = os.environ.get(PROBE_DIR)
    if directory:
        Path(directory, f"{os.getpid()}.json").write_text(
            json.dumps({"totals": _totals, "stages": _stages}))
