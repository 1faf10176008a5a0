"""Parity of :mod:`models.pooling` with R metafor, plus its input validation.

Every expected number comes from ``tests/data/metafor_reference.json``, which copies it from an
independent published source -- statsmodels' and PyMARE's metafor-generated test results and
metafor's own rendered documentation -- with the repository, file, commit and R call of each
case. Nothing in that file was produced by this project's code.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import (
    InvalidClaimError,
    InvalidParameterError,
    NumericalRangeError,
    ReconcileError,
)
from models.pooling import (
    CI_METHODS,
    TAU2_METHODS,
    FixedEffect,
    PoolingFit,
    RandomEffects,
    leave_one_out,
    studentized_residuals,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE: dict[str, Any] = json.loads(
    (ROOT / "tests" / "data" / "metafor_reference.json").read_text(encoding="utf-8")
)
DATASETS: dict[str, dict[str, Any]] = REFERENCE["datasets"]
CASES: list[dict[str, Any]] = REFERENCE["cases"]
PRINTED_CASES: list[dict[str, Any]] = REFERENCE["printed_cases"]

#: The one tolerance for references stored at full precision. statsmodels stores metafor's
#: values to 15 significant digits and PyMARE to 17, and every quantity is a deterministic
#: closed form or a root solved far tighter than this (the statsmodels PM call used
#: ``control=list(tol=1e-9)``), so a relative gap above 1e-6 is a real difference, not rounding.
RTOL = 1e-6

#: metafor's default Fisher-scoring ``threshold`` (``rma(..., control=list(threshold=1e-5))``).
#: PyMARE's calls keep the default, so metafor's REML τ² is the iterate at which a step first
#: fell below 1e-5 -- up to ~4e-6 relative from the exact REML root on these data. models.pooling
#: runs the same algorithm from the same (Hedges) start, so with the same threshold it reproduces
#: that iterate and :data:`RTOL` applies; the fully converged default is checked separately
#: against :data:`REML_CONVERGED_RTOL`.
METAFOR_REML_THRESHOLD = 1e-5

#: Honest tolerance for REML at our default ``tol=1e-10`` against metafor's 1e-5-threshold
#: output, i.e. our exact root against metafor's last iterate. Observed worst cases: 4.3e-6
#: relative on τ² and μ (unequal_k5, τ² ≈ 3.05, slow linear convergence) and 1.8e-5 on
#: extreme_k10's ci.lb, a bound near zero (0.011) where a 2e-7 absolute shift is large relative.
#: 1e-4 bounds these with margin and still catches a wrong likelihood or parameterisation.
REML_CONVERGED_RTOL = 1e-4

LEVEL = 0.95  # all reference intervals are metafor's default level=95


# --------------------------------------------------------------------------------------------
# helpers


def dataset_arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(yi, vi)`` of a reference dataset; dat.bcg's are derived from its published counts."""
    d = DATASETS[name]
    if "yi" in d:
        return np.array(d["yi"], dtype=float), np.array(d["vi"], dtype=float)
    a, b, c, e = (np.array(d[col], dtype=float) for col in ("tpos", "tneg", "cpos", "cneg"))
    yi = np.log((a / (a + b)) / (c / (c + e)))
    vi = 1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + e)
    return yi, vi


def estimator_for(method: str, test: str, tol: float = 1e-10) -> FixedEffect | RandomEffects:
    if method == "FE":
        return FixedEffect(ci_method=test)
    return RandomEffects(tau2_method=method, ci_method=test, tol=tol)


def fitted_quantities(fit: PoolingFit) -> dict[str, float]:
    """Our fit under metafor's names; I² converted from our fraction to metafor's percent."""
    lo, hi = fit.interval(LEVEL)
    return {
        "beta": fit.mu,
        "se": fit.se,
        "tau2": fit.tau2,
        "QE": fit.q,
        "QEp": fit.q_pvalue,
        "I2": 100.0 * fit.i2,
        "H2": fit.h2,
        "ci_lb": lo,
        "ci_ub": hi,
    }


def mismatches(actual: dict[str, float], expected: dict[str, float], rtol: float) -> list[str]:
    out = []
    for key, want in expected.items():
        if key == "dof":
            continue
        got = actual[key]
        if want == 0:
            ok = got == 0.0  # τ² = 0 must be an exact boundary, not a small number
        else:
            ok = abs(got - want) <= rtol * abs(want)
        if not ok:
            rel = abs(got - want) / abs(want) if want else math.inf
            out.append(f"{key}: got {got!r}, metafor {want!r} (rel {rel:.2e})")
    return out


