"""The track-record σ step under a shared error: ECME converges where plain EM crawled.

A precise source (σ = 0.05) on questions with a shared error s = 0.2 (σ ≪ s): plain EM moves σ
by about 1 % of the remaining distance per iteration and hit EM_MAX_ITERATIONS = 500
unconverged on 5,000 claims; the ECME σ step (Liu & Rubin 1994, doi:10.1093/biomet/81.4.633)
reaches the same fixed point in a few iterations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.claims import Claim
from models.credibility import profile_for
from models.track_record import ResolvedClaim, TrackRecord, em, learn_track_records
from tests.tolerances import ECME_MAX_ITERATIONS, ECME_SIGMA_RTOL

SHARED = 0.2
SPREAD = 0.05


def precise_source(n: int, seed: int) -> list[ResolvedClaim]:
    """One source's point claims: truth · exp(δ_q + e), δ_q ~ N(0, SHARED), e ~ N(0, SPREAD)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        truth = math.exp(rng.uniform(4.0, 10.0))
        miss = rng.normal(0.0, SHARED) + rng.normal(0.0, SPREAD)
        out.append(ResolvedClaim(Claim("p", "point", value=truth * math.exp(miss)), truth,
                                 "log", f"q{i}", shared=SHARED))
    return out


def learn(records: list[ResolvedClaim]) -> TrackRecord:
    return learn_track_records(records, {"p": profile_for("B")}, {"p": "government"})["p"]


def test_precise_source_under_shared_error_converges_to_the_em_fixed_point(
        monkeypatch: pytest.MonkeyPatch) -> None:
    records = precise_source(5000, seed=11)
    fit = learn(records)
    # Plain EM: 500 iterations, converged False.
    assert fit.converged and fit.iterations <= ECME_MAX_ITERATIONS
    # Reference: plain EM (no ECME Newton steps) run to its own stopping rule.
    monkeypatch.setattr(em, "SIGMA_NEWTON_STEPS", 0)
    monkeypatch.setattr(em, "EM_MAX_ITERATIONS", 20_000)
    ref = learn(records)
    assert ref.converged and ref.iterations > 500
    assert fit.spread is not None and ref.spread is not None
    assert fit.spread == pytest.approx(ref.spread, rel=ECME_SIGMA_RTOL)
    assert fit.bias == pytest.approx(ref.bias, rel=ECME_SIGMA_RTOL, abs=1e-6)
    assert fit.credibility == pytest.approx(ref.credibility, rel=ECME_SIGMA_RTOL)


def test_ecme_and_em_agree_on_a_mixed_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several sources, hedges absent, some wrong claims, some questions with a shared error:
    the fixed point is EM's, whichever way it is reached."""
    rng = np.random.default_rng(4)
    records = []
    for q in range(300):
        truth = math.exp(rng.uniform(3.0, 9.0))
        shared = float(rng.choice([0.0, 0.1, 0.3]))
        delta = rng.normal(0.0, shared) if shared else 0.0
        for s, (c, sigma) in enumerate([(0.9, 0.03), (0.7, 0.2), (0.4, 0.5)]):
            miss = (delta + rng.normal(0.0, sigma)) if rng.random() < c \
                else float(rng.standard_cauchy())
            records.append(ResolvedClaim(
                Claim(f"s{s}", "point", value=truth * math.exp(max(min(miss, 50.0), -50.0))),
                truth, "log", f"q{q}", shared=shared))
    priors = {f"s{s}": profile_for(g) for s, g in enumerate(["B", "C", None])}
    types = {sid: "other" for sid in priors}
    fit = learn_track_records(records, priors, types)
    monkeypatch.setattr(em, "SIGMA_NEWTON_STEPS", 0)
    monkeypatch.setattr(em, "EM_MAX_ITERATIONS", 20_000)
    ref = learn_track_records(records, priors, types)
    for sid in priors:
        assert fit[sid].converged and ref[sid].converged
        assert fit[sid].iterations <= ref[sid].iterations
        for a, b in zip(fit[sid].profile.components, ref[sid].profile.components, strict=True):
            assert a.sigma == pytest.approx(b.sigma, rel=ECME_SIGMA_RTOL)
            assert a.c == pytest.approx(b.c, rel=ECME_SIGMA_RTOL)
            assert a.weight == pytest.approx(b.weight, rel=ECME_SIGMA_RTOL, abs=1e-9)
