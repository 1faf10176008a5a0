"""The single question's fast paths give, bit for bit, what the plain formulas give.

The kernels write each step into arrays of their own (``out=``), skip a floor that cannot
bind, read an unjudged source's rows as a slice, and the quantiles read the Hermite cells'
weights once per grid and test the Newton step's denominators with one reduction: each is the
same IEEE operation on the same operands as the formula written out, so the answers must be
equal, not merely close (no tolerance here). The references below are the formulas as the
code wrote them before those changes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import log_ndtr

from models.claims import Claim, Source
from models.credibility import profile_for
from models.encode import encode, working_scale
from models.likelihood import common, encoded, kernels
from models.quadrature import SlopeCoefficients, quantiles
from models.reconcile import reconcile
from models.result import ReconcileResult


def _plain_box(e: np.ndarray, half: np.ndarray) -> np.ndarray:
    lo, hi = e - half, e + half
    l1 = log_ndtr(hi)
    gap = log_ndtr(lo) - l1
    separated = gap < -1e-12
    exact = l1 + np.log1p(-np.exp(np.where(separated, gap, -1.0)))
    with np.errstate(divide="ignore"):
        flat = -0.5 * e * e - common.LOG_SQRT_2PI + np.log(2.0 * half)
    return np.asarray(np.maximum(np.where(separated, exact, flat), common.LOG_FLOOR))


def _plain_block(blk: encoded.KernelBlock, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kernels of :class:`models.likelihood.encoded.KernelBlock`'s docstring, one new array
    per step (no clipping: the grids here are far inside ±Z_MAX)."""
    d = blk.centre - theta
    if blk.family == encoded.FAMILY_POINT:
        z, zw = d * blk.scale_right, d * blk.scale_wrong
        return blk.right_const - 0.5 * (z * z), blk.wrong_const - np.log1p(zw * zw)
    if blk.family == encoded.FAMILY_BOUND:
        return (blk.right_const + log_ndtr(d * blk.scale_right),
                blk.wrong_const + np.log(np.arctan2(1.0, d * blk.scale_wrong)))
    dw = d * blk.scale_wrong
    with np.errstate(divide="ignore"):
        box = np.log(np.arctan2(blk.half_wrong, blk.cross + dw * dw))
    return (blk.right_const + _plain_box(np.abs(d) * -blk.scale_right, blk.half),
            np.maximum(blk.wrong_const + box, common.LOG_FLOOR))