def printed_gap(actual: float, printed: float, decimals: int) -> float:
    """How far ``actual`` is outside what rounds to ``printed`` (<= 0 means consistent)."""
    # Half a unit in the last printed place, plus slack for the double nearest the printed text.
    return abs(actual - printed) - (0.5 * 10.0**-decimals + 1e-12)


def case_id(case: dict[str, Any]) -> str:
    return str(case["id"])


# --------------------------------------------------------------------------------------------
# the reference set itself


def test_every_reference_case_names_its_source_and_r_call() -> None:
    sources = REFERENCE["sources"]
    cases = [
        *CASES,
        *PRINTED_CASES,
        REFERENCE["printed_leave1out"],
        REFERENCE["printed_rstudent"],
    ]
    for case in cases:
        source = sources[case["source"]]
        assert source["repository"] and source["path"] and len(source["commit"]) == 40
        assert case["r_call"], case["id"]
        assert case["dataset"] in DATASETS, case["id"]
    for name, d in DATASETS.items():
        assert d["source"] in sources, name


def test_reference_set_covers_every_tau2_method_and_both_ci_methods() -> None:
    """Each estimator and each interval type is checked against metafor at least once.

    No independent source publishes Paule–Mandel with Knapp–Hartung; that combination is the
    PM τ² (checked with ``z``) fed through the same Knapp–Hartung code checked with FE, DL, REML.
    """
    covered = {(c["method"], c["test"]) for c in [*CASES, *PRINTED_CASES]}
    assert {m for m, _ in covered} >= {"FE", *TAU2_METHODS}
    assert {t for _, t in covered} >= set(CI_METHODS)
    for method in ("FE", "DL", "REML"):
        assert {(method, t) for t in CI_METHODS} <= covered
    assert ("PM", "z") in covered
    # at least two independent datasets with full-precision references
    assert len({DATASETS[c["dataset"]]["source"] for c in CASES}) >= 2


def test_bcg_inputs_derived_from_counts_match_the_printed_yi_and_vi() -> None:
    d = DATASETS["bcg"]
    yi, vi = dataset_arrays("bcg")
    for got, printed in zip(yi, d["printed_yi"], strict=True):
        assert printed_gap(got, printed, d["printed_decimals"]) <= 0
    for got, printed in zip(vi, d["printed_vi"], strict=True):
        assert printed_gap(got, printed, d["printed_decimals"]) <= 0


# --------------------------------------------------------------------------------------------
# full-precision parity


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_metafor_to_rtol(case: dict[str, Any]) -> None:
    yi, vi = dataset_arrays(case["dataset"])
    # REML at metafor's own stopping threshold; DL and FE are closed forms and PM is checked at
    # our default tolerance (metafor's uniroot ran at tol=1e-9, well inside RTOL).
    tol = METAFOR_REML_THRESHOLD if case["method"] == "REML" else 1e-10
    fit = estimator_for(case["method"], case["test"], tol).fit(yi, vi)
    expected = case["expected"]
    assert not mismatches(fitted_quantities(fit), expected, RTOL)
    assert fit.k == len(yi) and fit.q_df == len(yi) - 1
    if case["test"] == "knha":
        assert fit.df == expected.get("dof", len(yi) - 1)
    else:
        assert fit.df is None
    assert fit.method == ("fixed_effect" if case["method"] == "FE" else "random_effects")
    assert fit.tau2_method == (None if case["method"] == "FE" else case["method"])


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "REML"], ids=case_id)
def test_reml_at_default_tol_is_within_metafor_s_stopping_error(case: dict[str, Any]) -> None:
    yi, vi = dataset_arrays(case["dataset"])
    fit = RandomEffects("REML", case["test"]).fit(yi, vi)
    assert not mismatches(fitted_quantities(fit), case["expected"], REML_CONVERGED_RTOL)


# --------------------------------------------------------------------------------------------
# parity with metafor's printed documentation (dat.bcg)


