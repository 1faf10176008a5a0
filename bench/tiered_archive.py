"""A tiered archive of 1-3 point claims a question, with known sources, for the batch fit's
fixed-point checks (``tests/models/test_batch_local_maxima.py``, ``bench/batch_local_maxima.py``).

Written here, not drawn from the model: 60 sources in four tiers of credibility and log-spread
((0.95, 0.02), (0.85, 0.08), (0.7, 0.25), (0.5, 0.1)), a third of them rare, the others used
with Pareto weights; 1-3 point claims a question (30/40/30 %); a right claim the truth times
e^N(0, σ_s²), a wrong one e^(0.8 t₁.₅) or a factor e^±U(0.3, 3) off; four significant digits.
Only the table type comes from ``models``.
"""

from __future__ import annotations

import numpy as np

from models.batch import ClaimTable


def tiered_archive(seed: int, n_questions: int, n_sources: int = 60) -> ClaimTable:
    """1-3 point claims a question by sources in tiers (see the module docstring)."""
    rng = np.random.default_rng([seed, 991])
    tiers = np.array([(0.95, 0.02), (0.85, 0.08), (0.7, 0.25), (0.5, 0.1)])
    tier = rng.integers(0, len(tiers), n_sources)
    cred = np.clip(tiers[tier, 0] + rng.normal(0.0, 0.04, n_sources), 0.2, 0.995)
    sigma = tiers[tier, 1] * np.exp(rng.normal(0.0, 0.2, n_sources))
    use = rng.pareto(1.2, n_sources) + 0.05
    use = np.where(rng.random(n_sources) < 0.35, use * 0.05, use)
    counts = rng.choice([1, 2, 3], n_questions, p=[0.3, 0.4, 0.3])
    truth = rng.uniform(np.log(50.0), np.log(5e6), n_questions)
    question = np.repeat(np.arange(n_questions), counts)
    source = np.concatenate([rng.choice(n_sources, k, replace=False, p=use / use.sum())
                             for k in counts])
    n = question.size
    right = rng.random(n) < cred[source]
    wrong = truth[question] + np.where(
        rng.random(n) < 0.5, np.clip(0.8 * rng.standard_t(1.5, n), -30.0, 30.0),
        rng.choice([-1.0, 1.0], n) * rng.uniform(0.3, 3.0, n))
    value = np.exp(np.where(right, truth[question] + sigma[source] * rng.standard_normal(n),
                            wrong))
    unit = 10.0 ** (3 - np.floor(np.log10(value)))
    return ClaimTable.from_columns([f"q{k}" for k in question.tolist()],
                                   [f"s{k}" for k in source.tolist()], ["point"] * n,
                                   np.round(value * unit) / unit)
