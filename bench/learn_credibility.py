"""Learned credibility through the API: a simulated newsroom history with known source quality.

Sources of known quality (credibility c, spread σ, bias β) make claims on questions; each
question is then resolved through ``POST /v1/questions/{id}/resolution``. Everyone is entered
with the same grade C, so all that separates good from bad sources is what the service learns.

Prints
  1. Spearman's rank correlation between each source's learned credibility (``hit_rate``: the
     probability of a figure within about ±25 % of the truth; ``p_right``: P(right); ``learned``:
     the credibility of a graded source that misses as much) and the same quantity computed
     from the source's true parameters;
  2. on new questions, the median and mean |log error| of ``GET /v1/questions/{id}/estimate``
     (learned credibilities) against the named baseline, ``POST /v1/reconcile`` with the grade
     priors alone, and their ratio -- in the same run, on the same claims.

Everything goes through the Flask app in-process (test client, no network) on a fresh SQLite
database; the key comes from ``triangulate keys create``.

    .venv/bin/python bench/learn_credibility.py [--sources 24] [--questions 180] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from models.credibility import learned_profile
from service import create_app

ROOT = Path(__file__).resolve().parent.parent


def make_sources(rng: np.random.Generator, n: int) -> list[dict[str, float]]:
    """Sources from excellent to poor; a third are biased (inflate or deflate by 10-40 %)."""
    quality = np.linspace(0.97, 0.2, n)
    rng.shuffle(quality)
    out = []
    for i, c in enumerate(quality):
        sigma = 0.05 + 0.6 * (1 - c)
        bias = float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.4)) if i % 3 == 0 else 0.0
        out.append({"c": float(c), "sigma": float(sigma), "bias": bias})
    return out


def figure(rng: np.random.Generator, truth: float, src: dict[str, float]) -> float:
    if rng.random() < src["c"]:
        offset = src["bias"] + rng.normal(0, src["sigma"])
    else:
        offset = float(rng.standard_cauchy())
    return truth * math.exp(min(max(offset, -300.0), 300.0))


def make_key(data_dir: str) -> str:
    env = {**os.environ, "DATA_DIR": data_dir}
    env.pop("DATABASE_URL", None)
    cli = Path(sys.executable).parent / "triangulate"
    out = subprocess.run([str(cli), "keys", "create", "bench"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return next(tok for tok in out.split() if tok.startswith("tri_"))


class Client:
    def __init__(self, app: Any, key: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {key}"}

    def call(self, method: str, url: str, body: Any = None, status: int = 200,
             headers: dict[str, str] | None = None) -> Any:
        response = self.client.open(url, method=method, json=body,
                                    headers={**self.headers, **(headers or {})})
        if response.status_code != status:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.get_data()!r}")
        return response.get_json()


def ask(api: Client, rng: np.random.Generator, sources: list[dict[str, float]], per_q: int,
        title: str) -> tuple[int, float, list[dict[str, Any]]]:
    truth = math.exp(rng.uniform(5, 12))
    q = api.call("POST", "/v1/questions", {"title": title, "scale": "log"}, 201)
    claims = []
    for s in rng.choice(len(sources), size=per_q, replace=False):
        body = {"source": f"s{s}", "kind": "point", "value": figure(rng, truth, sources[s])}
        api.call("POST", f"/v1/questions/{q['id']}/claims", body, 201)
        claims.append(body)
    return q["id"], truth, claims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=24)
    parser.add_argument("--questions", type=int, default=180)
    parser.add_argument("--new", type=int, default=150)
    parser.add_argument("--per-question", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    sources = make_sources(rng, args.sources)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as data_dir:
        key = make_key(data_dir)
        app = create_app({"DATA_DIR": data_dir, "WRITE_RATE_LIMIT": "off"})
        api = Client(app, key)
        for i in range(args.sources):
            api.call("POST", "/v1/sources",
                     {"id": f"s{i}", "type": "media_outlet", "reliability": "C"}, 201)
        for j in range(args.questions):
            qid, truth, _ = ask(api, rng, sources, args.per_question, f"history {j}")
            version = api.call("GET", f"/v1/questions/{qid}")["version"]
            api.call("POST", f"/v1/questions/{qid}/resolution", {"value": truth},
                     headers={"If-Match": f'"{version}"'})
        history_s = time.perf_counter() - started

        cred = [api.call("GET", f"/v1/sources/s{i}")["credibility"] for i in range(args.sources)]
        true_rate = [learned_profile(s["c"], s["sigma"], s["bias"]).hit_rate() for s in sources]
        rho_rate = spearmanr([c["hit_rate"] for c in cred], true_rate).statistic
        rho_c = spearmanr([c["p_right"] for c in cred], [s["c"] for s in sources]).statistic
        true_quality = [learned_profile(s["c"], s["sigma"], s["bias"]).equivalent_credibility()
                        for s in sources]
        rho_q = spearmanr([c["learned"] for c in cred], true_quality).statistic

        learned_err, prior_err = [], []
        for j in range(args.new):
            qid, truth, claims = ask(api, rng, sources, args.per_question, f"new {j}")
            est = api.call("GET", f"/v1/questions/{qid}/estimate")
            body = {"scale": "log", "claims": claims,
                    "sources": [{"id": c["source"], "reliability": "C"} for c in claims]}
            base = api.call("POST", "/v1/reconcile", body)
            learned_err.append(abs(math.log(est["estimate"]["value"] / truth)))
            prior_err.append(abs(math.log(base["estimate"]["value"] / truth)))

    print(f"{args.sources} sources (all entered as grade C), {args.questions} resolved questions "
          f"x {args.per_question} claims, seed {args.seed}; history built in {history_s:.1f} s")
    print(f"Spearman(learned hit_rate, true hit_rate) = {rho_rate:.3f}")
    print(f"Spearman(learned P(right), true P(right))  = {rho_c:.3f}")
    print(f"Spearman(learned, true quality)            = {rho_q:.3f}")
    print(f"{args.new} new questions, |log error| of the estimate:")
    print(f"  {'method':<40}{'median':>8}{'mean':>8}{'ratio':>8}")
    pm, pa = float(np.median(prior_err)), float(np.mean(prior_err))
    lm, la = float(np.median(learned_err)), float(np.mean(learned_err))
    print(f"  {'grade priors only (POST /v1/reconcile)':<40}{pm:>8.4f}{pa:>8.4f}{1.0:>8.2f}")
    print(f"  {'learned (GET /v1/questions/{id}/estimate)':<40}{lm:>8.4f}{la:>8.4f}"
          f"{lm / pm:>8.2f}")


if __name__ == "__main__":
    main()