@pytest.mark.parametrize("tol", [1e-10, METAFOR_REML_THRESHOLD])
@pytest.mark.parametrize("case", PRINTED_CASES, ids=case_id)
def test_bcg_matches_metafor_documentation(case: dict[str, Any], tol: float) -> None:
    yi, vi = dataset_arrays(case["dataset"])
    fit = estimator_for(case["method"], case["test"], tol).fit(yi, vi)
    ours = fitted_quantities(fit)
    pi_lo, pi_hi = fit.prediction_interval(LEVEL)
    ours |= {
        "exp_pred": math.exp(fit.mu),
        "exp_ci_lb": math.exp(ours["ci_lb"]),
        "exp_ci_ub": math.exp(ours["ci_ub"]),
        "exp_pi_lb": math.exp(pi_lo),
        "exp_pi_ub": math.exp(pi_hi),
    }
    gaps = {
        key: printed_gap(ours[key], printed, case["decimals"][key])
        for key, printed in case["printed"].items()
    }
    assert all(gap <= 0 for gap in gaps.values()), gaps


@pytest.mark.parametrize("tol", [1e-10, METAFOR_REML_THRESHOLD])
def test_bcg_leave_one_out_matches_metafor_documentation(tol: float) -> None:
    ref = REFERENCE["printed_leave1out"]
    yi, vi = dataset_arrays(ref["dataset"])
    estimator = estimator_for(ref["method"], ref["test"], tol)
    mu_without, se_without = leave_one_out(estimator, yi, vi)
    cols = ref["columns"]
    for i, row in enumerate(ref["rows"]):
        printed = dict(zip(cols, row, strict=True))
        keep = np.arange(len(yi)) != i
        refit = estimator.fit(yi[keep], vi[keep])
        lo, hi = refit.interval(LEVEL)
        ours = {
            "estimate": mu_without[i],
            "se": se_without[i],
            "ci.lb": lo,
            "ci.ub": hi,
            "Q": refit.q,
            "tau2": refit.tau2,
            "I2": 100.0 * refit.i2,
            "H2": refit.h2,
        }
        gaps = {k: printed_gap(ours[k], printed[k], ref["decimals"]) for k in cols}
        assert all(gap <= 0 for gap in gaps.values()), (i, gaps)


@pytest.mark.parametrize("tol", [1e-10, METAFOR_REML_THRESHOLD])
def test_bcg_studentized_residuals_match_metafor_rstudent(tol: float) -> None:
    ref = REFERENCE["printed_rstudent"]
    yi, vi = dataset_arrays(ref["dataset"])
    estimator = estimator_for(ref["method"], ref["test"], tol)
    z = studentized_residuals(estimator, yi, vi)
    mu_without, se_without = leave_one_out(estimator, yi, vi)
    for i, (resid, se, zi) in enumerate(ref["rows"]):
        keep = np.arange(len(yi)) != i
        tau2_without = estimator.fit(yi[keep], vi[keep]).tau2
        our_resid = yi[i] - mu_without[i]
        our_se = math.sqrt(vi[i] + tau2_without + se_without[i] ** 2)
        assert printed_gap(our_resid, resid, ref["decimals"]) <= 0, i
        assert printed_gap(our_se, se, ref["decimals"]) <= 0, i
        assert printed_gap(z[i], zi, ref["decimals"]) <= 0, i


# --------------------------------------------------------------------------------------------
# golden fixtures for the HTTP API


FIXTURES = sorted((ROOT / "fixtures").glob("metafor_*.json"))


def _fixture_quantity(fit: PoolingFit, key: str, levels: list[float]) -> float:
    if key.startswith("estimate.intervals."):
        _, _, index, end = key.split(".")
        lo, hi = fit.interval(levels[int(index)])
        return lo if end == "low" else hi
    return {
        "estimate.value": fit.mu,
        "estimate.se": fit.se,
        "heterogeneity.tau2": fit.tau2,
        "heterogeneity.q": fit.q,
        "heterogeneity.i2": fit.i2,
    }[key]


