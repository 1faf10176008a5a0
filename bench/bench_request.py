"""In-process account of one ``POST /v1/reconcile`` with 10 claims: where its time goes.

Through Flask's test client (no gunicorn, no socket), beside ``GET /healthz`` in the same run,
the median of each stage of the request on its own:

* the whole request, and the same request with the estimator replaced by its stored result
  (everything the HTTP layer adds, the words excepted);
* ``models.reconcile`` whole (estimator, findings, words) and its findings and words alone
  (``derive_findings`` and ``render`` on the same result), so the estimator is the difference;
* loading the body through ``ReconcileRequestSchema``, mapping the result, dumping it through
  ``ReconcileResponseSchema`` and encoding the JSON;
* the whole request's *mean CPU* time (what ``bench_load.py`` reports per request, a mean
  that pays for every slow call and every collection) and the garbage collector's share of it,
  by generation (``gc.callbacks``).

Run it beside ``bench/bench_load.py``: what the HTTP figures add to these is gunicorn's work.

    .venv/bin/python bench/bench_request.py [--runs 300]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import time
from typing import Any

from _common import timed
from bench_load import ten_claims

import service.http.views.reconcile as view
from models import reconcile as core
from models import wording
from service.http.app import create_app
from service.http.mapping import reconcile_response
from service.http.schemas.reconcile import ReconcileRequestSchema, ReconcileResponseSchema


class Collections:
    """Collections and their CPU time per generation while active (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.count[info["generation"]] += 1
            self.seconds[info["generation"]] += time.process_time() - self._started

    def __enter__(self) -> Collections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def mean_cpu(fn: Any, runs: int) -> tuple[float, Collections]:
    """Mean CPU ms of ``runs`` calls of ``fn`` and the collections during them."""
    with Collections() as collections:
        started = time.process_time()
        for _ in range(runs):
            fn()
        return (time.process_time() - started) * 1e3 / runs, collections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    runs = max(args.runs, 20)
    with tempfile.TemporaryDirectory(prefix="triangulate-bench-") as data:
        os.environ.update(DATA_DIR=data, DATABASE_URL="", LOG_FORMAT="json")
        app = create_app()
        client = app.test_client()
        raw = ten_claims()
        body = json.dumps(raw).encode()
        headers = {"Content-Type": "application/json"}
        request_schema, response_schema = ReconcileRequestSchema(), ReconcileResponseSchema()
        with app.test_request_context():
            loaded = request_schema.load(raw)
        options = loaded.options()
        result = core.reconcile(loaded.claims, loaded.sources, **options)
        by_id = {source.id: source for source in loaded.sources}
        document = reconcile_response(loaded, result)
        dumped = response_schema.dump(document)

        # Every timed stage that prints figures empties the cache of printed figures first,
        # as a new question's figures would find it: otherwise the whole call would reuse what
        # the words alone format afresh, and the estimator's share (their difference) would
        # come out low.
        def post() -> Any:
            wording._grouped.cache_clear()
            return client.post("/v1/reconcile", data=body, headers=headers)

        def call() -> Any:
            wording._grouped.cache_clear()
            return core.reconcile(loaded.claims, loaded.sources, **options)

        def words() -> Any:
            # The findings, summary and explanation of the same result (models.reconcile's
            # last step).
            wording._grouped.cache_clear()
            return core._with_words(
                result, loaded.claims, by_id, unit=loaded.unit,
                subject=wording.subject_phrase(loaded.subject, loaded.question),
                whole_numbers=loaded.whole_numbers)

        def loading() -> Any:
            with app.test_request_context():
                return request_schema.load(raw)

        rows: list[tuple[str, tuple[float, float]]] = [
            ("GET /healthz (baseline)", timed(lambda: client.get("/healthz"), runs)),
            ("POST /v1/reconcile", timed(post, runs)),
        ]
        # The view's own reference to the core, as the tests replace it.
        namespace = vars(view)
        real = namespace["reconcile"]
        namespace["reconcile"] = lambda *a, **k: result
        try:
            rows.append(("  the same, estimator stubbed", timed(post, runs)))
        finally:
            namespace["reconcile"] = real
        rows += [
            ("models.reconcile (whole)", timed(call, runs)),
            ("  findings and words alone", timed(words, runs)),
            ("load (ReconcileRequestSchema)", timed(loading, runs)),
            ("mapping (reconcile_response)", timed(lambda: reconcile_response(loaded, result),
                                                   runs)),
            ("dump (ReconcileResponseSchema)", timed(lambda: response_schema.dump(document),
                                                     runs)),
            ("JSON encoding", timed(lambda: app.json.dumps(dumped), runs)),
        ]
        cpu, collections = mean_cpu(post, 5 * runs)
    load = os.getloadavg()[0]
    print(f"in-process, Flask test client, {runs} runs each; load average {load:.1f}")
    print(f"{'stage':<36}{'median ms':>10}{'p90 ms':>9}")
    for name, (median, p90) in rows:
        print(f"{name:<36}{median:>10.3f}{p90:>9.3f}")
    medians = dict(rows)
    whole, stubbed = medians["POST /v1/reconcile"][0], medians["  the same, estimator stubbed"][0]
    healthz = medians["GET /healthz (baseline)"][0]
    model, text = medians["models.reconcile (whole)"][0], medians["  findings and words alone"][0]
    print(f"estimator (models.reconcile without findings and words): {model - text:.2f} ms; "
          f"findings and words: {text:.2f} ms; HTTP layer beyond /healthz's: "
          f"{stubbed - healthz:.2f} ms; /healthz: {healthz:.2f} ms (whole request {whole:.2f})")
    gc_ms = sum(collections.seconds) * 1e3 / (5 * runs)
    print(f"whole request, mean CPU over {5 * runs} calls: {cpu:.2f} ms (bench_load's CPU per "
          f"request is this plus gunicorn's own work); of which garbage collection {gc_ms:.3f} ms "
          f"({collections.count[0]}, {collections.count[1]} and {collections.count[2]} "
          "collections of generations 0, 1 and 2)")


if __name__ == "__main__":
    main()
