"""The models.batch package: its public names, its light import, its shared kernels, its seams."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import models.batch
from models import likelihood
from models.batch import ClaimTable, em, kernels
from models.batch.common import EPS
from models.batch.encode import encode
from models.batch.exact import ExactPart
from models.batch.state import Hyper, Params

ROOT = Path(__file__).resolve().parents[2]

#: The names other code imports from models.batch (service, bench, tests), which the package
#: must keep exporting.
PUBLIC = (
    "BatchEstimator", "BatchFit", "BatchWarning", "ClaimTable", "PopulationPrior",
    "QuestionEstimates", "SourceEstimates", "SourceParameters", "infer_resolution",
    "learned_profiles",
)

HYPER = Hyper(wrong_spread=1.0, prior_scale=2.5, pooled_strength=4.0, graded_strength=12.0,
              spread_strength=4.0, bias_strength=4.0, learn_bias=True)


def test_public_names_are_exported() -> None:
    assert sorted(models.batch.__all__) == sorted(PUBLIC)
    for name in (*PUBLIC, "KIND_POINT", "KIND_AT_LEAST", "KIND_AT_MOST", "KIND_RANGE"):
        assert hasattr(models.batch, name), name


def test_importing_the_package_does_not_load_scipy() -> None:
    # scipy costs a third of a second of start-up; only bounds, ranges, atoms and priors
    # need it, and import it when they do.
    probe = "import sys, models.batch; print('scipy' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, check=True)

    assert result.stdout.strip() == "False"


def _interval_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    lo = np.concatenate([rng.normal(0.0, 20.0, 2000), [-np.inf, 3.0, 0.0, 45.0, -1e150]])
    hi = np.concatenate([lo[:2000] + rng.exponential(3.0, 2000), [2.0, np.inf, 0.0, 45.0,
                                                                   1e150]])
    return lo, hi


def test_batch_interval_kernels_are_the_likelihood_modules_floored() -> None:
    lo, hi = _interval_inputs()

    normal = kernels.log_normal_interval(lo, hi)
    cauchy = kernels.log_cauchy_interval(lo, hi)

    # One implementation: the batch path only raises the floor to −700 (on P·π for Cauchy).
    np.testing.assert_array_equal(normal,
                                  np.maximum(likelihood.log_normal_interval(lo, hi), -700.0))
    np.testing.assert_array_equal(
        cauchy, np.maximum(likelihood.log_cauchy_interval(lo, hi), -700.0 - math.log(math.pi))
    )
    assert normal.min() == -700.0  # far tails and the empty interval [0, 0]
    assert normal[-3] == -700.0


def test_likelihood_default_floor_is_unchanged() -> None:
    # The single-question path keeps its own floor: a far tail is not clipped at −700.
    far = likelihood.log_normal_interval(np.array([45.0]), np.array([np.inf]))
    assert far[0] == pytest.approx(-0.5 * 45.0**2 - math.log(45.0) - 0.5 * math.log(2 * math.pi),
                                   abs=1e-3)
    empty = likelihood.log_normal_interval(np.array([1.0]), np.array([1.0]))
    assert empty[0] == likelihood.LOG_FLOOR
    both_open = likelihood.log_cauchy_interval(np.array([-np.inf]), np.array([np.inf]))
    assert both_open[0] == 0.0


def _three_questions() -> ClaimTable:
    # q1 rests on one claim; q2 and q3 on several sources that disagree a little.
    return ClaimTable.from_columns(
        ["q1", "q2", "q2", "q2", "q3", "q3"], ["a", "a", "b", "c", "b", "c"], ["point"] * 6,
        [1234.5, 2051.3, 1987.1, 2210.9, 70.31, 74.62],
    )


def _params(n_sources: int) -> Params:
    return Params(c=np.linspace(0.6, 0.9, n_sources), eta=np.full(n_sources, EPS),
                  sigma=np.linspace(0.05, 0.2, n_sources), beta=np.zeros(n_sources))


def test_e_step_takes_its_responsibilities_from_its_two_seams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Questions of at most exact_claims claims take the exact posterior's responsibilities
    # (models.batch.exact), the others the leave-one-out ones; with exact_claims=2, q1 and
    # q3 (1 and 2 claims) are exact and q2 (3 claims that roughly agree) is not.
    table = _three_questions()
    enc = encode(table, "log", "infer", HYPER.prior_scale)
    p = _params(table.n_sources)
    loo: list[tuple[np.ndarray, np.ndarray]] = []
    exact: list[ExactPart] = []
    original_loo = em.loo_responsibilities
    original_exact = em.exact_posterior

    def spy_loo(*args: object, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        out = original_loo(*args, **kwargs)  # type: ignore[arg-type]
        loo.append(out)
        return out

    def spy_exact(*args: object, **kwargs: object) -> ExactPart:
        out = original_exact(*args, **kwargs)  # type: ignore[arg-type]
        exact.append(out)
        return out

    monkeypatch.setattr(em, "loo_responsibilities", spy_loo)
    monkeypatch.setattr(em, "exact_posterior", spy_exact)
    post, _ = em.e_step(enc, p, np.log([1234.5, 2051.3, 72.0]), True,
                        replace(HYPER, exact_claims=2))

    assert enc.atom_q.size == 0  # no atoms: the posterior keeps the seams' output as is
    assert len(loo) == 1 and len(exact) == 1
    np.testing.assert_array_equal(np.sort(exact[0].questions), [0, 2])
    np.testing.assert_array_equal(post.exact, [True, False, True])
    on_exact = np.isin(enc.q, exact[0].questions)
    np.testing.assert_array_equal(post.r_right[exact[0].claims], exact[0].r_right)
    # The leave-one-out pass is evaluated on the Gaussian path's claims only, in order.
    np.testing.assert_array_equal(post.r_right[~on_exact], loo[0][0])
    np.testing.assert_array_equal(post.r_wrong, 1.0 - post.r_right)


@pytest.mark.parametrize(("exact_claims", "rel"), [(0, 1e-12), (8, 1e-7)])
def test_a_lone_claim_keeps_its_credibility_as_p_right(exact_claims: int, rel: float) -> None:
    # With θ integrated out, a claim alone on its question cannot vouch for itself: on the
    # Laplace path by construction, on the exact path because its flat prior gives
    # ∫ f_right dθ = ∫ f_wrong dθ = 1 (to the quadrature's ~2e-8).
    table = _three_questions()
    enc = encode(table, "log", "infer", HYPER.prior_scale)
    p = _params(table.n_sources)

    post, _ = em.e_step(enc, p, np.log([1234.5, 2051.3, 72.0]), True,
                        replace(HYPER, exact_claims=exact_claims))

    assert post.r_right[0] == pytest.approx(p.c[0], rel=rel)
    assert np.all((post.r_right > 0) & (post.r_right < 1))
    np.testing.assert_allclose(post.r_right + post.r_wrong, 1.0, rtol=0, atol=1e-15)