def test_both_golden_fixtures_exist() -> None:
    names = {p.name for p in FIXTURES}
    assert "metafor_bcg_reml.json" in names
    assert len(names) >= 2


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_golden_fixture_is_consistent_with_its_reference(path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    inp = fixture["input"]
    claims, sources = inp["claims"], inp["sources"]
    assert [s["id"] for s in sources] == [f"s{i + 1}" for i in range(len(claims))]
    assert all(s["type"] == "other" and "reliability" not in s for s in sources)
    assert [c["source"] for c in claims] == [s["id"] for s in sources]
    assert all(c["kind"] == "point" for c in claims)

    ref = fixture["provenance"]["reference"]
    yi, vi = dataset_arrays(ref["dataset"])
    assert [c["value"] for c in claims] == [float(x) for x in yi]
    assert [c["sd"] for c in claims] == [math.sqrt(x) for x in vi]

    # the expected values are the reference's, not ours
    case = next(c for c in [*CASES, *PRINTED_CASES] if c["id"] == ref["case"])
    metafor = case["expected"] if "expected" in case else case["printed"]
    names = {
        "estimate.value": "beta",
        "estimate.se": "se",
        "estimate.intervals.0.low": "ci_lb",
        "estimate.intervals.0.high": "ci_ub",
        "heterogeneity.tau2": "tau2",
        "heterogeneity.q": "QE",
        "heterogeneity.i2": "I2",
    }
    for key, spec in fixture["expected"].items():
        want = metafor[names[key]] / (100.0 if key == "heterogeneity.i2" else 1.0)
        assert spec["value"] == pytest.approx(want, rel=1e-15, abs=0), key

    # and models.pooling, fed exactly what the API will be fed, lands within each rtol
    estimator = (
        FixedEffect(inp["ci_method"])
        if inp["method"] == "fixed_effect"
        else RandomEffects(inp["tau2_method"], inp["ci_method"])
    )
    fit = estimator.fit([c["value"] for c in claims], [c["sd"] ** 2 for c in claims])
    for key, spec in fixture["expected"].items():
        got = _fixture_quantity(fit, key, inp["levels"])
        assert abs(got - spec["value"]) <= spec["rtol"] * abs(spec["value"]), key


# --------------------------------------------------------------------------------------------
# hyper-parameter validation


@pytest.mark.parametrize("bad", ["XX", "dl", "HE", ""])
def test_invalid_tau2_method_is_named_with_the_allowed_values(bad: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        RandomEffects(tau2_method=bad)
    assert info.value.message == f"Invalid tau2_method '{bad}'; must be one of DL, PM, REML."
    assert info.value.field == "tau2_method"


@pytest.mark.parametrize("factory", [FixedEffect, lambda ci: RandomEffects("DL", ci)])
def test_invalid_ci_method_is_rejected(factory: Any) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"Invalid ci_method 't'; must be one of z, knha\."
    ):
        factory("t")


@pytest.mark.parametrize("tol", [0.0, -1e-8, math.nan, math.inf, True])
def test_invalid_tol_is_rejected(tol: float) -> None:
    with pytest.raises(InvalidParameterError, match="Invalid tol"):
        RandomEffects(tol=tol)


@pytest.mark.parametrize("max_iter", [0, -3, 2.5, True])
def test_invalid_max_iter_is_rejected(max_iter: int) -> None:
    with pytest.raises(InvalidParameterError, match="Invalid max_iter"):
        RandomEffects(max_iter=max_iter)


def test_estimators_and_fits_are_immutable() -> None:
    estimator = RandomEffects("PM")
    with pytest.raises(dataclasses.FrozenInstanceError):
        estimator.tau2_method = "DL"  # type: ignore[misc]
    fit = estimator.fit([1.0, 2.0, 4.0], [1.0, 1.0, 1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.mu = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, math.nan])
def test_invalid_level_is_rejected(level: float) -> None:
    fit = FixedEffect().fit([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"must lie in \(0, 1\)"):
        fit.interval(level)
    with pytest.raises(InvalidParameterError, match=r"must lie in \(0, 1\)"):
        fit.prediction_interval(level)


# --------------------------------------------------------------------------------------------
# input validation


@pytest.mark.parametrize(
    ("y", "v", "error", "pattern"),
    [
        ([], [], InvalidClaimError, "at least 1"),
        ([1.0, math.nan], [1.0, 1.0], InvalidClaimError, r"y\[1\] is nan"),
        ([1.0, math.inf], [1.0, 1.0], InvalidClaimError, r"y\[1\] is inf"),
        ([1.0, 2.0], [1.0, 0.0], InvalidClaimError, r"v\[1\] is 0\.0"),
        ([1.0, 2.0], [-1.0, 1.0], InvalidClaimError, r"v\[0\] is -1\.0"),
        ([1.0, 2.0], [1.0, math.nan], InvalidClaimError, r"v\[1\] is nan"),
        ([1.0, 2.0], [1.0, math.inf], InvalidClaimError, r"v\[1\] is inf"),
        ([1.0, 2.0], [1.0], InvalidClaimError, "one variance per effect size"),
        ([[1.0, 2.0]], [[1.0, 1.0]], InvalidClaimError, "1-d"),
        (["a", "b"], [1.0, 1.0], InvalidClaimError, "must be numbers"),
        ([1.0, 2.0], [1e-320, 1.0], NumericalRangeError, "too small"),
    ],
)
@pytest.mark.parametrize(
    "estimator", [FixedEffect(), RandomEffects("DL"), RandomEffects("PM"), RandomEffects()]
)
def test_bad_inputs_raise_a_reconcile_error(
    estimator: FixedEffect | RandomEffects,
    y: Any,
    v: Any,
    error: type[ReconcileError],
    pattern: str,
) -> None:
    with pytest.raises(error, match=pattern) as info:
        estimator.fit(y, v)
    assert isinstance(info.value, ReconcileError)


def test_knha_needs_two_claims() -> None:
    for estimator in (FixedEffect("knha"), RandomEffects("REML", "knha")):
        with pytest.raises(InvalidParameterError, match="at least 2 claims"):
            estimator.fit([3.0], [1.0])


# --------------------------------------------------------------------------------------------
# boundary behaviour


HOMOGENEOUS_Y = [10.0, 10.2, 9.9, 10.1, 9.8]
HOMOGENEOUS_V = [0.5, 0.4, 0.6, 0.5, 0.45]


def test_dl_negative_raw_estimate_is_clamped_to_zero() -> None:
    y, v = np.array(HOMOGENEOUS_Y), np.array(HOMOGENEOUS_V)
    w = 1.0 / v
    mu_fe = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - mu_fe) ** 2))
    raw_dl = (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))
    assert raw_dl < 0  # the data really do push DL below zero

    fixed = FixedEffect().fit(y, v)
    for method in TAU2_METHODS:
        fit = RandomEffects(method).fit(y, v)
        assert fit.tau2 == 0.0, method
        assert fit.i2 == 0.0 and fit.h2 == 1.0, method
        assert fit.mu == pytest.approx(fixed.mu, rel=1e-15), method
        assert fit.se == pytest.approx(fixed.se, rel=1e-15), method
        assert fit.q == pytest.approx(q, rel=1e-12), method
    # the fixed-effect model reports metafor's Q-based pair, floored only for I²
    assert fixed.i2 == 0.0 and fixed.h2 == pytest.approx(q / (len(y) - 1), rel=1e-12)


