"""Batch truth discovery: learn each source's credibility from agreement across many questions.

The single-question robust model (:mod:`models.robust`) weighs claims by credibility that the
caller supplies. Across an archive of many questions with overlapping sources, the sources'
credibility, spread and bias can be *learned* from how well each source agrees with the
consensus that the other sources form, as truth-discovery methods do (CRH, Li et al. 2014;
CATD, Li et al. 2015; GTM, Zhao & Han 2012; KDEm, Wan et al. 2016). This module extends the
robust model to that setting and fits it by expectation-maximisation over every claim at once.

Symbols
-------
q, s, i  : a question, a source, a claim (claim i is by source s(i) about question q(i)).
θ_q      : the true value of question q on the working scale (its log on the log scale).
y_i      : claim i's figure on the working scale; [a_i, b_i] the interval a bound or range
           states (a_i = b_i = y_i for a point).
[l_i, u_i] : the *rounding window* of a point figure: the values it would have been rounded
           from, e.g. 596,638 → [596,637.5, 596,638.5] and 600,000 → [550,000, 650,000]
           (inferred from the figure's trailing zeros or decimals); w_i = u_i − l_i.
ε_s, ρ_s, ω_s : source s's probabilities that a claim is *exact* (a copy of the truth up to
           rounding), *right* (near the truth) or *wrong*; ε + ρ + ω = 1.
c_s      : credibility, ε_s + ρ_s, the probability that a claim is right (exactly or not).
σ_s, β_s : spread and bias of a right claim on the working scale.
t_i      : evidence weight, 1/k for the k claims of one evidence unit (origin, else source) on
           one question, so that echoes count once (as in :mod:`models.robust`).
μ_q, τ_q : mean and standard deviation of the continuous part of θ_q's posterior.

Model
-----
A claim's likelihood is a three-part mixture (the foundation's two-part mixture after Hogg,
Bovy & Lang 2010, plus an exact part)::

    L_i(θ) = ε_s · 1{θ ∈ [l_i, u_i]} / w_i                               (exact)
           + ρ_s · N(y_i; θ + β_s, σ_i²)                                 (right)
           + ω_s · Cauchy(y_i; θ, σ_w,i)                                 (wrong)

with σ_i² = (σ_s h_i)² + sd_i² (hedge factor h_i, the claim's own standard deviation sd_i) and
σ_w,i = max(σ_wrong, 2σ_i) as in :mod:`models.likelihood`. A bound or range enters through the
probability that the source's perceived value lies in [a_i, b_i] (censoring): Φ-differences
for the right part, Cauchy-CDF differences for the wrong part, and for the exact part the
indicator of θ ∈ [a_i, b_i] (read as right: a bound states no figure to copy).

Why an exact part: in real archives many claims are verbatim copies of an official figure
(population counts, casualty tallies), and several sources giving *the same digits* is far
stronger evidence than several figures that are merely close. A continuous kernel cannot
express this: three identical figures and one stray one should give the identical figure, not
a log-average of four. The exact part makes the posterior of θ_q a mixture of a continuous
density and *atoms*: where the rounding windows of claims from two or more evidence units
share a value v, the posterior has mass on the common window [l_v, u_v] of

    M_v = π(v) · (u_v − l_v) · Π_{i ∈ A_v} (ε_i / w_i)^{t_i} · Π_{j ∉ A_v} C_j(v)^{t_j},

where A_v are the agreeing claims and C_j the continuous (right + wrong) part of L_j; terms of
relative order w (the claims in A_v being right but not exact) are dropped. A figure that no
other evidence unit matches carries no atom: from one figure alone "exact" and "right" cannot
be told apart (the derivative of the marginal likelihood in ε at ε = 0 has expectation zero
under continuous noise). Its right part (probability c = ε + ρ) is read as one Gaussian with
the moment-matched variance η w_i²/12 + (1 − η)σ_i² and bias (1 − η)β_s, η = ε/c: an unmatched
figure of a source that usually copies exact figures weighs as the near-exact figure it
probably is.

Prior. θ_q ~ N(m_q, s_q²) weakly informative as in :mod:`models.robust` (mid-range of the
question's figures; s_q = max(τ₀, their span)).

E-step (per question, vectorised over all claims with bincount). The continuous part is
approximated by a Gaussian N(μ_q, τ_q²): one Newton (iteratively reweighted least squares) step
per EM iteration climbs to a posterior mode, with plug-in responsibilities at θ = μ_q and IRLS
weights r_i/σ_i² (right), 2(1 − r_i)/(σ_w² + d_i²) (the Cauchy's), and the censored-normal score
and information for bounds. A damped step cannot leave the claims' span; every few iterations
the claims that the mode rejects propose rival modes, which replace it when their Laplace mass
is larger (two camps). Its mass Z_q is the Laplace approximation π(μ) Π C_j(μ)^{t_j} √(2π) τ.
With the atoms' masses M_v the posterior is

    p(θ_q | data) = (Z_q N(θ; μ_q, τ_q²) + Σ_v M_v U(θ; l_v, u_v)) / (Z_q + Σ_v M_v),

whose median and equal-tailed quantiles are the estimate and its intervals (bisection on the
mixture's CDF where atoms exist, μ ± z τ elsewhere).

The responsibilities that teach the sources integrate θ out: P(i right | data) ∝
c ∫ N(y_i; θ + β, σ_i²) p_{−i}(θ) dθ over the *cavity* p_{−i}, the posterior without claim i,
approximated by N(μ − t_i g_i/h_{−i}, 1/h_{−i}), h_{−i} = h_q − t_i h_i, mixed with the prior
in the branch (probability Π_{j≠i} ω_j^{t_j}) where every other claim is wrong. Plug-in
responsibilities would let a claim vouch for itself: a lone claim would always look right.

M-step (per source, with a hierarchical prior). With expected counts (claims weighted by t_i)
R_s of right claims among n_s, E_s of exact ones, T_s of right claims on questions that have an
atom (only there is "exact versus noisy" testable), and spread/bias sums over noisy-right
points,

    c_s = (R_s + κ_s c̄_s) / (n_s + κ_s),          η_s = (E_s + κ η̄) / (T_s + κ),
    σ_s² = (Σ r_i E[(y_i − θ − β_s)²] / h_i² + ν σ̄_s²) / (Σ r_i + ν),
    β_s = (Σ r_i E[y_i − θ] + λ β̄_s) / (Σ r_i + λ),

the posterior means under Beta priors with κ pseudo-claims, a scaled-inverse-χ² prior with ν
pseudo-claims at σ̄_s and a Normal prior with λ pseudo-claims at β̄_s. The prior centre is the
source's grade (or learned track record, via :func:`models.credibility.profile_for`) with
strength κ_graded; a source without a usable grade (``F`` or none) is shrunk, with strength
κ_pooled, towards the *population*: the precision-weighted mean of the unrated sources'
credibility and log-spread (empirical Bayes, re-estimated every iteration). η̄ is the archive's
pooled exact share (0 when no figures agree anywhere). A source seen once therefore gets a
credibility between its prior and its one result, never 0 or 1, and a spread of at least
√(ν/(1 + ν)) σ̄ -- the role CATD's χ² bound plays, with a prior instead of a confidence bound.
Grades enter as priors, not overrides: enough disagreeing claims outweigh them.

Identification. Continuous claims see only θ_q + β_s, so all biases can rise while all truths
fall; after each M-step biases and truths are shifted together so that the sources' biases
(each source once, weight n/(n + λ)) average zero, relative to their priors.

Scale. A large table (more than twice s = max(``warm_start_claims``, 20 × sources) claims) is
first fitted on every k-th question, about s claims; the full table then gets ``refine_iter``
more EM iterations. Cost per iteration is linear in the claims (plus pairs of claims only
inside atoms and contested questions); memory is a few dozen arrays of the table's length.

References
----------
Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates using
the EM algorithm. Applied Statistics 28(1), 20-28. doi:10.2307/2346806.
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
Zhao, B. & Han, J. (2012). A probabilistic model for estimating real-valued truth from
conflicting sources. QDB workshop at VLDB 2012 (GTM).
Li, Q., Li, Y., Gao, J., Zhao, B., Fan, W. & Han, J. (2014). Resolving conflicts in
heterogeneous data by truth discovery and source reliability estimation. SIGMOD 2014,
1187-1198. doi:10.1145/2588555.2610509 (CRH).
Li, Q., Li, Y., Gao, J., Su, L., Zhao, B., Demirbas, M., Fan, W. & Han, J. (2014/2015). A
confidence-aware approach for truth discovery on long-tail data. PVLDB 8(4), 425-436.
doi:10.14778/2735496.2735505 (CATD).
Wan, M., Chen, X., Kaplan, L., Han, J., Gao, J. & Zhao, B. (2016). From truth discovery to
trustworthy opinion discovery: an uncertainty-aware quantitative modeling approach. KDD 2016,
1885-1894. doi:10.1145/2939672.2939837 (KDEm).
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. JRSS B 39(1), 1-38 (censored observations in EM).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from models.claims import CLAIM_KINDS, HEDGE_NAMES, HEDGES

if TYPE_CHECKING:  # models.credibility imports scipy; the batch path needs it only for priors
    from models.credibility import SourceProfile
from models.errors import (
    InvalidClaimError,
    InvalidParameterError,
    InvalidSourceError,
    NumericalRangeError,
)

# The claim-kind codes of models.likelihood, repeated so that importing this module (and the
# batch command) does not pull in scipy, which costs a third of a second of start-up; a test
# checks that both agree.
KIND_POINT: Final = 0
KIND_AT_LEAST: Final = 1
KIND_AT_MOST: Final = 2
KIND_RANGE: Final = 3

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "BatchEstimator",
    "BatchFit",
    "BatchWarning",
    "ClaimTable",
    "PopulationPrior",
    "QuestionEstimates",
    "SourceEstimates",
    "SourceParameters",
    "infer_resolution",
    "learned_profiles",
]

#: The hedge named "none", the default of a claim without a hedge.
HEDGE_NONE: Final = HEDGE_NAMES.index("none")
_HEDGE_SPREAD: Final = np.array([HEDGES[h].spread_factor for h in HEDGE_NAMES])
_HEDGE_WRONG: Final = np.array([HEDGES[h].wrong_factor for h in HEDGE_NAMES])
_LOG_SQRT_2PI: Final = 0.5 * math.log(2.0 * math.pi)
_LOG_PI: Final = math.log(math.pi)
#: Narrowest rounding window on the working scale: two figures equal to ~12 digits agree.
_MIN_WINDOW: Final = 1e-12
#: Smallest spread a source can learn (working units); keeps weights finite when a source's
#: right claims are all (nearly) identical to the consensus.
_MIN_SPREAD: Final = 1e-4
#: Probabilities are kept in [_EPS, 1 − _EPS] so that logs stay finite.
_EPS: Final = 1e-9

Scale = Literal["log", "linear"]


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _code_strings(values: Sequence[Any], column: str) -> tuple[IntArray, tuple[str, ...]]:
    """Codes 0..K−1 in order of first appearance, and the K distinct strings."""
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # an unhashable item (a list, an object)
        distinct = {}
    if not distinct or not all(isinstance(k, str) and k for k in distinct):
        row = next(
            (i for i, v in enumerate(values) if not isinstance(v, str) or not v), 0
        )
        raise InvalidClaimError(
            f"Invalid {column} {values[row]!r}; must be a non-empty string.", f"{column}.{row}"
        )
    index = {key: code for code, key in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, tuple(index)


def _is_coded(values: object) -> bool:
    return (isinstance(values, tuple) and len(values) == 2
            and isinstance(values[0], np.ndarray) and isinstance(values[1], tuple))


def _coded(
    values: Sequence[str] | tuple[IntArray, tuple[str, ...]], column: str
) -> tuple[IntArray, tuple[str, ...]]:
    """``values`` coded (see :func:`_code_strings`), or passed through when already coded."""
    if isinstance(values, tuple) and _is_coded(values):
        codes, ids = values
        return np.asarray(codes, dtype=np.int64), tuple(ids)
    return _code_strings(values, column)


def _float_column(values: Sequence[Any] | FloatArray | None, n: int, column: str) -> FloatArray:
    """A column of optional numbers as floats (NaN = not given)."""
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        out = np.asarray(values, dtype=np.float64)
    else:
        kinds = set(map(type, values))
        if any(not (k is type(None) or (issubclass(k, int | float) and not issubclass(k, bool)))
               for k in kinds):
            row = next(
                i for i, v in enumerate(values)
                if isinstance(v, bool) or not isinstance(v, int | float | type(None))
            )
            raise InvalidClaimError(
                f"Invalid {column} {values[row]!r}; must be a number or null.", f"{column}.{row}"
            )
        try:
            out = np.array(values, dtype=np.float64)
        except OverflowError:  # an integer beyond float range
            row = next(i for i, v in enumerate(values) if isinstance(v, int) and abs(v) > 1e308)
            raise InvalidClaimError(
                f"Invalid {column}; {values[row]!r} is beyond the float range.", f"{column}.{row}"
            ) from None
    if out.shape != (n,):
        raise InvalidClaimError(
            f"Column {column} has {out.shape[0] if out.ndim == 1 else out.shape} entries; "
            f"expected {n} (one per claim).",
            column,
        )
    if np.isinf(out).any():
        row = int(np.flatnonzero(np.isinf(out))[0])
        raise InvalidClaimError(
            f"Invalid {column} {float(out[row])!r}; must be finite.", f"{column}.{row}"
        )
    return out


def _code_column(
    values: Sequence[Any] | IntArray | None, n: int, column: str, names: Sequence[str],
    default: int,
) -> IntArray:
    """A column of names (or their codes) as codes into ``names``."""
    if values is None:
        return np.full(n, default, dtype=np.int64)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        out = values.astype(np.int64)
    else:
        lookup = {name: k for k, name in enumerate(names)}
        lookup_none: dict[Any, int] = {None: default, "": default}
        try:
            out = np.fromiter(
                (lookup[v] if v in lookup else lookup_none[v] for v in values),
                dtype=np.int64, count=len(values),
            )
        except (KeyError, TypeError):
            row = next(
                i for i, v in enumerate(values)
                if not isinstance(v, str | None) or (v not in lookup and v not in ("", None))
            )
            raise InvalidClaimError(
                f"Invalid {column} {values[row]!r}; must be one of {', '.join(names)}.",
                f"{column}.{row}",
            ) from None
    if out.shape != (n,):
        raise InvalidClaimError(
            f"Column {column} has {out.shape[0]} entries; expected {n} (one per claim).", column
        )
    bad = np.flatnonzero((out < 0) | (out >= len(names)))
    if bad.size:
        row = int(bad[0])
        raise InvalidClaimError(
            f"Invalid {column} code {int(out[row])}; must be one of {', '.join(names)}.",
            f"{column}.{row}",
        )
    return out


@dataclass(frozen=True, slots=True)
class ClaimTable:
    """Claims about many questions, one array entry per claim (columnar).

    Build it with :meth:`from_columns` (arrays or lists, as read from CSV or a columnar
    request) or :meth:`from_records` (one mapping per claim); the constructor checks every
    column and raises :class:`~models.errors.InvalidClaimError` whose ``field`` names the column
    and row (``"value.17"``).

    Attributes
    ----------
    question : (n,) int
        Question code, 0..Q−1; ``question_ids[code]`` is its id.
    source : (n,) int
        Source code, 0..S−1; ``source_ids[code]`` is its id.
    kind : (n,) int
        ``KIND_POINT``, ``KIND_AT_LEAST``, ``KIND_AT_MOST`` or ``KIND_RANGE``
        (:mod:`models.likelihood`).
    value : (n,) float
        The figure (point) or bound (at_least, at_most); NaN for a range.
    low, high : (n,) float
        Ends of a range; NaN otherwise.
    sd : (n,) float
        The claim's own standard deviation (points only), NaN when not given.
    hedge : (n,) int
        Index into :data:`models.claims.HEDGE_NAMES`.
    origin : (n,) int
        Origin code (claims of one origin on one question count once), −1 when not given.
    resolution : (n,) float
        Rounding step of the figure in the quantity's units (1 for a count given to the unit,
        1000 for "12,000"), NaN to infer it from the figure's digits.
    question_ids, source_ids : tuple of str
    """

    question: IntArray
    source: IntArray
    kind: IntArray
    value: FloatArray
    low: FloatArray
    high: FloatArray
    sd: FloatArray
    hedge: IntArray
    origin: IntArray
    resolution: FloatArray
    question_ids: tuple[str, ...]
    source_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        self._validate()

    @property
    def n(self) -> int:
        """Number of claims."""
        return int(self.question.shape[0])

    @property
    def n_questions(self) -> int:
        return len(self.question_ids)

    @property
    def n_sources(self) -> int:
        return len(self.source_ids)

    def _validate(self) -> None:
        n = self.n
        if n == 0:
            raise InvalidClaimError("At least one claim is required.", "question")
        for name in ("source", "kind", "value", "low", "high", "sd", "hedge", "origin",
                     "resolution"):
            column = getattr(self, name)
            if column.shape != (n,):
                raise InvalidClaimError(
                    f"Column {name} has shape {column.shape}; expected ({n},).", name
                )
        for name, codes, size in (("question", self.question, self.n_questions),
                                  ("source", self.source, self.n_sources)):
            bad = np.flatnonzero((codes < 0) | (codes >= size))
            if bad.size:
                row = int(bad[0])
                raise InvalidClaimError(
                    f"Invalid {name} code {int(codes[row])}; must lie in 0..{size - 1}.",
                    f"{name}.{row}",
                )
        bad = np.flatnonzero((self.kind < 0) | (self.kind > KIND_RANGE))
        if bad.size:
            row = int(bad[0])
            raise InvalidClaimError(
                f"Invalid kind code {int(self.kind[row])}; must be one of "
                f"{', '.join(CLAIM_KINDS)}.",
                f"kind.{row}",
            )
        is_range = self.kind == KIND_RANGE
        self._require(~is_range, self.value, "value", "Missing value; a {kind} claim needs one.")
        self._require(is_range, self.low, "low", "Missing low; a range claim needs low and high.")
        self._require(is_range, self.high, "high",
                      "Missing high; a range claim needs low and high.")
        self._forbid(is_range, self.value, "value", "A range claim takes low and high, not value.")
        self._forbid(~is_range, self.low, "low", "A {kind} claim takes value, not low.")
        self._forbid(~is_range, self.high, "high", "A {kind} claim takes value, not high.")
        self._forbid(self.kind != KIND_POINT, self.sd, "sd",
                     "Only point claims carry their own uncertainty; {kind} got sd.")
        with np.errstate(invalid="ignore"):
            inverted = np.flatnonzero(is_range & (self.low > self.high))
            if inverted.size:
                row = int(inverted[0])
                raise InvalidClaimError(
                    f"Invalid range: low {float(self.low[row])!r} is above high "
                    f"{float(self.high[row])!r}.",
                    f"low.{row}",
                )
            bad_sd = np.flatnonzero(self.sd <= 0)
            if bad_sd.size:
                row = int(bad_sd[0])
                raise InvalidClaimError(
                    f"Invalid sd {float(self.sd[row])!r}; must be positive.", f"sd.{row}"
                )
            bad_res = np.flatnonzero(self.resolution <= 0)
            if bad_res.size:
                row = int(bad_res[0])
                raise InvalidClaimError(
                    f"Invalid resolution {float(self.resolution[row])!r}; must be positive.",
                    f"resolution.{row}",
                )
        bad = np.flatnonzero((self.hedge < 0) | (self.hedge >= len(HEDGE_NAMES)))
        if bad.size:
            row = int(bad[0])
            raise InvalidClaimError(
                f"Invalid hedge code {int(self.hedge[row])}; must be one of "
                f"{', '.join(HEDGE_NAMES)}.",
                f"hedge.{row}",
            )

    def _require(self, rows: BoolArray, column: FloatArray, name: str, message: str) -> None:
        missing = np.flatnonzero(rows & np.isnan(column))
        if missing.size:
            row = int(missing[0])
            kind = CLAIM_KINDS[int(self.kind[row])]
            raise InvalidClaimError(message.format(kind=kind), f"{name}.{row}")

    def _forbid(self, rows: BoolArray, column: FloatArray, name: str, message: str) -> None:
        given = np.flatnonzero(rows & ~np.isnan(column))
        if given.size:
            row = int(given[0])
            kind = CLAIM_KINDS[int(self.kind[row])]
            raise InvalidClaimError(message.format(kind=kind), f"{name}.{row}")

    @classmethod
    def from_columns(
        cls,
        question: Sequence[str] | tuple[IntArray, tuple[str, ...]],
        source: Sequence[str] | tuple[IntArray, tuple[str, ...]],
        kind: Sequence[str] | IntArray,
        value: Sequence[float | None] | FloatArray | None = None,
        low: Sequence[float | None] | FloatArray | None = None,
        high: Sequence[float | None] | FloatArray | None = None,
        sd: Sequence[float | None] | FloatArray | None = None,
        hedge: Sequence[str | None] | IntArray | None = None,
        origin: Sequence[str | None] | None = None,
        resolution: Sequence[float | None] | FloatArray | None = None,
    ) -> ClaimTable:
        """A table from parallel columns (lists or arrays), one entry per claim.

        Parameters
        ----------
        question, source : sequence of str, or (codes, ids)
            Ids, coded in order of first appearance; or already coded as a pair of an int
            array and the tuple of distinct ids.
        kind : sequence of str, or int array of KIND_* codes
        value, low, high, sd, resolution : sequence of float or None, or float array
            NaN or None where a claim does not give the number.
        hedge : sequence of str or None, or int array of codes
            ``None``/empty means ``"none"``.
        origin : sequence of str or None
            Empty string or ``None`` means no origin.

        Raises
        ------
        InvalidClaimError
            With ``field`` = ``"<column>.<row>"`` (or the column alone for a length mismatch).
        """
        n = len(question[0]) if _is_coded(question) else len(question)
        if n == 0:
            raise InvalidClaimError("At least one claim is required.", "question")
        n_source = len(source[0]) if _is_coded(source) else len(source)
        if n_source != n:
            raise InvalidClaimError(
                f"Column source has {n_source} entries; expected {n} (one per claim).",
                "source",
            )
        q_codes, q_ids = _coded(question, "question")
        s_codes, s_ids = _coded(source, "source")
        kind_codes = _code_column(kind, n, "kind", CLAIM_KINDS, -1)
        hedge_codes = _code_column(hedge, n, "hedge", HEDGE_NAMES, HEDGE_NONE)
        if origin is None:
            origin_codes = np.full(n, -1, dtype=np.int64)
        else:
            if len(origin) != n:
                raise InvalidClaimError(
                    f"Column origin has {len(origin)} entries; expected {n} (one per claim).",
                    "origin",
                )
            index: dict[str, int] = {}
            for row, o in enumerate(origin):
                if o is not None and not isinstance(o, str):
                    raise InvalidClaimError(
                        f"Invalid origin {o!r}; must be a string or null.", f"origin.{row}"
                    )
            origin_codes = np.fromiter(
                (index.setdefault(o, len(index)) if o else -1 for o in origin),
                dtype=np.int64, count=n,
            )
        return cls(
            question=q_codes,
            source=s_codes,
            kind=kind_codes,
            value=_float_column(value, n, "value"),
            low=_float_column(low, n, "low"),
            high=_float_column(high, n, "high"),
            sd=_float_column(sd, n, "sd"),
            hedge=hedge_codes,
            origin=origin_codes,
            resolution=_float_column(resolution, n, "resolution"),
            question_ids=q_ids,
            source_ids=s_ids,
        )

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> ClaimTable:
        """A table from one mapping per claim (keys as in :meth:`from_columns`).

        Raises
        ------
        InvalidClaimError
            As :meth:`from_columns`; the row is the record's position.
        """
        rows = list(records)
        names = ("question", "source", "kind", "value", "low", "high", "sd", "hedge", "origin",
                 "resolution")
        for row, record in enumerate(rows):
            unknown = set(record) - set(names)
            if unknown:
                name = sorted(unknown)[0]
                raise InvalidClaimError(f"Unknown field {name!r}.", f"{name}.{row}")
            for required in ("question", "source", "kind"):
                if record.get(required) is None:
                    raise InvalidClaimError(f"Missing {required}.", f"{required}.{row}")
        columns: dict[str, Any] = {name: [r.get(name) for r in rows] for name in names}
        return cls.from_columns(**columns)

    def take_questions(self, questions: IntArray) -> ClaimTable:
        """The claims about ``questions`` (codes), re-coded 0..len(questions)−1.

        Source codes and ids are kept, so per-source arrays stay aligned.
        """
        new_code = np.full(self.n_questions, -1, dtype=np.int64)
        new_code[questions] = np.arange(questions.shape[0])
        rows = np.flatnonzero(new_code[self.question] >= 0)
        return ClaimTable(
            question=new_code[self.question[rows]], source=self.source[rows],
            kind=self.kind[rows], value=self.value[rows], low=self.low[rows],
            high=self.high[rows], sd=self.sd[rows], hedge=self.hedge[rows],
            origin=self.origin[rows], resolution=self.resolution[rows],
            question_ids=tuple(self.question_ids[k] for k in questions.tolist()),
            source_ids=self.source_ids,
        )

    def question_counts(self) -> IntArray:
        """Number of claims per question, (Q,)."""
        return np.bincount(self.question, minlength=self.n_questions).astype(np.int64)

    def source_counts(self) -> IntArray:
        """Number of claims per source, (S,)."""
        return np.bincount(self.source, minlength=self.n_sources).astype(np.int64)


def infer_resolution(x: FloatArray) -> FloatArray:
    """Rounding step implied by each figure's digits.

    An integer figure's step is the largest power of ten dividing it (596,638 → 1,
    12,000 → 1,000); a fractional figure's step is 10^−d for its d decimals (3.25 → 0.01).
    Figures with more than 15 significant digits get 10^(e − 15), with e their decimal
    exponent (a full-precision float is taken at its word).

    Parameters
    ----------
    x : (n,) float
        Finite figures.

    Returns
    -------
    (n,) float
        Positive steps in the figures' units.
    """
    ax = np.abs(np.asarray(x, dtype=np.float64))
    positive = ax > 0
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.where(positive, ax, 1.0)))
    # The figure as an integer of 15 significant digits, m = x·10^(14−e); the step is
    # 10^(e−14+z) for the number z of trailing decimal zeros of m. Divisibility by 10^z is
    # monotone in z, so a vectorised binary search over z ∈ [0, 15] needs four passes.
    m = np.rint(ax * 10.0 ** (14.0 - exponent)).astype(np.int64)
    pow10 = 10 ** np.arange(17, dtype=np.int64)
    lo = np.zeros(ax.shape, dtype=np.int64)  # m is divisible by 10^lo
    hi = np.full(ax.shape, 16, dtype=np.int64)  # … and not by 10^hi
    for _ in range(5):
        mid = (lo + hi) // 2
        divisible = m % pow10[mid] == 0
        lo = np.where(divisible, mid, lo)
        hi = np.where(divisible, hi, mid)
    out = 10.0 ** (exponent - 14.0 + lo)
    return np.asarray(np.where(positive, out, 1.0), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchWarning:
    """Legal but suspicious input, with how many questions or sources it concerns."""

    code: str
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class PopulationPrior:
    """The empirical-Bayes centre that unrated sources are shrunk towards.

    Attributes
    ----------
    credibility : float
        Precision-weighted mean credibility of the unrated sources.
    exact_share : float
        Pooled share of right claims that are exact copies, over every source.
    spread : float
        Precision-weighted geometric mean spread of the unrated sources.
    """

    credibility: float
    exact_share: float
    spread: float


@dataclass(frozen=True, slots=True)
class SourceEstimates:
    """What the archive says about each source (arrays over sources, in ``ids`` order).

    Attributes
    ----------
    ids : tuple of str
    credibility : (S,) float
        Posterior mean of c_s = ε_s + ρ_s.
    credibility_low, credibility_high : (S,) float
        Central 90 % interval of c_s under its Beta posterior (how sure we are of the source).
    exact_share : (S,) float
        ε_s / c_s, the share of its right claims that are exact copies.
    spread, bias : (S,) float
        σ_s and β_s on the working scale.
    n_claims : (S,) int
    prior_credibility : (S,) float
        The centre its credibility was shrunk towards.
    rated : (S,) bool
        Whether the prior came from a grade, number or track record (else the population).
    """

    ids: tuple[str, ...]
    credibility: FloatArray
    credibility_low: FloatArray
    credibility_high: FloatArray
    exact_share: FloatArray
    spread: FloatArray
    bias: FloatArray
    n_claims: IntArray
    prior_credibility: FloatArray
    rated: BoolArray


@dataclass(frozen=True, slots=True)
class QuestionEstimates:
    """The reconciled value of each question (arrays over questions, in ``ids`` order).

    Attributes
    ----------
    ids : tuple of str
    value : (Q,) float
        Posterior median, in the quantity's units.
    levels : tuple of float
        Interval levels, in request order.
    low, high : (Q, L) float
        Equal-tailed interval ends per level, in the quantity's units.
    n_claims, n_sources : (Q,) int
    p_exact : (Q,) float
        Posterior probability that the truth is one of the exactly agreed figures.
    spread : (Q,) float
        τ_q, the standard deviation of the continuous part of the posterior (working scale).
    """

    ids: tuple[str, ...]
    value: FloatArray
    levels: tuple[float, ...]
    low: FloatArray
    high: FloatArray
    n_claims: IntArray
    n_sources: IntArray
    p_exact: FloatArray
    spread: FloatArray


@dataclass(frozen=True, slots=True)
class SourceParameters:
    """Fixed source parameters for :meth:`BatchEstimator.posterior`, arrays over sources.

    Attributes
    ----------
    credibility : (S,) float
        c_s in (0, 1).
    exact_share : (S,) float
        η_s in (0, 1).
    spread : (S,) float
        σ_s > 0 on the working scale.
    bias : (S,) float
        β_s on the working scale.
    """

    credibility: FloatArray
    exact_share: FloatArray
    spread: FloatArray
    bias: FloatArray


@dataclass(frozen=True, slots=True)
class BatchFit:
    """Result of :meth:`BatchEstimator.fit`.

    Attributes
    ----------
    questions : QuestionEstimates
    sources : SourceEstimates
    p_wrong : (n,) float
        Posterior probability that each claim (in table order) is wrong.
    scale : {"log", "linear"}
    population : PopulationPrior
    iterations : int
    converged : bool
    warnings : tuple of BatchWarning
    """

    questions: QuestionEstimates
    sources: SourceEstimates
    p_wrong: FloatArray
    scale: Scale
    population: PopulationPrior
    iterations: int
    converged: bool
    warnings: tuple[BatchWarning, ...] = field(default=())


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Encoded:
    """Claims on the working scale plus the fixed structure of the atoms."""

    q: IntArray
    s: IntArray
    kind: IntArray
    y: FloatArray  # point figure (NaN for bounds/ranges)
    a: FloatArray  # lower end of the stated interval (−inf when open)
    b: FloatArray  # upper end (+inf when open)
    spread_factor: FloatArray
    own_var: FloatArray
    log_wrong_factor: FloatArray
    t: FloatArray  # evidence weight 1/k_u
    member: BoolArray  # claim belongs to at least one atom
    all_points: bool
    plain: bool  # every claim is a plain point without own sd or hedge
    n_questions: int
    n_sources: int
    prior_centre: FloatArray  # (Q,)
    prior_sd: FloatArray  # (Q,)
    centre: FloatArray  # (Q,) linear scale: back-transform θ·unit + centre
    unit: FloatArray
    scale: Scale
    # Atoms: K candidate values with their window, and pairs (atom, claim of its question).
    atom_q: IntArray
    atom_v: FloatArray
    atom_lo: FloatArray
    atom_hi: FloatArray
    pair_atom: IntArray
    pair_claim: IntArray
    pair_member: BoolArray
    log_window: FloatArray  # (n,) log w_i of each point claim's rounding window
    exact_var: FloatArray  # (n,) w_i²/12, the variance of a uniform rounding error
    in_atom_question: BoolArray  # (n,) the claim's question has at least one atom
    log_prior_pred: FloatArray  # (n,) log D_i, the claim's density with θ from the prior
    point_order: IntArray  # point claims sorted by (question, figure)


def _segment_median(values: FloatArray, groups: IntArray, n_groups: int) -> FloatArray:
    """Median of ``values`` within each group (NaN for an empty group)."""
    order = np.lexsort((values, groups))
    g = groups[order]
    v = values[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    out[has] = 0.5 * (v[lo[has]] + v[hi[has]])
    return out


def _evidence_weights(table: ClaimTable) -> FloatArray:
    """t_i = 1/k for the k claims sharing an evidence unit on one question."""
    # Unit = origin when given, else the source; offset sources past the origins' codes.
    n_origins = int(table.origin.max()) + 1 if table.origin.size else 0
    unit = np.where(table.origin >= 0, table.origin, n_origins + table.source)
    key = table.question.astype(np.int64) * (n_origins + table.n_sources) + unit
    ordered = np.sort(key)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.ones(table.n)  # the common case: one claim per unit and question
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return np.asarray(1.0 / counts[inverse], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Params:
    """Source parameters during EM, arrays over sources: c_s, η_s = ε_s/c_s, σ_s, β_s."""

    c: FloatArray
    eta: FloatArray
    sigma: FloatArray
    beta: FloatArray


@dataclass(frozen=True, slots=True)
class _Posterior:
    """The per-question posterior and the per-claim responsibilities."""

    mu: FloatArray
    tau: FloatArray
    log_z: FloatArray  # log mass of the continuous part
    log_m: FloatArray  # (K,) log mass of each atom
    p_cont: FloatArray  # (Q,) posterior probability of the continuous part
    p_atom: FloatArray  # (K,)
    r_exact: FloatArray  # (n,)
    r_right: FloatArray
    r_wrong: FloatArray
    ss: FloatArray  # (n,) r_right · E[(y − θ − β)²] (points only)
    dev: FloatArray  # (n,) r_right · E[y − θ] (points only)


class BatchEstimator:
    """Joint truth discovery over many questions: credibility, spread and bias per source.

    Parameters
    ----------
    max_iter : int
        Most EM iterations (≥ 1).
    tol : float
        Convergence when the sources' credibility moves by less than ``tol`` in one iteration
        (averaged over the claims) and 99 % of the questions' μ_q move by less than a
        quarter of their τ_q.
    warm_start_claims : int
        Least sample of a warm start. With s = max(warm_start_claims, 20 × sources), tables of
        more than 2s claims are first fitted on every k-th question (about s claims) until
        convergence; the full table then gets ``refine_iter`` EM iterations from there. EM
        spends most of its iterations settling the sources, which a sample that shows every
        source at work pins down nearly as well as all the questions.
    refine_iter : int
        EM iterations on the full table after a warm start (≥ 1).
    pooled_strength : float
        κ_pooled: pseudo-claims of the population prior of an unrated source (> 0).
    graded_strength : float
        κ_graded: pseudo-claims of a graded source's prior (> 0).
    spread_strength : float
        ν: pseudo-claims of the spread prior (> 0).
    bias_strength : float
        λ: pseudo-claims of the bias prior (> 0).
    wrong_spread : float
        σ_wrong, the least spread of a wrong claim's Cauchy part, in working units (> 0).
    prior_scale : float
        τ₀, the least standard deviation of the prior of θ_q (> 0).
    rounding : {"infer", "none"}
        ``infer`` reads each figure's rounding window from its digits (or the table's
        ``resolution`` column); ``none`` gives every figure a window of relative width 1e-12,
        so only identical figures agree exactly.
    learn_bias : bool
        Whether to learn β_s (else it stays at the prior's bias).

    Notes
    -----
    The estimator keeps no state: :meth:`fit` returns a new :class:`BatchFit`, so one instance
    can serve concurrent requests. Defaults were fixed from the model's meaning before any
    comparison with gold values: κ_pooled = 4 (a new source counts as four claims' worth of the
    typical source), κ_graded = 12 (a grade is worth about a dozen claims), ν = λ = 4,
    σ_wrong = 1 and τ₀ = 2.5 as in :mod:`models.robust`.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-3,
        warm_start_claims: int = 20_000,
        refine_iter: int = 2,
        pooled_strength: float = 4.0,
        graded_strength: float = 12.0,
        spread_strength: float = 4.0,
        bias_strength: float = 4.0,
        wrong_spread: float = 1.0,
        prior_scale: float = 2.5,
        rounding: str = "infer",
        learn_bias: bool = True,
    ) -> None:
        for name, count in (("max_iter", max_iter), ("warm_start_claims", warm_start_claims),
                            ("refine_iter", refine_iter)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise InvalidParameterError(f"Invalid {name} {count!r}; must be at least 1.")
        for name, value in (("tol", tol), ("pooled_strength", pooled_strength),
                            ("graded_strength", graded_strength),
                            ("spread_strength", spread_strength),
                            ("bias_strength", bias_strength), ("wrong_spread", wrong_spread),
                            ("prior_scale", prior_scale)):
            if isinstance(value, bool) or not (math.isfinite(value) and value > 0):
                raise InvalidParameterError(f"Invalid {name} {value!r}; must be positive.")
        if rounding not in ("infer", "none"):
            raise InvalidParameterError(
                f"Invalid rounding {rounding!r}; must be one of infer, none."
            )
        self.max_iter = max_iter
        self.warm_start_claims = warm_start_claims
        self.refine_iter = refine_iter
        self.tol = tol
        self.pooled_strength = pooled_strength
        self.graded_strength = graded_strength
        self.spread_strength = spread_strength
        self.bias_strength = bias_strength
        self.wrong_spread = wrong_spread
        self.prior_scale = prior_scale
        self.rounding = rounding
        self.learn_bias = learn_bias

    # -- encoding -----------------------------------------------------------------------------

    def _resolve_scale(self, table: ClaimTable, scale: str) -> Scale:
        if scale not in ("auto", "log", "linear"):
            raise InvalidParameterError(
                f"Invalid scale {scale!r}; must be one of auto, log, linear.", "scale"
            )
        if scale == "linear":
            return "linear"
        for name in ("value", "low", "high"):
            column: FloatArray = getattr(table, name)
            bad = np.flatnonzero(column <= 0)
            if bad.size:
                if scale == "log":
                    row = int(bad[0])
                    raise InvalidClaimError(
                        f"Invalid {name} {float(column[row])!r} on the log scale; values must be "
                        "positive (use scale 'linear' for quantities that can be zero or "
                        "negative).",
                        f"{name}.{row}",
                    )
                return "linear"
        return "log"

    def _encode(self, table: ClaimTable, scale: Scale) -> _Encoded:
        n, n_q = table.n, table.n_questions
        q = table.question
        kind = table.kind
        is_point = kind == KIND_POINT
        figure = np.where(is_point | (kind == KIND_AT_LEAST) | (kind == KIND_AT_MOST),
                          table.value, np.nan)
        raw_lo = np.where(kind == KIND_RANGE, table.low,
                          np.where(kind == KIND_AT_MOST, -np.inf, figure))
        raw_hi = np.where(kind == KIND_RANGE, table.high,
                          np.where(kind == KIND_AT_LEAST, np.inf, figure))
        if self.rounding == "infer":
            step = np.where(np.isnan(table.resolution),
                            infer_resolution(np.where(is_point, table.value, 1.0)),
                            table.resolution)
        else:
            step = np.zeros(n)
        all_points = bool(is_point.all())
        no_sd = bool(np.isnan(table.sd).all())
        if scale == "log" and all_points:
            # The common case, kept lean: one log per figure and one per window end.
            centre = np.zeros(n_q)
            unit = np.ones(n_q)
            y = np.log(table.value)
            a = b = y
            ratio = 0.5 * step / table.value
            with np.errstate(divide="ignore", invalid="ignore"):
                win_lo = y + np.log1p(-np.minimum(ratio, 1.0 - 1e-16))
                win_hi = y + np.log1p(ratio)
            own = np.zeros(n) if no_sd else np.where(
                np.isnan(table.sd), 0.0, np.log1p((np.nan_to_num(table.sd) / table.value) ** 2))
        elif scale == "log":
            centre = np.zeros(n_q)
            unit = np.ones(n_q)
            with np.errstate(divide="ignore"):
                a = np.log(np.where(np.isneginf(raw_lo), 1.0, raw_lo))
                a = np.where(np.isneginf(raw_lo), -np.inf, a)
                b = np.log(np.where(np.isposinf(raw_hi), 1.0, raw_hi))
                b = np.where(np.isposinf(raw_hi), np.inf, b)
                y = np.where(is_point, a, np.nan)
                half = 0.5 * step
                win_lo = np.log(np.maximum(table.value - half, table.value * 1e-300))
                win_hi = np.log(table.value + half)
                own = np.where(np.isnan(table.sd), 0.0,
                               np.log1p((np.nan_to_num(table.sd) / table.value) ** 2))
        else:
            ends = np.concatenate([figure, table.low, table.high])
            groups = np.concatenate([q, q, q])
            finite = ~np.isnan(ends)
            centre = _segment_median(ends[finite], groups[finite], n_q)
            magnitude = _segment_median(np.abs(ends[finite]), groups[finite], n_q)
            hi_q = np.full(n_q, -np.inf)
            lo_q = np.full(n_q, np.inf)
            np.maximum.at(hi_q, groups[finite], ends[finite])
            np.minimum.at(lo_q, groups[finite], ends[finite])
            span = hi_q - lo_q
            unit = np.where(magnitude > 0, magnitude, np.where(span > 0, span, 1.0))
            if not (np.isfinite(unit).all() and np.isfinite(centre).all()):
                raise InvalidClaimError(
                    "The figures are too large to compare on the linear scale; restate them "
                    "in a larger unit.",
                    "value",
                )
            cq, uq = centre[q], unit[q]
            a = (raw_lo - cq) / uq
            b = (raw_hi - cq) / uq
            y = np.where(is_point, a, np.nan)
            win_lo = (table.value - 0.5 * step - cq) / uq
            win_hi = (table.value + 0.5 * step - cq) / uq
            own = np.where(np.isnan(table.sd), 0.0, (np.nan_to_num(table.sd) / uq) ** 2)
        # The narrowest window still has a width, so that equal figures agree and log w exists.
        if all_points:
            half_floor = 0.5 * _MIN_WINDOW * np.maximum(1.0, np.abs(y))
            win_lo = np.minimum(win_lo, y - half_floor)
            win_hi = np.maximum(win_hi, y + half_floor)
            finite = bool(np.isfinite(y).all() and np.isfinite(win_hi - win_lo).all())
        else:
            half_floor = 0.5 * _MIN_WINDOW * np.maximum(1.0, np.abs(np.nan_to_num(y)))
            win_lo = np.where(is_point, np.minimum(win_lo, y - half_floor), np.nan)
            win_hi = np.where(is_point, np.maximum(win_hi, y + half_floor), np.nan)
            finite = bool(np.isfinite(np.where(is_point, y, 0.0)).all() and np.isfinite(
                np.where(is_point, win_hi - win_lo, 0.0)).all())
        if not finite:
            raise InvalidClaimError(
                "A figure is too large for the working scale; restate the figures in a larger "
                "unit.",
                "value",
            )
        t = _evidence_weights(table)
        point_order = _sorted_points(q, y, is_point)
        # Prior of θ_q: mid-range of the question's finite figures, sd max(τ₀, span).
        if all_points:
            # Figures sorted within each question: the ends of each run are its min and max.
            counts = np.bincount(q, minlength=n_q)
            last = np.cumsum(counts) - 1
            lo_q = y[point_order[last - counts + 1]]
            hi_q = y[point_order[last]]
        else:
            ends = np.concatenate([a, b])
            groups = np.concatenate([q, q])
            finite_end = np.isfinite(ends)
            hi_q = np.full(n_q, -np.inf)
            lo_q = np.full(n_q, np.inf)
            np.maximum.at(hi_q, groups[finite_end], ends[finite_end])
            np.minimum.at(lo_q, groups[finite_end], ends[finite_end])
        prior_centre = 0.5 * (lo_q + hi_q)
        prior_sd = np.maximum(self.prior_scale, hi_q - lo_q)
        plain = bool(np.all(table.hedge == HEDGE_NONE) and no_sd)
        atoms = _find_atoms(q, table.source, table.origin, y, win_lo, win_hi, point_order, n_q)
        with np.errstate(invalid="ignore"):
            log_window = np.where(is_point, np.log(win_hi - win_lo), 0.0)
        return _Encoded(
            q=q, s=table.source, kind=kind, y=y, a=a, b=b,
            spread_factor=_HEDGE_SPREAD[table.hedge], own_var=own,
            log_wrong_factor=np.log(_HEDGE_WRONG[table.hedge]), t=t,
            member=atoms.member, all_points=bool(is_point.all()), plain=plain,
            n_questions=n_q, n_sources=table.n_sources,
            prior_centre=prior_centre, prior_sd=prior_sd, centre=centre, unit=unit, scale=scale,
            atom_q=atoms.q, atom_v=atoms.v, atom_lo=atoms.lo, atom_hi=atoms.hi,
            pair_atom=atoms.pair_atom, pair_claim=atoms.pair_claim,
            pair_member=atoms.pair_member, log_window=log_window,
            exact_var=np.where(is_point, (win_hi - win_lo) ** 2 / 12.0, 0.0),
            in_atom_question=np.isin(q, atoms.q),
            log_prior_pred=_log_prior_predictive(kind, y, a, b, prior_centre[q], prior_sd[q]),
            point_order=point_order,
        )

    # -- priors -------------------------------------------------------------------------------

    @staticmethod
    def _source_priors(
        table: ClaimTable, priors: Mapping[str, SourceProfile] | None
    ) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        """Prior credibility, spread, bias and whether the source is rated, (S,) each."""
        n_s = table.n_sources
        c0 = np.full(n_s, np.nan)
        sigma0 = np.full(n_s, np.nan)
        beta0 = np.zeros(n_s)
        rated = np.zeros(n_s, dtype=bool)
        for k, sid in enumerate(table.source_ids):
            profile = (priors or {}).get(sid)
            if profile is None or profile.origin == "unknown":
                continue
            from models.credibility import SourceProfile

            if not isinstance(profile, SourceProfile):
                raise InvalidSourceError(
                    f"Invalid prior for source {sid!r}; expected a SourceProfile.", "sources"
                )
            c0[k] = profile.credibility
            sigma0[k] = profile.spread
            beta0[k] = sum(comp.weight * comp.bias for comp in profile.components)
            rated[k] = True
        return c0, sigma0, beta0, rated

    # -- E-step ---------------------------------------------------------------------------------

    def _claim_spread(self, enc: _Encoded, p: _Params) -> tuple[FloatArray, FloatArray]:
        """Spread and bias of each claim's continuous right kernel.

        A claim in an atom: its noisy part, σ_i = √((σ_s h_i)² + sd_i²) and β_s. Any other
        claim: the right part as a whole (exact with probability η_s, noisy otherwise),
        moment-matched to one Gaussian, σ_i² = η_s w_i²/12 + (1 − η_s)(σ_s h_i)² + sd_i² with
        bias (1 − η_s) β_s -- so an unmatched figure of a source that copies exact figures
        weighs as the near-exact figure it probably is.
        """
        s = enc.s
        if enc.plain and enc.atom_q.shape[0] == 0 and float(p.eta.max()) < 1e-6:
            # No agreed figure anywhere (η ≈ 0): every right kernel is the noisy one.
            return np.asarray(p.sigma[s], dtype=np.float64), np.asarray(p.beta[s],
                                                                        dtype=np.float64)
        if enc.plain:
            noisy2 = p.sigma[s] ** 2
        else:
            noisy2 = (p.sigma[s] * enc.spread_factor) ** 2 + enc.own_var
        eta = p.eta[s]
        folded2 = eta * enc.exact_var + (1.0 - eta) * noisy2
        sig2 = np.where(enc.member, noisy2, folded2)
        beta = np.where(enc.member, p.beta[s], (1.0 - eta) * p.beta[s])
        return np.asarray(np.sqrt(sig2), dtype=np.float64), np.asarray(beta, dtype=np.float64)

    def _log_coefficients(
        self, enc: _Encoded, p: _Params
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """log of the exact, continuous-right and wrong coefficients of each claim.

        The hedge multiplies the odds of being wrong. A claim in an atom keeps its exact part
        (c η) for the atom and its noisy part (c (1 − η)) for the continuous posterior; any
        other claim's right part (c) is continuous as a whole.
        """
        # Logs per source (S of them), then gathered: far cheaper than logs per claim.
        log_c = np.log(p.c)
        log_w = np.log1p(-p.c)
        log_eta = np.log(p.eta)
        if enc.plain:
            log_right = log_c[enc.s]
            log_wrong = log_w[enc.s]
        else:
            # (1 − c')/c' = f (1 − c)/c with the hedge's factor f.
            log_odds = (log_w - log_c)[enc.s] + enc.log_wrong_factor
            log_right = -np.logaddexp(0.0, log_odds)
            log_wrong = log_odds + log_right
        if enc.atom_q.shape[0] == 0:
            return log_right + log_eta[enc.s], log_right, log_wrong
        log_exact = log_right + log_eta[enc.s]
        log_noisy = log_right + np.log1p(-p.eta)[enc.s]
        return log_exact, np.where(enc.member, log_noisy, log_right), log_wrong

    def _kernels(
        self, enc: _Encoded, rows: IntArray | None, theta: FloatArray, var_extra: FloatArray,
        sig: FloatArray, beta_c: FloatArray, want_newton: bool,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """log right and wrong kernels at θ, and the right kernel's score and information.

        ``rows`` selects claims (None: all); every other array is already per selected row.
        ``var_extra`` widens both kernels for a θ that is itself uncertain (the cavity
        variance; 0 at a fixed θ): the right part exactly (σ² + v), the wrong part by using
        the Cauchy scale √(σ_w² + v). Score and information are those of the right kernel at
        v = 0 (for the IRLS step), when ``want_newton``.
        """
        kind = enc.kind if rows is None else enc.kind[rows]
        y = enc.y if rows is None else enc.y[rows]
        sig_w = np.maximum(self.wrong_spread, 2.0 * sig)
        if enc.all_points:
            d = y - theta - beta_c
            var = sig * sig + var_extra
            log_right = -0.5 * d * d / var - 0.5 * np.log(var) - _LOG_SQRT_2PI
            dw = y - theta
            var_w = sig_w * sig_w + var_extra
            log_wrong = -np.log1p(dw * dw / var_w) - 0.5 * np.log(var_w) - _LOG_PI
            if want_newton:
                inv = 1.0 / (sig * sig)
                return log_right, log_wrong, d * inv, inv
            return log_right, log_wrong, np.zeros(0), np.zeros(0)
        n = theta.shape[0]
        log_right = np.empty(n)
        log_wrong = np.empty(n)
        score = np.zeros(n)
        info = np.zeros(n)
        point = kind == KIND_POINT
        ip = np.flatnonzero(point)
        if ip.size:
            d = y[ip] - theta[ip] - beta_c[ip]
            sp = sig[ip]
            var = sp * sp + var_extra[ip]
            log_right[ip] = -0.5 * d * d / var - 0.5 * np.log(var) - _LOG_SQRT_2PI
            dw = y[ip] - theta[ip]
            var_w = sig_w[ip] ** 2 + var_extra[ip]
            log_wrong[ip] = -np.log1p(dw * dw / var_w) - 0.5 * np.log(var_w) - _LOG_PI
            score[ip] = d / (sp * sp)
            info[ip] = 1.0 / (sp * sp)
        other = np.flatnonzero(~point)
        if other.size:
            a = (enc.a if rows is None else enc.a[rows])[other]
            b = (enc.b if rows is None else enc.b[rows])[other]
            th = theta[other]
            bc = beta_c[other]
            so = sig[other]
            sd_pred = np.sqrt(so * so + var_extra[other])
            log_right[other] = _log_normal_interval((a - th - bc) / sd_pred,
                                                    (b - th - bc) / sd_pred)
            sw = np.sqrt(sig_w[other] ** 2 + var_extra[other])
            log_wrong[other] = _log_cauchy_interval((a - th) / sw, (b - th) / sw)
            if want_newton:
                u1 = (a - th - bc) / so
                u2 = (b - th - bc) / so
                log_p = _log_normal_interval(u1, u2)
                with np.errstate(invalid="ignore", over="ignore"):
                    r1 = np.where(np.isfinite(u1),
                                  np.exp(-0.5 * u1 * u1 - _LOG_SQRT_2PI - log_p), 0.0)
                    r2 = np.where(np.isfinite(u2),
                                  np.exp(-0.5 * u2 * u2 - _LOG_SQRT_2PI - log_p), 0.0)
                    u1f = np.where(np.isfinite(u1), u1, 0.0)
                    u2f = np.where(np.isfinite(u2), u2, 0.0)
                    # d/dθ log P = (r1 − r2)/σ; −d²/dθ² log P = (u2 r2 − u1 r1 + (r1 − r2)²)/σ².
                    sc = (r1 - r2) / so
                    inf_ = (u2f * r2 - u1f * r1 + (r1 - r2) ** 2) / (so * so)
                score[other] = np.nan_to_num(sc, nan=0.0, posinf=0.0, neginf=0.0)
                info[other] = np.clip(np.nan_to_num(inf_, nan=0.0, posinf=0.0), 0.0, None)
        return log_right, log_wrong, score, info

    def _irls(
        self, enc: _Encoded, rows: IntArray | None, theta: FloatArray, r: FloatArray,
        score: FloatArray, info: FloatArray, sig: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """IRLS score and (positive) information of each claim at θ.

        Right and wrong parts are weighted by their responsibilities: the right kernel's own
        score and information (1/σ² for a point; censored-normal for a bound) and, for a
        wrong point, the Cauchy's IRLS weight 2/(σ_w² + d²). A wrong bound pulls nowhere.
        """
        kind = enc.kind if rows is None else enc.kind[rows]
        y = enc.y if rows is None else enc.y[rows]
        sig_w = np.maximum(self.wrong_spread, 2.0 * sig)
        if enc.all_points:
            dw = y - theta
            w_wrong = 2.0 / (sig_w * sig_w + dw * dw)
        else:
            is_point = kind == KIND_POINT
            dw = np.where(is_point, y - theta, 0.0)
            w_wrong = np.where(is_point, 2.0 / (sig_w * sig_w + dw * dw), 0.0)
        wrong = 1.0 - r
        return r * score + wrong * w_wrong * dw, r * info + wrong * w_wrong

    def _plugin(
        self, enc: _Encoded, rows: IntArray, theta: FloatArray, sig: FloatArray,
        beta_c: FloatArray, coef_r: FloatArray, coef_w: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """ℓ_i(θ), P(right | θ) and the IRLS pieces at a fixed θ, for selected rows."""
        zero = np.zeros(rows.shape[0])
        lr, lw, score, info = self._kernels(enc, rows, theta, zero, sig, beta_c, True)
        lr = lr + coef_r
        lw = lw + coef_w
        ell = np.logaddexp(lr, lw)
        r = np.exp(lr - ell)
        grad, hess = self._irls(enc, rows, theta, r, score, info, sig)
        return ell, r, grad, hess

    def _newton(
        self, q: IntArray, n: int, mu: FloatArray, grad: FloatArray,
        hess: FloatArray, t: FloatArray, centre: FloatArray, sd: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """One IRLS step per group (question or candidate): new centre and its τ."""
        prior_prec = 1.0 / (sd * sd)
        g = np.bincount(q, weights=t * grad, minlength=n) + (centre - mu) * prior_prec
        h = np.bincount(q, weights=t * hess, minlength=n) + prior_prec
        # Damping: one step never exceeds τ₀, so a wild iteration cannot throw μ out of the
        # region the claims span.
        step = np.clip(g / h, -self.prior_scale, self.prior_scale)
        return mu + step, np.sqrt(1.0 / h)

    def _hop(
        self, enc: _Encoded, sig: FloatArray, beta_c: FloatArray, coef_r: FloatArray,
        coef_w: FloatArray, r: FloatArray, mu: FloatArray, tau: FloatArray, log_z: FloatArray,
    ) -> tuple[FloatArray, FloatArray, FloatArray, int]:
        """Move μ_q to a better mode when one exists.

        IRLS climbs to the nearest mode; when a question's claims form two camps it can stay
        on the lesser one. Every claim the current mode explains as wrong proposes a mode (a
        point its figure less its source's bias, a bound a value one spread inside it, a range
        its middle); the proposal takes one IRLS step and its Laplace mass
        π(θ) Π C_i(θ)^{t_i} √(2π)/√h is compared with the current one. The search runs only
        on questions where the rejected claims carry a third of the credibility.
        """
        # A rival mode can only win where the claims the current mode rejects carry a fair
        # share (a third) of the question's credibility; elsewhere skip the search.
        c_claim = np.exp(coef_r) * enc.t
        rejected = np.bincount(enc.q, weights=c_claim * (1.0 - r), minlength=enc.n_questions)
        total = np.bincount(enc.q, weights=c_claim, minlength=enc.n_questions)
        contested = rejected >= total / 3.0
        flagged = np.flatnonzero((r < 0.5) & contested[enc.q])
        if flagged.size == 0:
            return mu, tau, log_z, 0
        cand_q = enc.q[flagged]
        # A point proposes its figure; a bound a value one spread inside it; a range its middle.
        kind = enc.kind[flagged]
        a, b, sg = enc.a[flagged], enc.b[flagged], sig[flagged]
        inside = np.where(kind == KIND_AT_LEAST, a + sg,
                          np.where(kind == KIND_AT_MOST, b - sg, 0.5 * (a + b)))
        theta = np.where(kind == KIND_POINT, enc.y[flagged], inside) - beta_c[flagged]
        pa, pc = _question_pairs(cand_q, enc.q, enc.n_questions)
        k = flagged.size
        centre = enc.prior_centre[cand_q]
        sd = enc.prior_sd[cand_q]
        args = (sig[pc], beta_c[pc], coef_r[pc], coef_w[pc])
        _, _, grad, hess = self._plugin(enc, pc, theta[pa], *args)
        theta, tau_c = self._newton(pa, k, theta, grad, hess, enc.t[pc], centre, sd)
        ell, _, _, _ = self._plugin(enc, pc, theta[pa], *args)
        mass = (_log_norm_pdf(theta, centre, sd)
                + np.bincount(pa, weights=enc.t[pc] * ell, minlength=k)
                + _LOG_SQRT_2PI + np.log(tau_c))
        best = np.full(enc.n_questions, -np.inf)
        np.maximum.at(best, cand_q, mass)
        # Hop only for a clear gain (0.1 nat), so that near-ties do not make μ oscillate.
        better = np.flatnonzero(best > log_z + 0.1)
        if better.size == 0:
            return mu, tau, log_z, 0
        winner = np.full(enc.n_questions, -1)
        is_best = mass >= best[cand_q]
        winner[cand_q[is_best]] = np.flatnonzero(is_best)
        w = winner[better]
        mu = mu.copy()
        tau = tau.copy()
        log_z = log_z.copy()
        mu[better] = theta[w]
        tau[better] = tau_c[w]
        log_z[better] = mass[w]
        return mu, tau, log_z, int(better.size)

    def _e_step(
        self, enc: _Encoded, p: _Params, mu: FloatArray, hop: bool
    ) -> tuple[_Posterior, int]:
        """The posterior given the source parameters: responsibilities, then one IRLS step.

        Responsibilities integrate θ out. P(claim i right | data) ∝ c ∫ N(y_i; θ + β, σ²)
        p_{−i}(θ) dθ, where p_{−i} is the posterior without claim i (the *cavity*); with the
        Gaussian continuous part, p_{−i} = N(μ − t_i g_i/h_{−i}, 1/h_{−i}) with h_{−i} = h − t_i h_i
        (g_i, h_i claim i's IRLS score and information). Evaluating at the plug-in θ = μ
        instead would let a claim vouch for itself: a lone claim would always look right.

        Returns the posterior (with the new μ, τ) and how many questions hopped modes.
        """
        n_q = enc.n_questions
        q = enc.q
        t = enc.t
        sig, beta_c = self._claim_spread(enc, p)
        log_exact, coef_r, coef_w = self._log_coefficients(enc, p)
        theta = mu[q]
        zero = np.zeros(q.shape[0])
        # Plug-in pass at μ: ℓ_i(μ) for the Laplace mass; IRLS pieces for the step, which
        # climbs to a mode with the responsibilities at the current θ (EM for a posterior
        # mode of θ_q).
        lr, lw, score, info = self._kernels(enc, None, theta, zero, sig, beta_c, True)
        ell, r0 = _log_mix(lr + coef_r, lw + coef_w)
        grad, hess = self._irls(enc, None, theta, r0, score, info, sig)
        prior_prec = 1.0 / (enc.prior_sd * enc.prior_sd)
        h_q = np.bincount(q, weights=t * hess, minlength=n_q) + prior_prec
        # Source learning needs P(right | data) with θ integrated out: c ∫ N(y_i; θ + β, σ²)
        # p_{−i}(θ) dθ over the cavity p_{−i} (the posterior without claim i). Its Gaussian
        # part is N(μ − t_i g_i/h_{−i}, 1/h_{−i}); with probability π_i = Π_{j≠i} ω_j^{t_j}
        # every other claim is wrong and θ is left to the prior N(m_q, s_q²). The second
        # branch keeps a lone claim from vouching for itself (its P(right) stays c) and two
        # contradicting claims from condemning each other outright.
        h_cav = np.maximum(h_q[q] - t * hess, prior_prec[q])
        mu_cav = theta - t * grad / h_cav
        lr_c, lw_c, _, _ = self._kernels(enc, None, mu_cav, 1.0 / h_cav, sig, beta_c, False)
        # In the all-wrong branch θ follows the prior, whose spread (≥ τ₀) dwarfs both
        # kernels', so right and wrong share one predictive density D_i (precomputed).
        t_log_w = t * coef_w
        log_pi = np.minimum(np.bincount(q, weights=t_log_w, minlength=n_q)[q] - t_log_w, 0.0)
        branch = log_pi + enc.log_prior_pred
        # Mix in linear space after one common shift: three exponentials per claim.
        peak = np.maximum(np.maximum(lr_c, lw_c), branch)
        stay = -np.expm1(log_pi)  # 1 − π
        from_branch = np.exp(branch - peak)
        right_lin = stay * np.exp(lr_c - peak) + from_branch
        wrong_lin = stay * np.exp(lw_c - peak) + from_branch
        odds = np.exp(np.clip(coef_w - coef_r, -700.0, 700.0)) * wrong_lin
        r_right = right_lin / (right_lin + odds)
        r_wrong = 1.0 - r_right
        tau = np.sqrt(1.0 / h_q)
        log_z = (_log_norm_pdf(mu, enc.prior_centre, enc.prior_sd)
                 + np.bincount(q, weights=t * ell, minlength=n_q) + _LOG_SQRT_2PI + np.log(tau))
        is_point = enc.kind == KIND_POINT
        tau2 = (tau * tau)[q]
        resid = enc.y - theta
        if enc.all_points:
            d_cont = resid - p.beta[enc.s]
            ss = r_right * (d_cont * d_cont + tau2)
            dev = r_right * resid
        else:
            resid = np.where(is_point, resid, 0.0)
            d_cont = np.where(is_point, resid - p.beta[enc.s], 0.0)
            ss = np.where(is_point, r_right * (d_cont * d_cont + tau2), 0.0)
            dev = r_right * resid
        new_mu, new_tau = self._newton(q, n_q, mu, grad, hess, t, enc.prior_centre,
                                       enc.prior_sd)
        hops = 0
        if hop:
            new_mu, new_tau, log_z, hops = self._hop(enc, sig, beta_c, coef_r, coef_w,
                                                     r0, new_mu, new_tau, log_z)
        k = enc.atom_q.shape[0]
        if k == 0:
            return _Posterior(
                mu=new_mu, tau=new_tau, log_z=log_z, log_m=np.zeros(0), p_cont=np.ones(n_q),
                p_atom=np.zeros(0), r_exact=np.zeros(q.shape[0]), r_right=r_right,
                r_wrong=r_wrong, ss=ss, dev=dev,
            ), hops
        # Atoms: every claim of the atom's question evaluated at θ = v (a fixed θ, so the
        # plug-in responsibilities are exact there).
        pc = enc.pair_claim
        pa = enc.pair_atom
        v = enc.atom_v[pa]
        cont_p, r_right_p, _, _ = self._plugin(enc, pc, v, sig[pc], beta_c[pc], coef_r[pc],
                                               coef_w[pc])
        member = enc.pair_member
        term = np.where(member, log_exact[pc] - enc.log_window[pc], cont_p) * t[pc]
        log_m = (np.bincount(pa, weights=term, minlength=k)
                 + np.log(enc.atom_hi - enc.atom_lo)
                 + _log_norm_pdf(enc.atom_v, enc.prior_centre[enc.atom_q],
                                 enc.prior_sd[enc.atom_q]))
        # Normalise per question: log-sum-exp over the continuous part and the atoms.
        peak = log_z.copy()
        np.maximum.at(peak, enc.atom_q, log_m)
        mass_c = np.exp(log_z - peak)
        mass_a = np.exp(log_m - peak[enc.atom_q])
        norm = mass_c + np.bincount(enc.atom_q, weights=mass_a, minlength=n_q)
        p_cont = mass_c / norm
        p_atom = mass_a / norm[enc.atom_q]
        # Responsibilities: mix the continuous part's with each atom's.
        w_pair = p_atom[pa]
        r_right_p = np.where(member, 0.0, r_right_p)
        r_wrong_p = np.where(member, 0.0, 1.0 - r_right_p)
        n = q.shape[0]
        pcq = p_cont[q]
        r_exact = np.asarray(np.bincount(pc, weights=w_pair * member, minlength=n),
                             dtype=np.float64)
        r_right_m = pcq * r_right + np.bincount(pc, weights=w_pair * r_right_p, minlength=n)
        r_wrong_m = pcq * r_wrong + np.bincount(pc, weights=w_pair * r_wrong_p, minlength=n)
        pt = is_point[pc]
        d_atom = np.where(pt, enc.y[pc] - v - p.beta[enc.s[pc]], 0.0)
        ss_m = pcq * ss + np.bincount(pc, weights=w_pair * r_right_p * d_atom * d_atom,
                                      minlength=n)
        dev_m = pcq * dev + np.bincount(
            pc, weights=w_pair * r_right_p * np.where(pt, enc.y[pc] - v, 0.0), minlength=n
        )
        return _Posterior(
            mu=new_mu, tau=new_tau, log_z=log_z, log_m=log_m, p_cont=p_cont, p_atom=p_atom,
            r_exact=r_exact, r_right=r_right_m, r_wrong=r_wrong_m,
            ss=np.where(is_point, ss_m, 0.0), dev=np.where(is_point, dev_m, 0.0),
        ), hops

    # -- M-step ---------------------------------------------------------------------------------

    def _m_step(
        self, enc: _Encoded, post: _Posterior, p: _Params, prior: _SourcePrior
    ) -> tuple[_Params, PopulationPrior]:
        """Posterior means of every source's c_s, η_s, σ_s and β_s under its prior."""
        n_s = enc.n_sources
        s = enc.s
        t = enc.t
        right = post.r_exact + post.r_right
        n_eff = np.bincount(s, weights=t, minlength=n_s)
        right_s = np.bincount(s, weights=t * right, minlength=n_s)
        # Exact vs noisy is only testable on questions with an atom (an agreed figure): there
        # a right claim outside the atom is noisy. Elsewhere the split is the prior's.
        in_atom_q = enc.in_atom_question
        exact_s = np.bincount(s, weights=t * post.r_exact, minlength=n_s)
        tested_s = np.bincount(s, weights=t * np.where(in_atom_q, right, 0.0), minlength=n_s)
        # Spread and bias learn from right, not exact, point claims; an unmatched claim's
        # right part is noisy with probability 1 − η_s.
        is_point = enc.kind == KIND_POINT
        noisy_share = np.where(enc.member | in_atom_q, 1.0, 1.0 - p.eta[s])
        w_noisy = t * noisy_share * np.where(is_point, 1.0, 0.0)
        hedge2 = enc.spread_factor * enc.spread_factor
        ss_own = np.maximum(post.ss - post.r_right * enc.own_var, 0.0) / hedge2
        ss_s = np.bincount(s, weights=w_noisy * ss_own, minlength=n_s)
        dev_s = np.bincount(s, weights=w_noisy * post.dev, minlength=n_s)
        rp_s = np.bincount(s, weights=w_noisy * post.r_right, minlength=n_s)

        # Empirical-Bayes population centre from the unrated sources, each weighted by the
        # precision of its own estimate, n/(n + κ) (the beta-binomial shrinkage weight).
        unrated = ~prior.rated
        raw_c = np.where(n_eff > 0, right_s / np.maximum(n_eff, 1e-300), 0.0)
        w_c = np.where(unrated, n_eff / (n_eff + self.pooled_strength), 0.0)
        pop_c = (float(np.clip((w_c @ raw_c) / w_c.sum(), 0.02, 0.98)) if w_c.sum() > 0
                 else prior.population.credibility)
        tested = float(tested_s.sum())
        # No agreed figure anywhere: no evidence of exact copying, so η → 0.
        pop_eta = float(np.clip(exact_s.sum() / tested, _EPS, 1.0 - _EPS)) if tested > 0 \
            else _EPS
        raw_sigma = np.sqrt(np.where(rp_s > 0, ss_s / np.maximum(rp_s, 1e-300), 0.0))
        w_sig = np.where(unrated & (raw_sigma > 0), rp_s / (rp_s + self.spread_strength), 0.0)
        pop_sigma = (float(np.exp((w_sig @ np.log(np.maximum(raw_sigma, _MIN_SPREAD)))
                                  / w_sig.sum())) if w_sig.sum() > 0
                     else prior.population.spread)
        population = PopulationPrior(pop_c, pop_eta, pop_sigma)

        c0 = np.where(prior.rated, prior.c0, pop_c)
        sigma0 = np.where(prior.rated, prior.sigma0, pop_sigma)
        kappa = np.where(prior.rated, self.graded_strength, self.pooled_strength)
        c = np.clip((right_s + kappa * c0) / (n_eff + kappa), _EPS, 1.0 - _EPS)
        a = self.pooled_strength
        eta = np.clip((exact_s + a * pop_eta) / (tested_s + a), _EPS, 1.0 - _EPS)
        nu = self.spread_strength
        lam = self.bias_strength
        if self.learn_bias:
            beta = (dev_s + lam * prior.beta0) / (rp_s + lam)
            # E[(y − θ − β)²] was computed at the previous β; move it to the new one.
            delta = p.beta - beta
            ss_s = np.maximum(ss_s + rp_s * delta * delta + 2.0 * delta * (dev_s - rp_s * p.beta),
                              0.0)
        else:
            beta = prior.beta0.copy()
        sigma = np.maximum(np.sqrt((ss_s + nu * sigma0 * sigma0) / (rp_s + nu)), _MIN_SPREAD)
        return _Params(c, eta, sigma, beta), population

    # -- fit ------------------------------------------------------------------------------------

    def fit(
        self,
        table: ClaimTable,
        *,
        priors: Mapping[str, SourceProfile] | None = None,
        levels: Sequence[float] = (0.5, 0.9),
        scale: str = "auto",
        progress: Callable[[int, int], None] | None = None,
    ) -> BatchFit:
        """Learn every source's credibility and every question's value from the claims.

        Parameters
        ----------
        table : ClaimTable
            n claims about Q questions by S sources.
        priors : mapping of source id to SourceProfile, optional
            Prior credibility of rated sources (from a grade, a number or a track record).
            Sources that are missing, or whose profile is "unknown" (grade F), are shrunk
            towards the population.
        levels : sequence of float
            Interval levels in (0, 1).
        scale : {"auto", "log", "linear"}
            ``auto``: log when every figure is positive.
        progress : callable(iteration, max_iter), optional
            Called after each EM iteration (for a progress bar); must not raise.

        Returns
        -------
        BatchFit

        Raises
        ------
        ReconcileError
            Invalid levels, scale or priors, or figures that the scale cannot represent.
        """
        checked = _check_levels(levels)
        resolved: Scale = self._resolve_scale(table, scale)
        if self.rounding == "infer" and np.isnan(table.resolution).any():
            # Read the rounding from the digits once; a warm start's sample then reuses it.
            inferred = infer_resolution(np.where(table.kind == KIND_POINT, table.value, 1.0))
            table = replace(table, resolution=np.where(np.isnan(table.resolution), inferred,
                                                       table.resolution))
        c0, sigma0, beta0, rated = self._source_priors(table, priors)
        population = PopulationPrior(0.7, 0.5, 0.35)
        params = _Params(c=np.where(rated, c0, population.credibility),
                         eta=np.full(table.n_sources, 0.5),
                         sigma=np.where(rated, sigma0, population.spread), beta=beta0.copy())
        prior = _SourcePrior(c0, sigma0, beta0, rated, population)
        done = 0
        # The sample must still show every source at work: at least 20 claims per source on
        # average, else the warm start would learn little more than the priors.
        sample = max(self.warm_start_claims, 20 * table.n_sources)
        if table.n > 2 * sample:
            # Warm start: learn the sources on every k-th question first (about `sample`
            # claims), where an EM iteration is k times cheaper, then refine on all claims.
            # EM needs most of its iterations to settle σ_s and c_s, not θ_q.
            stride = int(math.ceil(table.n / sample))
            sub = table.take_questions(np.arange(0, table.n_questions, stride))
            sub_enc = self._encode(sub, resolved)
            params, _, prior, done, warm_converged = self._run(
                sub_enc, params, prior, 0, progress, self.max_iter
            )
            enc = self._encode(table, resolved)
            # The sources have settled on the sample; the full data refine them briefly.
            params, post, prior, iterations, _ = self._run(enc, params, prior, done, progress,
                                                           self.refine_iter)
            return self._result(table, enc, params, post, prior, checked, iterations,
                                warm_converged)
        enc = self._encode(table, resolved)
        params, post, prior, iterations, converged = self._run(enc, params, prior, done,
                                                                progress, self.max_iter)
        return self._result(table, enc, params, post, prior, checked, iterations, converged)

    def posterior(
        self,
        table: ClaimTable,
        sources: SourceParameters,
        *,
        levels: Sequence[float] = (0.5, 0.9),
        scale: str = "auto",
        steps: int = 50,
    ) -> QuestionEstimates:
        """Each question's posterior with the sources' parameters held fixed (the E-step).

        Parameters
        ----------
        table : ClaimTable
        sources : SourceParameters
            One entry per source of ``table``.
        levels : sequence of float
        scale : {"auto", "log", "linear"}
        steps : int
            Most IRLS steps per question (mode hopping included); stops earlier once no μ_q
            moves by more than 1e-12.

        Returns
        -------
        QuestionEstimates
        """
        checked = _check_levels(levels)
        resolved: Scale = self._resolve_scale(table, scale)
        enc = self._encode(table, resolved)
        arrays = (sources.credibility, sources.exact_share, sources.spread, sources.bias)
        if any(np.shape(a) != (table.n_sources,) for a in arrays):
            raise InvalidParameterError(
                f"Source parameters need one entry per source ({table.n_sources}).", "sources"
            )
        params = _Params(
            c=np.clip(np.asarray(sources.credibility, dtype=np.float64), _EPS, 1 - _EPS),
            eta=np.clip(np.asarray(sources.exact_share, dtype=np.float64), _EPS, 1 - _EPS),
            sigma=np.asarray(sources.spread, dtype=np.float64),
            beta=np.asarray(sources.bias, dtype=np.float64),
        )
        mu = self._initial_centre(enc, params)
        post, _ = self._e_step(enc, params, mu, hop=True)
        for _ in range(steps):
            new_post, hops = self._e_step(enc, params, post.mu, hop=True)
            moved = float(np.max(np.abs(new_post.mu - post.mu)))
            post = new_post
            if moved < 1e-12 and hops == 0:
                break
        zero = np.zeros(table.n_sources)
        prior = _SourcePrior(params.c, params.sigma, params.beta, zero > 1,
                             PopulationPrior(0.7, float(params.eta.mean()), 0.35))
        return self._result(table, enc, params, post, prior, checked, 0, True).questions

    def _run(
        self, enc: _Encoded, params: _Params, prior: _SourcePrior, done: int,
        progress: Callable[[int, int], None] | None, max_iter: int,
    ) -> tuple[_Params, _Posterior, _SourcePrior, int, bool]:
        """EM from ``params`` until convergence or ``max_iter`` iterations."""
        if enc.atom_q.shape[0] == 0:
            # No agreed figure anywhere: no exact copying to learn (η = 0).
            params = _Params(params.c, np.full(enc.n_sources, _EPS), params.sigma, params.beta)
            prior = replace(prior, population=replace(prior.population, exact_share=_EPS))
        mu = self._initial_centre(enc, params)
        post, _ = self._e_step(enc, params, mu, hop=True)
        checked_hop = True
        converged = False
        iteration = 0
        total = done + max_iter
        for iteration in range(1, max_iter + 1):
            new_params, population = self._m_step(enc, post, params, prior)
            prior = replace(prior, population=population)
            new_params, shift = self._recentre(enc, new_params, prior)
            post = replace(post, mu=post.mu + shift)
            # Mode hopping costs a pass over pairs of claims; look at iterations 1, 2, 4, 8, …
            # (a short refining run: only at its end) and once more whenever EM seems to have
            # converged.
            power = (iteration & (iteration - 1)) == 0 and max_iter > self.refine_iter
            hop = power or iteration == max_iter or not checked_hop
            new_post, hops = self._e_step(enc, new_params, post.mu, hop=hop)
            # Converged when the sources' credibility moves by less than tol on average over
            # the claims, and 99 % of the questions' centres by less than a quarter of their
            # own uncertainty. EM then creeps along flat ridges (a source's c against its σ;
            # all biases against all θ_q, which only the bias prior pins): waiting for them
            # costs many iterations and moves no estimate visibly.
            moved = np.abs(new_post.mu - post.mu) / np.maximum(new_post.tau, 1e-12)
            settled = float(np.quantile(moved, 0.99)) < 0.25
            change = float(np.abs(new_params.c - params.c)[enc.s].mean())
            params, post = new_params, new_post
            if progress is not None:
                progress(done + iteration, total)
            # A few questions may keep trading two near-equal modes; they count as settled.
            if settled and change < self.tol and hops <= enc.n_questions // 1000:
                if hop:
                    converged = True
                    break
                checked_hop = False
            else:
                checked_hop = True
        return params, post, prior, done + iteration, converged

    def _recentre(
        self, enc: _Encoded, p: _Params, prior: _SourcePrior
    ) -> tuple[_Params, float]:
        """Move every bias and every θ_q by one common amount so that biases average zero.

        Continuous claims only see θ_q + β_s, so shifting all biases up and all truths down
        leaves the fit unchanged: the archive alone cannot say where "unbiased" is. We anchor
        it where the sources are unbiased on average -- each source counted once, weighted by
        n_s/(n_s + λ) so that a source with a handful of claims counts little, and a rated
        source's bias measured from its prior bias (a track record). EM would drift along
        this flat ridge for many iterations, pulled by whichever precise sources are biased.
        """
        if not self.learn_bias:
            return p, 0.0
        n_s = np.bincount(enc.s, weights=enc.t, minlength=enc.n_sources)
        weight = n_s / (n_s + self.bias_strength)
        total = float(weight.sum())
        if total <= 0:
            return p, 0.0
        shift = float(weight @ (p.beta - prior.beta0) / total)
        return replace(p, beta=p.beta - shift), shift

    def _initial_centre(self, enc: _Encoded, p: _Params) -> FloatArray:
        """Weighted median of each question's point figures (weights c/σ²), else the prior."""
        order = enc.point_order
        mu = enc.prior_centre.copy()
        if order.size == 0:
            return mu
        s = enc.s[order]
        qs = enc.q[order]
        # Figures in (question, figure) order; the source's bias moves each figure but, with
        # the prior's zero biases at the start, not the order.
        ys = enc.y[order] - p.beta[s]
        ws = enc.t[order] * p.c[s] / (p.sigma[s] ** 2)
        cum = np.cumsum(ws)
        totals = np.bincount(qs, weights=ws, minlength=enc.n_questions)
        starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
        # The first figure at which the question's cumulative weight passes half its total.
        passed = np.flatnonzero((cum - starts[qs]) >= 0.5 * totals[qs] * (1.0 - 1e-12))
        first = passed[np.r_[True, qs[passed][1:] != qs[passed][:-1]]]
        mu[qs[first]] = ys[first]
        return mu

    # -- results --------------------------------------------------------------------------------

    def _result(
        self, table: ClaimTable, enc: _Encoded, p: _Params, post: _Posterior,
        prior: _SourcePrior, levels: tuple[float, ...], iterations: int, converged: bool,
    ) -> BatchFit:
        n_q = enc.n_questions
        probs = [0.5] + [x for q in levels for x in ((1 - q) / 2, (1 + q) / 2)]
        quant = _mixture_quantiles(post, enc, np.array(probs))
        if enc.scale == "log":
            with np.errstate(over="ignore"):
                units = np.exp(quant)
        else:
            units = enc.centre[:, None] + enc.unit[:, None] * quant
        if not np.isfinite(units).all():
            raise NumericalRangeError(
                "The reconciled range of a question exceeds the largest representable number; "
                "restate the figures in a larger unit (e.g. thousands).",
                "value",
            )
        value = units[:, 0] + 0.0  # + 0.0 turns a −0.0 median into 0.0
        low = units[:, 1::2]
        high = units[:, 2::2]
        n_claims = table.question_counts()
        # Distinct sources per question: sort (question, source) keys and count the firsts.
        keys = np.sort(table.question.astype(np.int64) * table.n_sources + table.source)
        first = np.r_[True, keys[1:] != keys[:-1]]
        n_sources_q = np.bincount(keys[first] // table.n_sources, minlength=n_q).astype(np.int64)
        p_exact = 1.0 - post.p_cont
        questions = QuestionEstimates(
            ids=table.question_ids, value=value, levels=levels, low=low, high=high,
            n_claims=n_claims, n_sources=n_sources_q, p_exact=p_exact, spread=post.tau,
        )
        # Source summaries: posterior Beta of c_s from the last M-step's counts.
        n_s = enc.n_sources
        t = enc.t
        r_right_total = post.r_exact + post.r_right
        right = np.bincount(enc.s, weights=t * r_right_total, minlength=n_s)
        wrong = np.bincount(enc.s, weights=t * post.r_wrong, minlength=n_s)
        c0 = np.where(prior.rated, prior.c0, prior.population.credibility)
        kappa = np.where(prior.rated, self.graded_strength, self.pooled_strength)
        alpha = right + kappa * c0
        beta_b = wrong + kappa * (1.0 - c0)
        # 90 % interval of the Beta(α, β) posterior, logit-normal approximation:
        # logit c ≈ N(ψ(α) − ψ(β), ψ'(α) + ψ'(β)) with ψ ≈ log, ψ' ≈ 1/x (accurate once
        # α, β ≳ 2, which the prior guarantees for κ ≥ 4 and c₀ in [0.5, 0.98]).
        centre = np.log(alpha) - np.log(beta_b)
        half = 1.6448536269514722 * np.sqrt(1.0 / alpha + 1.0 / beta_b)
        c_low = 1.0 / (1.0 + np.exp(-(centre - half)))
        c_high = 1.0 / (1.0 + np.exp(-(centre + half)))
        credibility = p.c
        sources = SourceEstimates(
            ids=table.source_ids,
            credibility=credibility,
            credibility_low=c_low,
            credibility_high=c_high,
            exact_share=p.eta,
            spread=p.sigma,
            bias=p.beta,
            n_claims=table.source_counts(),
            prior_credibility=c0,
            rated=prior.rated,
        )
        warnings: list[BatchWarning] = []
        single = int(np.sum(n_claims == 1))
        if single:
            warnings.append(BatchWarning(
                "single_claim",
                f"{single} question(s) rest on a single claim; their range reflects only that "
                "source's learned credibility.",
                single,
            ))
        once = int(np.sum(sources.n_claims == 1))
        if once:
            warnings.append(BatchWarning(
                "cold_start",
                f"{once} source(s) made a single claim; their credibility stays close to its "
                "prior.",
                once,
            ))
        if not converged:
            warnings.append(BatchWarning(
                "not_converged",
                f"EM stopped after {iterations} iterations before converging (tol {self.tol}); "
                "the estimates are usable but may still move slightly.",
                0,
            ))
        return BatchFit(
            questions=questions,
            sources=sources,
            p_wrong=np.clip(post.r_wrong, 0.0, 1.0),
            scale=enc.scale,
            population=prior.population,
            iterations=iterations,
            converged=converged,
            warnings=tuple(warnings),
        )


@dataclass(frozen=True, slots=True)
class _SourcePrior:
    c0: FloatArray
    sigma0: FloatArray
    beta0: FloatArray
    rated: BoolArray
    population: PopulationPrior


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    if len(levels) == 0:
        raise InvalidParameterError("At least one interval level is required.", "levels")
    out = []
    for j, level in enumerate(levels):
        if isinstance(level, bool) or not isinstance(level, int | float) or not (
            math.isfinite(level) and 0.0 < level < 1.0
        ):
            raise InvalidParameterError(
                f"Invalid level {level!r}; must lie in (0, 1).", f"levels.{j}"
            )
        out.append(float(level))
    return tuple(out)


def _log_prior_predictive(
    kind: IntArray, y: FloatArray, a: FloatArray, b: FloatArray, centre: FloatArray,
    sd: FloatArray,
) -> FloatArray:
    """log density (point) or probability (bound, range) of a claim with θ ~ N(centre, sd²)."""
    point = kind == KIND_POINT
    out = np.where(point, _log_norm_pdf(np.where(point, y, 0.0), centre, sd), 0.0)
    if not point.all():
        other = np.flatnonzero(~point)
        out[other] = _log_normal_interval((a[other] - centre[other]) / sd[other],
                                          (b[other] - centre[other]) / sd[other])
    return np.asarray(out, dtype=np.float64)


def _log_mix(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log(e^a + e^b) and e^a/(e^a + e^b), with one exponential and one log1p."""
    small = np.exp(-np.abs(a - b))
    total = np.maximum(a, b) + np.log1p(small)
    share = np.where(a >= b, 1.0, small) / (1.0 + small)
    return np.asarray(total, dtype=np.float64), np.asarray(share, dtype=np.float64)


def _log_norm_pdf(x: FloatArray, centre: FloatArray, sd: FloatArray) -> FloatArray:
    z = (x - centre) / sd
    return np.asarray(-0.5 * z * z - np.log(sd) - _LOG_SQRT_2PI, dtype=np.float64)


def _log_normal_interval(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """log(Φ(hi) − Φ(lo)) for lo ≤ hi, accurate in both tails."""
    upper = (np.nan_to_num(lo) + np.nan_to_num(hi)) > 0
    first = np.where(upper, -lo, hi)
    second = np.where(upper, -hi, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        from scipy.special import log_ndtr  # only bounds and ranges need it

        l1 = log_ndtr(first)
        l2 = log_ndtr(second)
        out = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
    # A vanishing probability is floored so that logs stay finite in sums.
    return np.asarray(np.maximum(np.nan_to_num(out, nan=-700.0), -700.0), dtype=np.float64)


def _log_cauchy_interval(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """log P(lo ≤ X ≤ hi) for standard Cauchy X (open ends as ±inf)."""
    # atan2 forms avoid cancellation far in either tail (see models.likelihood).
    lo_f = np.where(np.isfinite(lo), lo, 0.0)
    hi_f = np.where(np.isfinite(hi), hi, 0.0)
    inner = np.arctan2(hi_f - lo_f, 1.0 + lo_f * hi_f)
    inner = np.where(inner < 0, inner + np.pi, inner)
    only_lo = np.arctan2(1.0, lo_f)
    only_hi = np.arctan2(1.0, -hi_f)
    prob_pi = np.where(np.isinf(hi), only_lo, np.where(np.isinf(lo), only_hi, inner))
    with np.errstate(divide="ignore"):
        return np.asarray(np.maximum(np.log(np.maximum(prob_pi, 0.0)), -700.0) - _LOG_PI,
                          dtype=np.float64)


def _question_pairs(item_q: IntArray, q: IntArray, n_q: int) -> tuple[IntArray, IntArray]:
    """Pairs (item k, claim i) for every claim i of item k's question.

    Parameters
    ----------
    item_q : (K,) int
        Question of each item (an atom or a candidate mode).
    q : (n,) int
        Question of each claim.

    Returns
    -------
    pair_item, pair_claim : (P,) int
        P = Σ_k n_{q(k)}; the pairs of one item are contiguous.
    """
    counts = np.bincount(q, minlength=n_q)
    by_question = np.argsort(q, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_item = counts[item_q]
    pair_item = np.repeat(np.arange(item_q.shape[0], dtype=np.int64), per_item)
    offsets = np.arange(int(per_item.sum())) - np.repeat(np.cumsum(per_item) - per_item, per_item)
    pair_claim = by_question[np.repeat(starts[item_q], per_item) + offsets]
    return pair_item, np.asarray(pair_claim, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Atoms:
    q: IntArray
    v: FloatArray
    lo: FloatArray
    hi: FloatArray
    pair_atom: IntArray
    pair_claim: IntArray
    pair_member: BoolArray
    member: BoolArray


def _sorted_points(q: IntArray, y: FloatArray, is_point: BoolArray) -> IntArray:
    """Indices of the point claims ordered by (question, figure)."""
    pts = np.flatnonzero(is_point)
    # Rank the figures once, then sort integer keys (question, rank): several times faster
    # than a lexicographic sort on (question, figure).
    by_value = np.argsort(y[pts], kind="stable")
    rank = np.empty(pts.size, dtype=np.int64)
    rank[by_value] = np.arange(pts.size)
    key = q[pts].astype(np.int64) * (pts.size + 1) + rank
    return np.asarray(pts[np.argsort(key, kind="stable")], dtype=np.int64)


def _find_atoms(
    q: IntArray, source: IntArray, origin: IntArray, y: FloatArray, win_lo: FloatArray,
    win_hi: FloatArray, order: IntArray, n_q: int,
) -> _Atoms:
    """Values on which the rounding windows of two or more evidence units agree.

    A candidate is each distinct point figure v; its members are the point claims of the same
    question whose window contains v. It is an atom when the members span at least two
    evidence units (origins, else sources). Only claims whose window reaches a neighbouring
    figure can be in an atom, which keeps the search linear when figures rarely coincide.
    """
    n = q.shape[0]
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0)
    none = _Atoms(empty_i, empty_f, empty_f, empty_f, empty_i, empty_i,
                  np.zeros(0, dtype=bool), np.zeros(q.shape[0], dtype=bool))
    if order.size < 2:
        return none
    qs, ys = q[order], y[order]
    lo_s, hi_s = win_lo[order], win_hi[order]
    same_next = qs[1:] == qs[:-1]
    # Claim k's window reaches its right (left) neighbour's figure.
    right_touch = np.zeros(order.size, dtype=bool)
    left_touch = np.zeros(order.size, dtype=bool)
    right_touch[:-1] = same_next & (hi_s[:-1] >= ys[1:])
    left_touch[1:] = same_next & (lo_s[1:] <= ys[:-1])
    active = np.flatnonzero(right_touch | left_touch)
    if active.size == 0:
        return none
    # For each active claim k, the sorted positions [L_k, R_k) of the figures inside its
    # window, found by searching exact integer keys (question, rank of the figure).
    sorted_all = np.sort(ys)
    rank_y = np.searchsorted(sorted_all, ys, side="left")
    key = qs.astype(np.int64) * (order.size + 1) + rank_y
    lo_rank = np.searchsorted(sorted_all, lo_s[active], side="left")
    hi_rank = np.searchsorted(sorted_all, hi_s[active], side="right")
    base = qs[active].astype(np.int64) * (order.size + 1)
    left = np.searchsorted(key, base + lo_rank, side="left")
    right = np.searchsorted(key, base + hi_rank, side="left")
    counts = right - left
    # Membership pairs (candidate position i, member position k): k's window contains y_i.
    member_pos = np.repeat(active, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cand_pos = np.repeat(left, counts) + offsets
    # Exact check (the search used ranks of equal figures, so recheck the inequalities).
    ok = (lo_s[member_pos] <= ys[cand_pos]) & (ys[cand_pos] <= hi_s[member_pos])
    member_pos, cand_pos = member_pos[ok], cand_pos[ok]
    # Identical figures are one candidate: map each position to the first of its run.
    first_of_run = np.r_[True, (qs[1:] != qs[:-1]) | (ys[1:] != ys[:-1])]
    run_head = np.maximum.accumulate(np.where(first_of_run, np.arange(order.size), 0))
    cand = run_head[cand_pos]
    pair = np.unique(cand * order.size + member_pos)
    cand, member_pos = pair // order.size, pair % order.size
    claim = order[member_pos]
    n_origins = int(origin.max()) + 1 if origin.size else 0
    unit = np.where(origin[claim] >= 0, origin[claim], n_origins + source[claim])
    # Atoms need two evidence units among the members.
    cand_ids, cand_inv = np.unique(cand, return_inverse=True)
    unit_lo = np.full(cand_ids.size, np.iinfo(np.int64).max)
    unit_hi = np.full(cand_ids.size, np.iinfo(np.int64).min)
    np.minimum.at(unit_lo, cand_inv, unit)
    np.maximum.at(unit_hi, cand_inv, unit)
    valid = unit_hi > unit_lo
    if not valid.any():
        return none
    keep_pair = valid[cand_inv]
    cand_inv = np.unique(cand_inv[keep_pair], return_inverse=True)[1]
    cand_ids = cand_ids[valid]
    claim = claim[keep_pair]
    member_pos = member_pos[keep_pair]
    k = cand_ids.size
    atom_q = qs[cand_ids].astype(np.int64)
    atom_v = ys[cand_ids]
    atom_lo = np.full(k, -np.inf)
    atom_hi = np.full(k, np.inf)
    np.maximum.at(atom_lo, cand_inv, lo_s[member_pos])
    np.minimum.at(atom_hi, cand_inv, hi_s[member_pos])
    member = np.zeros(n, dtype=bool)
    member[claim] = True
    # Pairs: every claim of each atom's question (members flagged).
    pair_atom, pair_claim = _question_pairs(atom_q, q, n_q)
    member_key = np.unique(cand_inv.astype(np.int64) * n + claim)
    pair_key = pair_atom.astype(np.int64) * n + pair_claim
    pair_member = np.isin(pair_key, member_key)
    return _Atoms(atom_q, atom_v, atom_lo, atom_hi, pair_atom.astype(np.int64),
                  pair_claim.astype(np.int64), pair_member, member)


def _mixture_quantiles(post: _Posterior, enc: _Encoded, probs: FloatArray) -> FloatArray:
    """Quantiles (Q, P) of each question's posterior: Gaussian part plus uniform atoms."""
    n_q = enc.n_questions
    z = np.array([NormalDist().inv_cdf(float(p)) for p in probs])
    out = post.mu[:, None] + post.tau[:, None] * z[None, :]
    if enc.atom_q.shape[0] == 0:
        return np.asarray(out, dtype=np.float64)
    with_atoms = np.unique(enc.atom_q[post.p_atom > 1e-12])
    if with_atoms.size == 0:
        return np.asarray(out, dtype=np.float64)
    # Bisection on the mixture CDF for the questions that have atoms.
    local = np.full(n_q, -1)
    local[with_atoms] = np.arange(with_atoms.size)
    sel = local[enc.atom_q] >= 0
    aq = local[enc.atom_q[sel]]
    alo, ahi, ap = enc.atom_lo[sel], enc.atom_hi[sel], post.p_atom[sel]
    mu, tau, pc = post.mu[with_atoms], post.tau[with_atoms], post.p_cont[with_atoms]
    lo_b = np.minimum(mu - 10 * tau, np.full(with_atoms.size, np.inf))
    hi_b = mu + 10 * tau
    np.minimum.at(lo_b, aq, alo)
    np.maximum.at(hi_b, aq, ahi)
    from scipy.special import ndtr  # only questions with atoms need it

    m = with_atoms.size
    for j, prob in enumerate(probs):
        lo = lo_b.copy()
        hi = hi_b.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            cdf = pc * ndtr((mid - mu) / tau)
            frac = np.clip((mid[aq] - alo) / np.maximum(ahi - alo, 1e-300), 0.0, 1.0)
            cdf = cdf + np.bincount(aq, weights=ap * frac, minlength=m)
            below = cdf < prob
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out[with_atoms, j] = 0.5 * (lo + hi)
    return np.asarray(out, dtype=np.float64)


def learned_profiles(fit: BatchFit, min_claims: int = 1) -> dict[str, SourceProfile]:
    """Agreement-based profiles of the sources, to store next to resolution-based ones.

    Parameters
    ----------
    fit : BatchFit
    min_claims : int
        Sources with fewer claims are left out.

    Returns
    -------
    dict of source id to SourceProfile
        ``origin="learned"`` profiles with the learned credibility, spread and bias.
    """
    from models.credibility import learned_profile

    out: dict[str, SourceProfile] = {}
    src = fit.sources
    for k, sid in enumerate(src.ids):
        if int(src.n_claims[k]) < min_claims:
            continue
        c = float(np.clip(src.credibility[k], 1e-6, 1 - 1e-6))
        out[sid] = learned_profile(c, float(src.spread[k]), float(src.bias[k]))
    return out
