"""Combining expert reviews into criterion scores (DESIGN §8 rules 1–3 and 5).

Scores are held as integers in a unit fine enough for every step of the rubric (``10**-score_places``),
so sums are exact and the mean of the retained reviews is rounded half-up with integer arithmetic — no
float ever decides a rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

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

    totals: np.ndarray
    n_reviews: np.ndarray
    retained: np.ndarray
    ranked: np.ndarray
    criterion_units: np.ndarray
    high_disagreement: np.ndarray
    starts: np.ndarray
    app: np.ndarray = field(repr=False)
    expert: np.ndarray = field(repr=False)
    n_experts: int = 1

    @cached_property
    def order(self) -> np.ndarray:
        """Review rows sorted by (application, t, expert)."""
        return sort_reviews(self.app, self.totals, self.expert, self.n_experts)


def sort_reviews(app: np.ndarray, totals: np.ndarray, expert: np.ndarray, n_experts: int) -> np.ndarray:
    """Permutation sorting review rows by (application, t, expert code), all ascending."""
    n = app.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    t_range = int(totals.max()) + 1
    a_range = int(app.max()) + 1
    e_range = max(n_experts, 1)
    index_bits = _bits(n)
    if _bits(a_range) + _bits(t_range) + _bits(e_range) + index_bits <= 62:
        # one packed int64 sort (SIMD) instead of a three-key lexsort; the row number rides in the low bits
        key = (app * t_range + totals) * e_range + expert
        key <<= index_bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        return key & ((1 << index_bits) - 1)
    return np.lexsort((expert, totals, app))


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def _column_sums(app: np.ndarray, units: np.ndarray, weight: np.ndarray, n_applications: int) -> np.ndarray:
    """Per application, the sum of ``units`` over rows where ``weight`` (exact: every sum < 2**53)."""
    sums = np.empty((n_applications, units.shape[1]), dtype=np.int64)
    for c in range(units.shape[1]):
        column = np.where(weight, units[:, c], 0).astype(np.float64)
        sums[:, c] = np.bincount(app, weights=column, minlength=n_applications)
    return sums


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
        Expert code; codes must follow the order of the expert ids (the tie order of rule 2), and an
        expert reviews an application at most once.
    units : ndarray of int64, shape (n_reviews, n_expert_criteria)
        Scores in units of ``10**-score_places(rubric)`` (a column-major array is fastest).
    n_applications, n_experts : int

    Returns
    -------
    ExpertAggregate
    """
    agg = rubric.aggregation
    places = score_places(rubric)
    n = np.asarray(app).shape[0]
    app = np.asarray(app, dtype=np.int64)
    expert = np.asarray(expert, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64).reshape(n, len(rubric.expert_criteria))
    totals = np.zeros(n, dtype=np.int64)
    for c in range(units.shape[1]):
        totals += units[:, c]
    counts = np.bincount(app, minlength=n_applications)
    starts = np.cumsum(counts) - counts
    ranked = counts >= agg.min_experts
    e_range = max(n_experts, 1)
    # (t, expert) as one integer: the first and last review of rule 2's order are its min and max
    key = totals * e_range + expert
    big = np.iinfo(np.int64).max
    kmin = np.full(n_applications, big, dtype=np.int64)
    kmax = np.full(n_applications, -1, dtype=np.int64)
    np.minimum.at(kmin, app, key)
    np.maximum.at(kmax, app, key)
    has = counts > 0
    spread = np.where(has, kmax // e_range - np.where(has, kmin, 0) // e_range, 0)

    if agg.method == "trimmed_mean":
        trim = counts >= agg.trim_min_experts
        dropped = trim[app] & ((key == kmin[app]) | (key == kmax[app]))
        keep = ranked[app] & ~dropped
        kept_count = np.where(trim, counts - 2, counts)
    elif agg.method == "median":
        order = sort_reviews(app, totals, expert, e_range)
        app_sorted = app[order]
        n_of = counts[app_sorted]
        pos = np.arange(n) - starts[app_sorted]
        middle = (pos == (n_of - 1) // 2) | (pos == n_of // 2)
        keep = np.zeros(n, dtype=bool)
        keep[order] = middle
        keep &= ranked[app]
        kept_count = np.where(counts % 2 == 1, 1, 2)
    else:
        keep = ranked[app]
        kept_count = counts
    kept_count = np.where(ranked, kept_count, 0)
    sums = _column_sums(app, units, keep, n_applications)
    criterion_units = round_mean_units(sums, kept_count[:, np.newaxis], places, agg.decimals)
    expert_max_units = int(rubric.expert_max.scaleb(places))
    high = 4 * spread > expert_max_units

    return ExpertAggregate(
        totals=totals,
        n_reviews=counts,
        retained=keep,
        ranked=ranked,
        criterion_units=criterion_units,
        high_disagreement=high,
        starts=starts,
        app=app,
        expert=expert,
        n_experts=e_range,
    )


def decimal_to_units(value: Decimal, places: int) -> int:
    """A Decimal as an integer count of ``10**-places`` (exact; raises if it does not fit)."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)