def test_single_claim_random_effects_is_the_fixed_effect_fit() -> None:
    fixed = FixedEffect().fit([5.0], [4.0])
    for method in TAU2_METHODS:
        fit = RandomEffects(method).fit([5.0], [4.0])
        assert fit.tau2 == 0.0 and fit.mu == 5.0 and fit.se == 2.0
        assert (fit.q, fit.q_df, fit.q_pvalue, fit.i2, fit.h2) == (0.0, 0, 1.0, 0.0, 1.0)
        assert fit.weights == (1.0,) and math.isnan(fit.s2)
        assert fit.interval(LEVEL) == fixed.interval(LEVEL)
        assert fit.prediction_interval(LEVEL) == fixed.interval(LEVEL)


def test_single_claim_leave_one_out_is_nan() -> None:
    mu, se = leave_one_out(RandomEffects(), [5.0], [4.0])
    assert mu.shape == se.shape == (1,) and np.isnan(mu).all() and np.isnan(se).all()
    assert np.isnan(studentized_residuals(FixedEffect(), [5.0], [4.0])).all()


def test_two_claims_with_knha_leave_each_other_their_own_se() -> None:
    mu, se = leave_one_out(RandomEffects("DL", "knha"), [1.0, 3.0], [0.25, 4.0])
    assert mu.tolist() == [3.0, 1.0]
    assert se.tolist() == [2.0, 0.5]


