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

    All arguments are non-negative integers; the result is exact: ``floor(N / D)`` with N = 2·num + den and
    D = 2·den. While N < 2**53 the division may be done in float64 and is still exact: N and D are exact
    floats; an integer quotient is represented exactly; any other quotient lies at least 1/D from every
    integer, while the error of one correctly rounded division is at most (N/D)·2**-53 < 1/D.
    """
    sums = np.asarray(sums, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if decimals >= places:
        num = sums * (10 ** (decimals - places))
        den = counts
    else:
        num = sums
        den = counts * (10 ** (places - decimals))
    den = np.where(den == 0, 1, den) if (counts == 0).any() else den
    if int(num.max(initial=0)) < 2**50 and int(den.max(initial=0)) < 2**20:
        result = np.floor((2 * num + den) / (2.0 * den)).astype(np.int64)
    else:
        result = (2 * num + den) // (2 * den)
    return np.where(counts == 0, 0, result) if (counts == 0).any() else result


def rounding_tables(
    max_units: list[int], kept: np.ndarray, places: int, decimals: int
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Rule 5 by table look-up: for each criterion, the rounded mean of every possible sum.

    Returns, per criterion, ``(table, offsets)`` with ``table[offsets[app] + sum]`` the rounded mean of
    ``sum`` over ``kept[app]`` reviews (in units of ``10**-decimals``); None where the table would be
    too large (then :func:`round_mean_units` is used directly).
    """
    kept = np.asarray(kept, dtype=np.int64)
    m_values = np.flatnonzero(np.bincount(kept)) if kept.size else np.zeros(1, dtype=np.int64)
    lookup = np.zeros(int(m_values.max()) + 1, dtype=np.int64)
    lookup[m_values] = np.arange(m_values.size)
    m_code = lookup[kept]
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for mu in max_units:
        width = int(m_values.max()) * mu + 1
        if width * m_values.size > 4_000_000:
            out.append(None)
            continue
        sums = np.arange(width, dtype=np.int64)[np.newaxis, :]
        table = round_mean_units(sums, m_values[:, np.newaxis], places, decimals).reshape(-1)
        out.append((table, m_code * width))
    return out


