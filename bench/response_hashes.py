"""Hash the full JSON bodies of ``POST /v1/reconcile`` over a broad set of requests, so that a
speed change can be shown to leave every answer bit-for-bit identical.

The requests: every fixture under ``fixtures/`` (cases, dynamics), the HTTP tests' minimal,
troop, extreme and bad-input bodies, the load benchmark's 10-claim request, and seeded
synthetic questions of 1, 2, 3, 10, 50 and 1,000 claims mixing points, bounds (open ends),
ranges, hedges, shared origins (evidence units), own sd, every grade and none, on the log and
the linear scale, with units and subjects; and the pooling methods. Each body is sent through
the Flask test client of an app at default settings and hashed (SHA-256 of the raw bytes, with
the status code).

    PYTHONPATH=$PWD .venv/bin/python bench/response_hashes.py [--out FILE] [--compare FILE]

``--out`` writes one line per request (name, status, hash); ``--compare`` checks such a file
and lists every request whose answer changed (exit status 1 if any did). The last line is the
hash over all requests.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_load import ten_claims  # noqa: E402

GRADES = ("A", "B", "C", "D", "E", "F", None)
HEDGES = (None, None, "about", "exact", "could_be", "rumour", "none")


def fixture_bodies() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((ROOT / "fixtures").rglob("*.json")):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and isinstance(doc.get("input"), dict):
            yield f"fixture:{path.relative_to(ROOT)}", doc["input"]


def test_bodies() -> Iterator[tuple[str, dict[str, Any] | str]]:
    from tests.conftest import TROOP_CASE
    from tests.http import test_reconcile_api as api

    yield "test:troop", copy.deepcopy(TROOP_CASE)
    yield "test:base", copy.deepcopy(api.BASE)
    for name, body in api.EXTREME.items():
        yield f"test:extreme:{name}", copy.deepcopy(body)
    for bad in api.BAD:
        if bad.config or bad.method != "POST" or bad.path != api.URL:
            continue
        if bad.content_type != "application/json":
            continue
        if bad.raw is not None:
            raw = bad.raw if isinstance(bad.raw, str) else bad.raw.decode("utf-8", "replace")
            yield f"test:bad:{bad.id}", raw
        elif bad.body is not None:
            yield f"test:bad:{bad.id}", copy.deepcopy(bad.body)


def synthetic(n: int, seed: int, *, scale: str = "auto", hedges: bool = True,
              units: bool = True) -> dict[str, Any]:
    """n claims of mixed kinds around 5,000 from n sources of mixed grades (seeded)."""
    rng = np.random.default_rng(seed)
    sources: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    truth = 5000.0 if scale != "linear" else 20.0
    for i in range(n):
        source: dict[str, Any] = {"id": f"s{i}", "name": f"Source {i}"}
        grade = GRADES[int(rng.integers(len(GRADES)))]
        if grade is not None:
            source["reliability"] = grade
        sources.append(source)
        if scale == "linear":
            x = round(float(truth + rng.normal(0, 5)), 2)
        else:
            x = round(float(truth * np.exp(rng.normal(0, 0.3 if rng.random() < 0.8 else 2.0))))
        kind = ("point", "point", "point", "at_least", "at_most", "range")[int(rng.integers(6))]
        claim: dict[str, Any] = {"source": f"s{i}", "kind": kind}
        if kind == "range":
            lo = x * 0.8 if x > 0 else x - 2
            hi = x * 1.25 if x > 0 else x + 2
            claim.update(low=round(min(lo, hi), 3), high=round(max(lo, hi), 3))
        elif kind == "at_least":
            claim["value"] = round(x * 0.7, 3) if x > 0 else x - 3
        elif kind == "at_most":
            claim["value"] = round(x * 1.5, 3) if x > 0 else x + 3
        else:
            claim["value"] = x
            if rng.random() < 0.15:
                claim["sd"] = abs(round(x * 0.1, 3)) or 1.0
        if hedges and kind == "point" and "sd" not in claim:
            hedge = HEDGES[int(rng.integers(len(HEDGES)))]
            if hedge is not None:
                claim["hedge"] = hedge
        if units and rng.random() < 0.25:
            claim["origin"] = f"wire-{int(rng.integers(3))}"
        claims.append(claim)
    body: dict[str, Any] = {"sources": sources, "claims": claims, "scale": scale}
    if seed % 2:
        body.update(question="Crowd size", unit="people", levels=[0.5, 0.8, 0.95])
    return body


def synthetic_bodies() -> Iterator[tuple[str, dict[str, Any]]]:
    for n in (1, 2, 3, 10, 50, 1000):
        for seed in range(8 if n <= 50 else 2):
            yield f"synthetic:{n}:{seed}", synthetic(n, seed)
        for seed in range(3 if n <= 50 else 1):
            yield f"synthetic-linear:{n}:{seed}", synthetic(n, 100 + seed, scale="linear")
            yield f"synthetic-plain:{n}:{seed}", synthetic(n, 200 + seed, hedges=False,
                                                           units=False)
    yield "load:ten-claims", ten_claims()
    # Bounds only: open above, open below, both sides, crossing.
    for name, kinds in (("open-above", ("at_least",) * 4), ("open-below", ("at_most",) * 3),
                        ("both-sides", ("at_least", "at_most", "at_least", "at_most")),
                        ("crossing", ("at_least", "at_most"))):
        values = (100, 4000, 300, 50) if name != "crossing" else (5000, 100)
        yield f"bounds:{name}", {
            "sources": [{"id": f"b{i}", "reliability": "ABCDEF"[i % 6]}
                        for i in range(len(kinds))],
            "claims": [{"source": f"b{i}", "kind": k, "value": v}
                       for i, (k, v) in enumerate(zip(kinds, values, strict=False))]}
    # Pooling: studies with their own sd or ci.
    for method in ("auto", "random_effects", "fixed_effect"):
        for tau2 in ("DL", "PM", "REML"):
            yield f"pooling:{method}:{tau2}", {
                "method": method, "tau2_method": tau2, "ci_method": "knha" if tau2 == "PM"
                else "z",
                "sources": [{"id": f"p{i}"} for i in range(6)],
                "claims": [{"source": f"p{i}", "kind": "point", "value": 1.0 + 0.1 * i,
                            "sd": 0.05 + 0.02 * i} for i in range(5)]
                + [{"source": "p5", "kind": "point", "value": 1.3, "ci_low": 1.1,
                    "ci_high": 1.5}]}
    # Grades and options: each grade alone, shared error, subject, whole numbers, levels.
    for grade in ("A", "B", "C", "D", "E", "F"):
        yield f"grade:{grade}", {
            "sources": [{"id": "g", "reliability": grade}, {"id": "h", "reliability": "C"}],
            "claims": [{"source": "g", "kind": "point", "value": 120},
                       {"source": "h", "kind": "range", "low": 80, "high": 200}]}


#: Bodies the JSON parser itself refuses or accepts: repeated keys at the top, in a claim, the
#: first of several repeats named.
RAW_BODIES: dict[str, str] = {
    "raw:duplicate-top": '{"sources": [{"id": "a"}], "claims": [], "sources": []}',
    "raw:duplicate-in-claim": '{"sources": [{"id": "a"}], "claims": [{"source": "a", '
                              '"kind": "point", "value": 1, "value": 2}]}',
    "raw:two-repeats": '{"a": 1, "b": 2, "b": 3, "a": 4}',
    "raw:escaped-keys": '{"sources": [{"id": "a"}], "claims": [{"source": "a", '
                        '"kind": "point", "v\\u0061lue": 5}]}',
    "raw:escaped-repeat": '{"sources": [{"id": "a"}], "claims": [{"source": "a", '
                          '"kind": "point", "value": 5, "v\\u0061lue": 6}]}',
}


def bodies() -> Iterator[tuple[str, dict[str, Any] | str]]:
    yield from RAW_BODIES.items()
    yield from fixture_bodies()
    yield from test_bodies()
    yield from synthetic_bodies()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()

    from service import create_app
    from service.config import SETTINGS, defaults

    for setting in SETTINGS:
        os.environ.pop(setting.name, None)
    with tempfile.TemporaryDirectory() as data:
        app = create_app({**defaults(), "DATA_DIR": data, "TESTING": True})
        client = app.test_client()
        lines: list[str] = []
        total = hashlib.sha256()
        for name, body in bodies():
            raw = body if isinstance(body, str) else json.dumps(body)
            response = client.post("/v1/reconcile", data=raw, content_type="application/json")
            digest = hashlib.sha256(response.get_data()).hexdigest()
            line = f"{name}\t{response.status_code}\t{digest}"
            lines.append(line)
            total.update(line.encode() + b"\n")
        app.extensions["triangulate.db"].dispose()
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    changed = 0
    if args.compare is not None:
        before = dict(line.split("\t", 1) for line in args.compare.read_text().splitlines())
        for line in lines:
            name, rest = line.split("\t", 1)
            if before.get(name) != rest:
                changed += 1
                print(f"CHANGED {name}: {before.get(name)} -> {rest}")
        for name in before.keys() - {line.split(chr(9), 1)[0] for line in lines}:
            changed += 1
            print(f"MISSING {name}")
    statuses: dict[str, int] = {}
    for line in lines:
        status = line.split("\t")[1]
        statuses[status] = statuses.get(status, 0) + 1
    print(f"{len(lines)} requests, statuses {dict(sorted(statuses.items()))}, "
          f"{changed} changed; all: {total.hexdigest()}")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
