"""Combining expert reviews into criterion scores (DESIGN §8 rules 1–3 and 5).

Scores are held as integers in a unit fine enough for every step of the rubric (``10**-score_places``),
so sums are exact and the mean of the retained reviews is rounded half-up with integer arithmetic — no
float ever decides a rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .rubric import Rubric

__all__ = ["ExpertAggregate", "aggregate_reviews", "score_places", "round_mean_units"]


def score_places(rubric: Rubric) -> int:
    """Decimal places needed to hold every expert score exactly (e.g. 1 for step 0.5)."""
    places = 0
    for c in rubric.expert_criteria:
        for value in (c.step, c.max):
            exponent = value.normalize().as_tuple().exponent
            assert isinstance(exponent, int)
            places = max(places, -exponent)
    return places


def round_mean_units(sums: np.ndarray, counts: np.ndarray, places: int, decimals: int) -> np.ndarray:
    """Round sums/counts half-up, from units of ``10**-places`` to units of ``10**-decimals``.

    All arguments are non-negative integers; the result is exact (integer arithmetic only).
    """
    sums = np.asarray(sums, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if decimals >= places:
        num = sums * (10 ** (decimals - places))
        den = counts
    else:
        num = sums
        den = counts * (10 ** (places - decimals))
    safe = np.where(den == 0, 1, den)
    return np.where(den == 0, 0, (2 * num + safe) // (2 * safe))


@dataclass(frozen=True)
class ExpertAggregate:
    """Rules 1–3 for all applications at once.

    Attributes
    ----------
    order : ndarray of int
        Review rows sorted by (application, t, expert).
    totals : ndarray of int64
        Reviewer total t per review row, in score units.
    n_reviews : ndarray of int
        Reviews per application.
    retained : ndarray of bool
        Per review row (input order): kept by rule 2.
    ranked : ndarray of bool
        Per application: n_reviews >= min_experts.
    criterion_units : ndarray of int64, shape (n_applications, n_expert_criteria)
        Rounded criterion scores in units of ``10**-decimals`` (0 where not ranked).
    high_disagreement : ndarray of bool
        Reviewer totals spread more than 25% of the expert maximum.
    starts : ndarray of int
        Offset of each application's first row in ``order``.
    """

    order: np.ndarray
    totals: np.ndarray
    n_reviews: np.ndarray
    retained: np.ndarray
    ranked: np.ndarray
    criterion_units: np.ndarray
    high_disagreement: np.ndarray
    starts: np.ndarray


def sort_reviews(app: np.ndarray, totals: np.ndarray, expert: np.ndarray, n_experts: int) -> np.ndarray:
    """Permutation sorting review rows by (application, t, expert code), all ascending."""
    n = app.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    t_range = int(totals.max()) + 1
    a_range = int(app.max()) + 1
    bits = _bits(a_range) + _bits(t_range) + _bits(max(n_experts, 1)) + _bits(n)
    if bits <= 62:
        # one packed int64 sort (SIMD) instead of a three-key lexsort; the row number rides in the low bits
        key = (app.astype(np.int64) * t_range + totals) * max(n_experts, 1) + expert
        packed = np.sort((key << _bits(n)) | np.arange(n, dtype=np.int64))
        return packed & ((1 << _bits(n)) - 1)
    return np.lexsort((expert, totals, app))


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def aggregate_reviews(
    rubric: Rubric,
    app: np.ndarray,
    expert: np.ndarray,
    units: np.ndarray,
    n_applications: int,
    n_experts: int,
) -> ExpertAggregate:
    """Apply rules 1–3 and round (rule 5) for every application.

    Parameters
    ----------
    rubric : Rubric
    app : ndarray of int, shape (n_reviews,)
        Application code of each review, in ``range(n_applications)``.
    expert : ndarray of int, shape (n_reviews,)
        Expert code; codes must follow the order of the expert ids (the tie order of rule 2).
    units : ndarray of int64, shape (n_reviews, n_expert_criteria)
        Scores in units of ``10**-score_places(rubric)``.
    n_applications, n_experts : int

    Returns
    -------
    ExpertAggregate
    """
    agg = rubric.aggregation
    places = score_places(rubric)
    app = np.asarray(app, dtype=np.int64)
    expert = np.asarray(expert, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64).reshape(app.shape[0], len(rubric.expert_criteria))
    totals = units.sum(axis=1)
    order = sort_reviews(app, totals, expert, n_experts)
    counts = np.bincount(app, minlength=n_applications)
    starts = np.cumsum(counts) - counts
    app_sorted = app[order]
    n_of = counts[app_sorted]
    pos = np.arange(app.shape[0]) - starts[app_sorted]
    ranked = counts >= agg.min_experts

    if agg.method == "trimmed_mean":
        trim = n_of >= agg.trim_min_experts
        keep = ~trim | ((pos >= 1) & (pos <= n_of - 2))
        kept_count = np.where(counts >= agg.trim_min_experts, counts - 2, counts)
    elif agg.method == "median":
        keep = (pos == (n_of - 1) // 2) | (pos == n_of // 2)
        kept_count = np.where(counts % 2 == 1, 1, 2)
    else:
        keep = np.ones(app.shape[0], dtype=bool)
        kept_count = counts
    keep &= ranked[app_sorted]
    kept_count = np.where(ranked, kept_count, 0)

    retained = np.zeros(app.shape[0], dtype=bool)
    retained[order] = keep
    n_crit = units.shape[1]
    sums = np.zeros((n_applications, n_crit), dtype=np.int64)
    nonempty = np.flatnonzero(counts)
    if nonempty.size:
        kept_units = units[order] * keep[:, np.newaxis]
        sums[nonempty] = np.add.reduceat(kept_units, starts[nonempty], axis=0)
    criterion_units = round_mean_units(sums, kept_count[:, np.newaxis], places, agg.decimals)

    t_sorted = totals[order]
    spread = np.zeros(n_applications, dtype=np.int64)
    if nonempty.size:
        last = starts[nonempty] + counts[nonempty] - 1
        spread[nonempty] = t_sorted[last] - t_sorted[starts[nonempty]]
    expert_max_units = int(rubric.expert_max.scaleb(places))
    high = 4 * spread > expert_max_units

    return ExpertAggregate(
        order=order,
        totals=totals,
        n_reviews=counts,
        retained=retained,
        ranked=ranked,
        criterion_units=criterion_units,
        high_disagreement=high,
        starts=starts,
    )


def decimal_to_units(value: Decimal, places: int) -> int:
    """A Decimal as an integer count of ``10**-places`` (exact; raises if it does not fit)."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)
