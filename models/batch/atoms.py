"""Atoms: the figures on which two or more evidence units agree exactly (up to rounding).

Where the rounding windows [l_i, u_i] of point claims from two or more evidence units (origins,
else sources) on one question share a value v, the posterior of θ_q has an atom on their common
window (see :mod:`models.batch`). :func:`find_atoms` finds them in time linear in the claims
when figures rarely coincide; :func:`question_pairs` lists, for items such as atoms or
candidate modes, every claim of the item's question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.batch.common import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class Atoms:
    """The atoms of a claim table and the pairs (atom, claim of its question).

    Attributes
    ----------
    q : (K,) int
        Question of each atom.
    v : (K,) float
        Its figure on the working scale.
    lo, hi : (K,) float
        Its window: the intersection of its members' rounding windows.
    pair_atom, pair_claim : (P,) int
        Every claim of each atom's question (the pairs of one atom are contiguous).
    pair_member : (P,) bool
        Whether the pair's claim is a member of the atom (its window contains v).
    member : (n,) bool
        Whether the claim is a member of at least one atom.
    """

    q: IntArray
    v: FloatArray
    lo: FloatArray
    hi: FloatArray
    pair_atom: IntArray
    pair_claim: IntArray
    pair_member: BoolArray
    member: BoolArray


def sorted_points(q: IntArray, y: FloatArray, is_point: BoolArray) -> IntArray:
    """Indices of the point claims ordered by (question, figure).

    Parameters
    ----------
    q : (n,) int
        Question of each claim.
    y : (n,) float
        Figure of each claim (NaN for bounds and ranges).
    is_point : (n,) bool

    Returns
    -------
    (m,) int
        The m point claims, by question and then by figure.
    """
    pts = np.flatnonzero(is_point)
    # Rank the figures once, then sort integer keys (question, rank): several times faster
    # than a lexicographic sort on (question, figure).
    by_value = np.argsort(y[pts], kind="stable")
    rank = np.empty(pts.size, dtype=np.int64)
    rank[by_value] = np.arange(pts.size)
    key = q[pts].astype(np.int64) * (pts.size + 1) + rank
    return np.asarray(pts[np.argsort(key, kind="stable")], dtype=np.int64)


def find_atoms(
    q: IntArray, source: IntArray, origin: IntArray, y: FloatArray, win_lo: FloatArray,
    win_hi: FloatArray, order: IntArray, n_q: int,
) -> Atoms:
    """Values on which the rounding windows of two or more evidence units agree.

    A candidate is each distinct point figure v; its members are the point claims of the same
    question whose window contains v. It is an atom when the members span at least two
    evidence units (origins, else sources). Only claims whose window reaches a neighbouring
    figure can be in an atom, which keeps the search linear when figures rarely coincide.

    Parameters
    ----------
    q, source, origin : (n,) int
        Question, source and origin (−1 when none) of each claim.
    y : (n,) float
        Figure of each claim on the working scale (NaN for bounds and ranges).
    win_lo, win_hi : (n,) float
        Ends of each point claim's rounding window.
    order : (m,) int
        The point claims by (question, figure), from :func:`sorted_points`.
    n_q : int
        Number of questions.

    Returns
    -------
    Atoms
    """
    n = q.shape[0]
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0)
    none = Atoms(empty_i, empty_f, empty_f, empty_f, empty_i, empty_i,
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
    pair_atom, pair_claim = question_pairs(atom_q, q, n_q)
    member_key = np.unique(cand_inv.astype(np.int64) * n + claim)
    pair_key = pair_atom.astype(np.int64) * n + pair_claim
    pair_member = np.isin(pair_key, member_key)
    return Atoms(atom_q, atom_v, atom_lo, atom_hi, pair_atom.astype(np.int64),
                  pair_claim.astype(np.int64), pair_member, member)


def question_pairs(item_q: IntArray, q: IntArray, n_q: int) -> tuple[IntArray, IntArray]:
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