def test_identical_claims_have_zero_knha_scale_like_metafor() -> None:
    fit = RandomEffects("REML", "knha").fit([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert fit.tau2 == 0.0 and fit.knha_scale == 0.0 and fit.se == 0.0
    assert fit.interval(LEVEL) == (2.0, 2.0)


def test_leave_one_out_is_the_refit_without_each_claim() -> None:
    yi, vi = dataset_arrays("kacker2004")
    estimator = RandomEffects("PM", "knha")
    mu, se = leave_one_out(estimator, yi, vi)
    z = studentized_residuals(estimator, yi, vi)
    for i in range(len(yi)):
        keep = np.arange(len(yi)) != i
        refit = estimator.fit(yi[keep], vi[keep])
        assert (mu[i], se[i]) == (refit.mu, refit.se)
        assert z[i] == (yi[i] - refit.mu) / math.sqrt(vi[i] + refit.tau2 + refit.se**2)


@pytest.mark.parametrize(
    "estimator", [FixedEffect("knha"), RandomEffects("DL"), RandomEffects("REML", "knha")]
)
def test_fit_methods_equal_the_module_functions(estimator: FixedEffect | RandomEffects) -> None:
    yi, vi = dataset_arrays("pymare_extreme_k10")
    fit = estimator.fit(yi, vi)
    assert fit.estimator == estimator and fit.y == tuple(yi) and fit.v == tuple(vi)
    mu, se = fit.leave_one_out()
    mu2, se2 = leave_one_out(estimator, yi, vi)
    assert np.array_equal(mu, mu2) and np.array_equal(se, se2)
    assert np.array_equal(fit.studentized_residuals(), studentized_residuals(estimator, yi, vi))


def test_weights_are_normalised_inverse_total_variances() -> None:
    yi, vi = dataset_arrays("kacker2004")
    fit = RandomEffects("DL").fit(yi, vi)
    w = 1.0 / (vi + fit.tau2)
    assert math.fsum(fit.weights) == pytest.approx(1.0, abs=1e-15)
    assert np.allclose(fit.weights, w / w.sum(), rtol=1e-14, atol=0)


def test_reml_that_cannot_converge_raises() -> None:
    yi, vi = dataset_arrays("pymare_unequal_k5")
    with pytest.raises(NumericalRangeError, match="did not converge in 2 iterations"):
        RandomEffects("REML", max_iter=2).fit(yi, vi)


# --------------------------------------------------------------------------------------------
# properties


samples = st.lists(
    st.tuples(
        st.floats(-50, 50, allow_nan=False, allow_infinity=False),
        st.floats(0.01, 20, allow_nan=False, allow_infinity=False),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    data=samples,
    shift=st.floats(-1e4, 1e4, allow_nan=False),
    scale=st.floats(0.01, 100, allow_nan=False),
    method=st.sampled_from(TAU2_METHODS),
)
def test_location_scale_equivariance(
    data: list[tuple[float, float]], shift: float, scale: float, method: str
) -> None:
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    base = RandomEffects(method).fit(y, v)
    moved = RandomEffects(method).fit(scale * y + shift, scale**2 * v)
    spread = float(np.max(np.abs(y))) + 1.0
    assert moved.mu == pytest.approx(scale * base.mu + shift, abs=1e-7 * scale * spread)
    assert moved.se == pytest.approx(scale * base.se, rel=1e-6)
    assert moved.tau2 == pytest.approx(scale**2 * base.tau2, rel=1e-6, abs=1e-9 * scale**2)
    assert moved.i2 == pytest.approx(base.i2, abs=1e-7)
    assert 0.0 <= base.i2 <= 1.0 and base.h2 >= 1.0 and base.tau2 >= 0.0
    assert math.fsum(base.weights) == pytest.approx(1.0, abs=1e-12)


def test_auto_scale_pools_positive_effect_sizes_as_given() -> None:
    """Issue 13, point 9: positive effect sizes with standard errors (no grades, so ``auto``
    picks random effects) are pooled on their own scale, as metafor pools them; only counts
    and amounts (whole numbers) go to the log scale."""
    from models.claims import Claim, Source
    from models.reconcile import reconcile

    y = [0.21, 0.48, 0.33, 0.62]
    sd = [0.10, 0.12, 0.15, 0.09]
    claims = [Claim(f"s{i}", "point", yi, sd=si)
              for i, (yi, si) in enumerate(zip(y, sd, strict=True))]
    sources = [Source(f"s{i}") for i in range(len(y))]
    result = reconcile(claims, sources)
    assert result.method == "random_effects" and result.scale == "linear"
    expected = RandomEffects("REML").fit(np.array(y), np.array(sd) ** 2)
    assert result.estimate.value == pytest.approx(expected.mu, rel=RTOL)

    counts = [Claim(f"s{i}", "point", v, sd=0.1 * v)
              for i, v in enumerate((1200.0, 1500.0, 1350.0))]
    assert reconcile(counts, sources[:3]).scale == "log"
