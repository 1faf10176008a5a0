"""In-process account of one ``POST /v1/reconcile`` with 10 claims: where its time goes.

Through Flask's test client (no gunicorn, no socket), beside ``GET /healthz`` in the same run,
the median of each stage of the request on its own:

* the whole request, and the same request with the estimator replaced by its stored result
  (everything the HTTP layer adds, the words excepted);
* ``models.reconcile`` whole (estimator, findings, words) and its findings and words alone
  (``derive_findings`` and ``render`` on the same result), so the estimator is the difference;
* loading the body through ``ReconcileRequestSchema``, mapping the result, dumping it through
  ``ReconcileResponseSchema`` and encoding the JSON.

Run it beside ``bench/bench_load.py``: what the HTTP figures add to these is gunicorn's work.

    .venv/bin/python bench/bench_request.py [--runs 300]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any

from _common import timed
from bench_load import ten_claims

import service.http.views.reconcile as view
from models import reconcile as core
from models import wording
from service.http.app import create_app
from service.http.mapping import reconcile_response
from service.http.schemas.reconcile import ReconcileRequestSchema, ReconcileResponseSchema


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


if __name__ == "__main__":
    main()
