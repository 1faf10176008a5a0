"""Anderson acceleration of a fixed-point map, restarted when its residual grows.

The batch EM is a map of the sources' packed parameters u ↦ G(u) (an E-step, the M-step and the
bias recentring; :func:`models.batch.squarem.pack`). Near its fixed point it is nearly linear,
G(u) ≈ u* + J (u − u*), and EM converges at the rate of J's largest eigenvalues, the fractions
of missing information along the slowest directions (Dempster, Laird & Rubin 1977). Where two
precise sources answer the same questions the claims pin the sum of their squared spreads and
hardly the split, so spread trades among them at a rate of about 0.985 an E-step, a direction
shared by several sources that SQUAREM's per-source step lengths
(:mod:`models.batch.persource`) follow only in part.

Anderson acceleration (type II, Walker & Ni 2011) keeps the last m + 1 iterates u_i and their
residuals f_i = G(u_i) − u_i and takes the combination of their images whose residuals cancel
best, in the least-squares sense:

    γ = argmin_γ ‖f_k − ΔF γ‖₂,    u_{k+1} = G(u_k) − ΔG γ,

with ΔF and ΔG the differences of consecutive residuals and images. On a linear map this is
GMRES on (I − J) u = G(0) (Walker & Ni 2011, §3): a direction of any rate, shared by any number
of sources, is removed once the differences span it, where a scalar step length (SQUAREM) must
match its rate. It is a quasi-Newton method with a multisecant estimate of (I − J)⁻¹ built from
the iterates alone (Fang & Saad 2009), so it needs nothing of the model beyond G, and a
distributed engine that hands the loop the same sums takes the same steps.

Anderson acceleration has no globalisation of its own. The safeguard here is a restart (as in
restarted GMRES and DAAREM, Henderson & Varadhan 2019): when a residual exceeds the smallest
since the last restart, the history is dropped and the next step is G's own. The loop also
restarts it when questions hop to rival modes (G itself changed). A restart alone cannot undo
an uphill step: once the residual grows every step, every push restarts and the iteration is
G's own from wherever the last extrapolation left it. The caller therefore keeps the best
iterate and gives the tail up (:mod:`models.batch.persource`).

References
----------
Walker, H. F. & Ni, P. (2011). Anderson acceleration for fixed-point iterations. SIAM Journal
on Numerical Analysis 49(4), 1715-1735. doi:10.1137/10079638X.
Fang, H. & Saad, Y. (2009). Two classes of multisecant methods for nonlinear acceleration.
Numerical Linear Algebra with Applications 16(3), 197-221. doi:10.1002/nla.617.
Henderson, N. C. & Varadhan, R. (2019). Damped Anderson acceleration with restarts and
monotonicity control for accelerating EM and EM-like algorithms. Journal of Computational and
Graphical Statistics 28(4), 834-846. doi:10.1080/10618600.2019.1594835.
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
"""

from __future__ import annotations

import numpy as np

from models.batch.common import FloatArray

#: m, the differences kept. 3, 5 and 8 took 41, 40 and 40 E-steps on
#: tests/models/test_batch_squarem.py's archive and 67, 64, 64 on its flat one.
MEMORY = 5
#: Singular values of ΔF below RCOND times the largest are dropped: near the fixed point
#: consecutive residuals become nearly parallel, and an ill-conditioned γ would amplify the
#: rounding in which two engines' sums differ.
RCOND = 1e-10


class Anderson:
    """The history of one Anderson-accelerated fixed-point iteration (Walker & Ni 2011).

    Parameters
    ----------
    memory : int
        m, the most residual differences kept.

    Notes
    -----
    Given u_k and G(u_k), :meth:`push` stores the pair, and :meth:`step` proposes

        u_{k+1} = G(u_k) − ΔG γ,    γ = argmin ‖f_k − ΔF γ‖₂,

    ΔF = [f_{i+1} − f_i] and ΔG = [G(u_{i+1}) − G(u_i)] over the kept pairs, f_i = G(u_i) − u_i.
    A pair whose residual ‖f‖₂ exceeds the smallest since the last restart restarts the history
    (the pair is kept as its first).
    """

    def __init__(self, memory: int = MEMORY) -> None:
        if memory < 1:
            raise ValueError(f"memory must be at least 1, got {memory}")
        self._memory = memory
        self._f: list[FloatArray] = []
        self._g: list[FloatArray] = []
        self._best = np.inf

    @property
    def memory(self) -> int:
        """m, the most residual differences kept (fixed for the iteration's life)."""
        return self._memory

    @property
    def pairs(self) -> int:
        """Pairs held since the last restart (at most ``memory`` + 1)."""
        return len(self._f)

    def restart(self) -> None:
        """Drop the history: the next :meth:`step` is G's own."""
        self._f.clear()
        self._g.clear()
        self._best = np.inf

    def push(self, u: FloatArray, g: FloatArray) -> bool:
        """Store u_k and G(u_k); False when the residual grew and the history restarted.

        Parameters
        ----------
        u, g : (n,) float
            An iterate and its image.

        Returns
        -------
        bool
        """
        f = g - u
        norm = float(np.sqrt(f @ f))
        kept = norm <= self._best
        if not kept:
            self.restart()
        self._best = min(self._best, norm)
        self._f.append(f)
        self._g.append(g)
        if len(self._f) > self._memory + 1:
            del self._f[0], self._g[0]
        return kept

    def step(self) -> FloatArray | None:
        """The next iterate, G(u_k) − ΔG γ; None with fewer than two pairs (take G(u_k))."""
        if len(self._f) < 2:
            return None
        d_f = np.diff(np.stack(self._f, axis=1), axis=1)
        d_g = np.diff(np.stack(self._g, axis=1), axis=1)
        gamma = np.linalg.lstsq(d_f, self._f[-1], rcond=RCOND)[0]
        return np.asarray(self._g[-1] - d_g @ gamma, dtype=np.float64)
