"""``bench/bench_load.py --probe`` against one real worker: the workers' own account per route
(CPU from gunicorn's pre_request to post_request, garbage collection, and that CPU by stage of
the request) reaches the report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

LOAD = Path(__file__).resolve().parents[2] / "bench" / "bench_load.py"
REQUESTS = 30
_PROBE = re.compile(
    r"^probe, (?P<route>\S+): (?P<span>[\d.]+) ms of CPU per request .* of (?P<server>[\d.]+) ms "
    r"for the server; garbage collection (?P<gc>[\d.]+) ms per request \((?P<gens>\d+, \d+, \d+) "
    r"collections of generations 0, 1, 2 in (?P<requests>\d+) requests\)$",
    re.M,
)
#: The line after an account: ``name ms; name ms; ... (ms)``.
_SPLIT = re.compile(r"^probe, (?P<route>\S+): .*\n  (?P<split>.*) \(ms\)$", re.M)


def _split(text: str) -> dict[str, float]:
    return {name: float(ms) for name, ms in
            (part.rsplit(" ", 1) for part in text.split("; "))}


def test_probe_accounts_for_each_route_in_the_workers() -> None:
    result = subprocess.run(
        [sys.executable, str(LOAD), "--workers", "1", "--connections", "1", "--duration", "1",
         "--python", "--max-requests", str(REQUESTS), "--probe"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    accounts = {m["route"]: m for m in _PROBE.finditer(result.stdout)}
    assert set(accounts) == {"/healthz", "/v1/reconcile"}, result.stdout
    for account in accounts.values():
        # The warm-up's requests (20 per worker and route) are counted too.
        assert int(account["requests"]) >= REQUESTS + 20
        assert float(account["span"]) > 0 and float(account["server"]) > 0
    # A reconcile costs several trivial requests in the app (the estimator runs there).
    assert float(accounts["/v1/reconcile"]["span"]) > 3 * float(accounts["/healthz"]["span"])
    # Each route's CPU by stage: the reconcile's estimator, words and load are measured in the
    # worker, and the stages add up to the server's CPU per request.
    splits = {m["route"]: _split(m["split"]) for m in _SPLIT.finditer(result.stdout)}
    reconcile = splits["/v1/reconcile"]
    for stage in ("estimator (models.reconcile less words)", "words", "body and schema load",
                  "schema dump", "JSON and Response", "gunicorn: response, access log"):
        assert reconcile[stage] > 0, reconcile
    assert "words" not in splits["/healthz"]
    for route, split in splits.items():
        assert sum(split.values()) == pytest.approx(float(accounts[route]["server"]), abs=0.01)
    # The ceiling the estimator alone sets on the throughput ratio is stated.
    ceiling = re.search(r"^ceiling: .* reconcile would cost ([\d.]+) ms of CPU and reach at most "
                        r"(\d+)% of /healthz's throughput", result.stdout, re.M)
    assert ceiling is not None, result.stdout
    assert float(ceiling[1]) == pytest.approx(
        reconcile["estimator (models.reconcile less words)"], abs=0.01)
    # The set-up's header names the checkout it ran.
    assert f"{LOAD.parents[1]}: WEB_CONCURRENCY=1: 1 sync worker" in result.stdout


def test_a_tree_that_is_no_checkout_of_the_service_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(LOAD), "--tree", str(tmp_path), "--duration", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert f"--tree {tmp_path}: not a checkout of the service" in result.stderr