def _plain_rows(enc: encoded.EncodedClaims, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = enc.owner.shape[0]
    right, wrong = np.empty((rows, theta.shape[0])), np.empty((rows, theta.shape[0]))
    for blk in enc.blocks:
        right[blk.rows], wrong[blk.rows] = _plain_block(blk, theta)
    both = np.maximum(right, wrong) + np.log1p(np.exp(-np.minimum(np.abs(right - wrong),
                                                                  kernels._ADD_GAP)))
    ell = np.empty((enc.n, theta.shape[0]))
    for i in range(enc.n):
        block = both[enc.owner == i]
        peak = block.max(axis=0)
        ell[i] = np.log(np.exp(block - peak).sum(axis=0)) + peak if block.shape[0] > 1 \
            else block[0]
    return ell, wrong


#: Claim kinds interleaved (every family's rows scattered) and grouped (each family's rows
#: consecutive: written into a slice).
KINDS = {"mixed": ("point", "at_least", "range", "at_most", "point") * 2,
         "grouped": ("point",) * 4 + ("range",) * 3 + ("at_least", "at_most", "at_least")}


def _question(seed: int, unjudged: tuple[int, ...], layout: str = "mixed"
              ) -> encoded.EncodedClaims:
    """Ten claims of every kind and hedge, the sources ``unjudged`` without a grade."""
    rng = np.random.default_rng(seed)
    hedges = ("none", "about", "could_be", "rumour", "exact")
    claims, sources = [], []
    for i in range(10):
        x = float(5000 * np.exp(rng.normal(0, 0.4)))
        kind, hedge = KINDS[layout][i], hedges[(i + seed) % 5]
        sources.append(Source(f"s{i}", reliability=None if i in unjudged else "ABCDE"[i % 5]))
        if kind == "range":
            claims.append(Claim(f"s{i}", "range", low=0.8 * x, high=1.3 * x, hedge=hedge))
        else:
            claims.append(Claim(f"s{i}", kind, x, hedge=hedge))
    profiles = {s.id: profile_for(s.reliability) for s in sources}
    return encode(claims, profiles, working_scale(claims, "log"))


@pytest.mark.parametrize("layout", sorted(KINDS))
@pytest.mark.parametrize("unjudged", [(), (2,), (2, 3), (1, 7), (4, 5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_kernels_equal_the_plain_formulas_bit_for_bit(seed: int, unjudged: tuple[int, ...],
                                                          layout: str) -> None:
    enc = _question(seed, unjudged, layout)
    # Both ways of writing a block's rows are met: a slice, and a scatter.
    slices = [isinstance(b.place, slice) for b in enc.blocks]
    assert any(slices) if layout == "grouped" else not all(slices)
    # A coarse grid over the flat prior's window (far tails) and a fine one over the figures.
    for theta in (np.linspace(-590.0, 610.0, 64), np.linspace(7.0, 10.0, 301)):
        ell, wrong = kernels.log_likelihood_rows(enc, theta)
        ref_ell, ref_wrong = _plain_rows(enc, theta)
        assert np.array_equal(wrong, ref_wrong)
        assert np.array_equal(ell, ref_ell)


def test_a_wrong_part_near_the_floor_is_still_floored() -> None:
    """The floor is skipped only when no wrong constant lies near it: a constant of −1e300
    keeps it."""
    enc = _question(0, ())
    blk = next(b for b in enc.blocks if b.family == encoded.FAMILY_RANGE)
    low = dataclasses.replace(blk, wrong_const=np.full_like(blk.wrong_const, -1e300),
                              wrong_floor_free=False)
    theta = np.linspace(7.0, 10.0, 11)
    _, wrong = kernels._block_kernels(low, theta, 10.0, right_only=False)
    assert wrong is not None and np.array_equal(wrong, _plain_block(low, theta)[1])
    assert not encoded._blocks(dataclasses.replace(enc, log_1mc=np.full_like(enc.log_1mc, -1e300)))[
        0].wrong_floor_free


def _plain_quantiles(theta: np.ndarray, density: np.ndarray, rows: np.ndarray,
                     probs: np.ndarray) -> np.ndarray:
    """The quantiles as first written: the Hermite cells with their weights computed afresh,
    every Newton step divided with a mask."""
    h_all = theta[1:] - theta[:-1]
    a_all, b_all = h_all[:-1], h_all[1:]
    slope = np.empty_like(density)
    slope[:, 1:-1] = (-b_all / (a_all * (a_all + b_all)) * density[:, :-2]
                      + (b_all - a_all) / (a_all * b_all) * density[:, 1:-1]
                      + a_all / (b_all * (a_all + b_all)) * density[:, 2:])
    slope[:, 0] = (density[:, 1] - density[:, 0]) / h_all[0]
    slope[:, -1] = (density[:, -1] - density[:, -2]) / h_all[-1]
    cells = np.maximum(0.5 * h_all * (density[:, 1:] + density[:, :-1]) + h_all * h_all / 12.0
                       * (slope[:, :-1] - slope[:, 1:]), 0.0)
    cdf = np.zeros(density.shape)
    np.cumsum(cells, axis=-1, out=cdf[:, 1:])
    total = np.where(cdf[:, -1] > 0, cdf[:, -1], 1.0)
    target = probs * total[rows]
    j = np.minimum(np.maximum((cdf[rows] < target[:, None]).sum(axis=1) - 1, 0),
                   theta.shape[0] - 2)
    h = theta[j + 1] - theta[j]
    p0, p1 = density[rows, j], density[rows, j + 1]
    d0, d1 = slope[rows, j] * h, slope[rows, j + 1] * h
    cell, need = cells[rows, j], target - cdf[rows, j]
    t = np.minimum(np.maximum(need / np.where(cell > 0, cell, 1.0), 0.0), 1.0)
    b = 0.5 * d0
    c = p1 - p0 - (2.0 * d0 + d1) / 3.0
    d = 0.5 * (p0 - p1) + 0.25 * (d0 + d1)
    for _ in range(3):
        value = p0 + t * (2.0 * b + t * (3.0 * c + t * (4.0 * d)))
        gap = t * (p0 + t * (b + t * (c + t * d))) - need / h
        step = np.divide(gap, value, out=np.zeros_like(gap), where=value > 0)
        t = np.minimum(np.maximum(t - step, 0.0), 1.0)
    return np.asarray(theta[j] + t * h)


@pytest.mark.parametrize("seed", range(5))
def test_the_quantiles_equal_the_plain_newton_steps_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    theta = np.cumsum(rng.uniform(0.01, 0.1, 200))
    centres = rng.uniform(theta[40], theta[160], 6)[:, None]
    density = np.exp(-0.5 * ((theta - centres) / rng.uniform(0.2, 1.0, 6)[:, None]) ** 2)
    density[2, 90:110] = 0.0  # a gap: the density vanishes in some cells
    rows = np.repeat(np.arange(6), 5)
    probs = np.tile([0.05, 0.25, 0.5, 0.75, 0.95], 6)
    got = quantiles(theta, density, rows, probs, SlopeCoefficients.of(theta))
    assert np.array_equal(got, _plain_quantiles(theta, density, rows, probs))


def test_a_result_s_words_and_claims_are_set_as_replace_sets_them() -> None:
    """with_claims and with_words spell out every field: a field added to the result and not
    to them fails here."""
    claims = [Claim("a", "point", 100.0), Claim("b", "point", 130.0)]
    result = reconcile(claims, [Source("a", reliability="B"), Source("b", reliability="C")])
    marked = {f.name: object() for f in dataclasses.fields(ReconcileResult)}
    every = dataclasses.replace(result, **marked)  # type: ignore[arg-type]
    for got, want in (
        (every.with_claims(result.claims), dataclasses.replace(every, claims=result.claims)),
        (every.with_words(result.findings, result.summary, "text"),
         dataclasses.replace(every, findings=result.findings, summary=result.summary,
                             explanation="text")),
    ):
        for f in dataclasses.fields(ReconcileResult):
            assert getattr(got, f.name) is getattr(want, f.name), f.name