@dataclass(frozen=True)
class ExpertAggregate:
    """Rules 1–3 for all applications at once.

    Attributes
    ----------
    totals : ndarray of int64
        Reviewer total t per review row, in score units.
    n_reviews : ndarray of int
        Reviews per application.
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
    ranked: np.ndarray
    criterion_units: np.ndarray
    high_disagreement: np.ndarray
    starts: np.ndarray
    app: np.ndarray = field(repr=False)
    expert: np.ndarray = field(repr=False)
    n_experts: int = 1
    method: str = "mean"
    trim_min_experts: int | None = None
    first_row: np.ndarray | None = field(default=None, repr=False)
    last_row: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def order(self) -> np.ndarray:
        """Review rows sorted by (application, t, expert)."""
        return sort_reviews(self.app, self.totals, self.expert, self.n_experts)

    @cached_property
    def retained(self) -> np.ndarray:
        """Per review row (input order): kept by rule 2."""
        n = self.app.shape[0]
        if self.method == "median":
            order = self.order
            app_sorted = self.app[order]
            n_of = self.n_reviews[app_sorted]
            pos = np.arange(n) - self.starts[app_sorted]
            keep = np.zeros(n, dtype=bool)
            keep[order] = (pos == (n_of - 1) // 2) | (pos == n_of // 2)
        else:
            keep = np.ones(n, dtype=bool)
            if self.method == "trimmed_mean":
                trimmed = np.flatnonzero(self.n_reviews >= self.trim_min_experts)
                keep[self.first_row[trimmed]] = False
                keep[self.last_row[trimmed]] = False
        return keep & self.ranked[self.app]


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


def pack_layout(max_units: list[int], max_count: int, word_bits: int) -> list[list[tuple[int, int, int]]]:
    """Bit fields wide enough for a sum of ``max_count`` scores of each criterion, grouped into words.

    Returns words, each a list of (criterion index, shift, width)."""
    words: list[list[tuple[int, int, int]]] = [[]]
    used = 0
    for c, mu in enumerate(max_units):
        width = max(int(mu * max(max_count, 1)).bit_length(), 1)
        if used + width > word_bits and words[-1]:
            words.append([])
            used = 0
        words[-1].append((c, used, width))
        used += width
    return words


def pack_rows(units: np.ndarray, layout: list[list[tuple[int, int, int]]]) -> list[np.ndarray]:
    """Each row's scores packed into one integer per word of ``layout``."""
    words = []
    for word in layout:
        c, shift, _ = word[0]
        w = units[:, c] << shift
        for c, shift, _ in word[1:]:
            part = units[:, c] << shift
            w += part
        words.append(w)
    return words


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
        Scores in units of ``10**-score_places(rubric)`` (column-major is fastest).
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
    max_units = [int(c.max.scaleb(places)) for c in rubric.expert_criteria]
    counts = np.bincount(app, minlength=n_applications)
    starts = np.cumsum(counts) - counts
    ranked = counts >= agg.min_experts
    # Each review's total t, and its criteria packed into integers that float64 holds exactly (every
    # field wide enough for a sum over an application's reviews, every word below 2**52), so that one
    # weighted bincount per word sums all criteria at once, exactly.
    layout = pack_layout(max_units, int(counts.max(initial=0)), 52)
    totals = units[:, 0].copy() if units.shape[1] else np.zeros(n, dtype=np.int64)
    for c in range(1, units.shape[1]):
        totals += units[:, c]
    packed = pack_rows(units, layout)

    # Rule 2's order is (t, expert); its first and last review per application are the minimum and
    # maximum of one packed integer, which also carries the row number in its low bits.
    e_range = max(n_experts, 1)
    row_bits = _bits(n)
    t_range = int(totals.max(initial=0)) + 1
    if _bits(t_range) + _bits(e_range) + row_bits <= 62:
        key = totals * e_range
        key += expert
        key <<= row_bits
        key |= np.arange(n, dtype=np.int64)
        kmin = np.full(n_applications, np.iinfo(np.int64).max, dtype=np.int64)
        kmax = np.full(n_applications, -1, dtype=np.int64)
        np.minimum.at(kmin, app, key)
        np.maximum.at(kmax, app, key)
        has = counts > 0
        row_mask = (1 << row_bits) - 1
        first_row = np.where(has, kmin & row_mask, 0)
        last_row = np.where(has, kmax & row_mask, 0)
    else:
        order = sort_reviews(app, totals, expert, e_range)
        has = counts > 0
        first_row = np.where(has, order[np.minimum(starts, max(n - 1, 0))] if n else 0, 0)
        last_row = np.where(has, order[np.maximum(starts + counts - 1, 0)] if n else 0, 0)
    spread = (
        np.where(counts > 0, totals[last_row] - totals[first_row], 0)
        if n
        else np.zeros(n_applications, np.int64)
    )

    # Sums of every criterion over all reviews: criteria packed into integers a float64 holds exactly,
    # one weighted bincount per word.
    words = [w.astype(np.float64) for w in packed]
    word_sums = [np.bincount(app, weights=w, minlength=n_applications).astype(np.int64) for w in words]

    if agg.method == "trimmed_mean":
        trim = counts >= agg.trim_min_experts
        for w, s in zip(packed, word_sums, strict=True):
            s -= np.where(trim, w[first_row] + w[last_row], 0) if n else 0
        kept_count = np.where(trim, counts - 2, counts)
    elif agg.method == "median":
        order = sort_reviews(app, totals, expert, e_range)
        lo = (
            order[np.where(counts > 0, starts + (counts - 1) // 2, 0)]
            if n
            else np.zeros(n_applications, np.int64)
        )
        hi = order[np.where(counts > 0, starts + counts // 2, 0)] if n else lo
        two = counts % 2 == 0
        word_sums = [
            w[lo] + np.where(two, w[hi], 0) if n else s for w, s in zip(packed, word_sums, strict=True)
        ]
        kept_count = np.where(two, 2, 1)
    else:
        kept_count = counts
    kept_count = np.where(ranked, kept_count, 0)
    # criteria as rows (n_criteria, n_applications): element-wise work runs along long rows
    sums = np.empty((units.shape[1], n_applications), dtype=np.int64)
    for word, s in zip(layout, word_sums, strict=True):
        for c, shift, width in word:
            sums[c] = (s >> shift) & ((1 << width) - 1)
    if not ranked.all():
        sums[:, ~ranked] = 0  # unranked: no retained reviews
    rounded = np.empty_like(sums)
    for c, table in enumerate(rounding_tables(max_units, kept_count, places, agg.decimals)):
        if table is None:
            rounded[c] = round_mean_units(sums[c], kept_count, places, agg.decimals)
        else:
            np.take(table[0], sums[c] + table[1], out=rounded[c], mode="clip")
    criterion_units = rounded.T
    expert_max_units = int(rubric.expert_max.scaleb(places))
    high = 4 * spread > expert_max_units

    return ExpertAggregate(
        totals=totals,
        n_reviews=counts,
        ranked=ranked,
        criterion_units=criterion_units,
        high_disagreement=high,
        starts=starts,
        app=app,
        expert=expert,
        n_experts=e_range,
        method=agg.method,
        trim_min_experts=agg.trim_min_experts,
        first_row=first_row,
        last_row=last_row,
    )


def decimal_to_units(value: Decimal, places: int) -> int:
    """A Decimal as an integer count of ``10**-places`` (exact; raises if it does not fit)."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)
