"""Formula criteria: points computed from the figures an applicant reports (DESIGN §8 rule 4).

Each term's x is numerator / denominator (or the numerator alone). A zero denominator makes the term not
applicable and its weight is shared among the others; with no applicable term the criterion gets 0 points
and the flag ``not_applicable:<criterion>``. A missing figure counts 0 and flags
``missing_indicator:<indicator>``. Points = max × Σ w·curve(x) / Σ w over applicable terms, rounded half-up.

:func:`formula_scores` works on one application with exact fractions (the applicant portal calls it live).
:func:`formula_units` does the same for many applications at once in floating point and recomputes
exactly every value that lies within rounding distance of a half, so both give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import numpy as np

from .numbers import round_half_up, to_decimal
from .rubric import Criterion, Rubric

__all__ = ["FormulaScore", "TermScore", "check_figure", "formula_scores", "formula_units"]


@dataclass(frozen=True)
class TermScore:
    """One term of a formula criterion for one application.

    Attributes
    ----------
    numerator, denominator : str, str or None
        Indicator keys.
    x : Fraction or None
        numerator / denominator (exact); None when the term is not applicable.
    share : Fraction or None
        curve(x), the share of the criterion's maximum this term earns; None when not applicable.
    applicable : bool
        False when the denominator is zero (or missing, which counts as zero).
    """

    numerator: str
    denominator: str | None
    weight: Decimal
    x: Fraction | None
    share: Fraction | None
    applicable: bool

    @property
    def ratio(self) -> float | None:
        """x as a float, for display (e.g. coverage 0.061 → 6.1%)."""
        return None if self.x is None else float(self.x)


@dataclass(frozen=True)
class FormulaScore:
    """Points of one formula criterion for one application.

    Attributes
    ----------
    key : str
        The criterion key.
    points : Decimal
        Rounded half-up to the rubric's decimals.
    exact : Fraction
        The unrounded value.
    terms : tuple of TermScore
    flags : tuple of str
        ``missing_indicator:<indicator>`` and ``not_applicable:<criterion>`` as they arise.
    """

    key: str
    points: Decimal
    exact: Fraction
    terms: tuple[TermScore, ...]
    flags: tuple[str, ...]


def check_figure(rubric: Rubric, key: str, value: object) -> Decimal | None:
    """Validate one reported figure against its indicator; return it as Decimal (None when missing).

    Raises
    ------
    ValueError
        Unknown indicator, not a number, negative, or not a whole number for a ``count`` indicator.
    """
    try:
        indicator = rubric.indicator(key)
    except KeyError:
        raise ValueError(f"unknown indicator {key!r}; the rubric defines: {_keys(rubric)}") from None
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN means missing
        return None
    number = to_decimal(value, what=f"indicator {key!r}")
    if number < 0:
        raise ValueError(f"indicator {key!r} must be >= 0, got {value!r}")
    if indicator.kind == "count" and number != number.to_integral_value():
        raise ValueError(f"indicator {key!r} is a count and must be a whole number, got {value!r}")
    return number


def _keys(rubric: Rubric) -> str:
    return ", ".join(i.key for i in rubric.indicators)


def curve_share(curve: tuple[tuple[Decimal, Decimal], ...], x: Fraction) -> Fraction:
    """Piecewise-linear curve at x, clamped at both ends, computed exactly."""
    pts = [(Fraction(a), Fraction(b)) for a, b in curve]
    if x <= pts[0][0]:
        return pts[0][1]
    if x >= pts[-1][0]:
        return pts[-1][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError("unreachable: curve x values increase strictly")


def _criterion_score(
    criterion: Criterion, figures: Mapping[str, Decimal | None], decimals: int
) -> FormulaScore:
    flags: list[str] = []
    terms: list[TermScore] = []
    weighted = Fraction(0)
    weight_sum = Fraction(0)
    for term in criterion.terms:
        values = []
        for ref in (term.numerator, term.denominator):
            if ref is None:
                values.append(None)
                continue
            v = figures.get(ref)
            if v is None:
                flag = f"missing_indicator:{ref}"
                if flag not in flags:
                    flags.append(flag)
                v = Decimal(0)
            values.append(Fraction(v))
        num, den = values
        if den is not None and den == 0:
            terms.append(TermScore(term.numerator, term.denominator, term.weight, None, None, False))
            continue
        x = num if den is None else num / den
        share = curve_share(term.curve, x)
        w = Fraction(term.weight)
        weighted += w * share
        weight_sum += w
        terms.append(TermScore(term.numerator, term.denominator, term.weight, x, share, True))
    if weight_sum == 0:
        exact = Fraction(0)
        flags.append(f"not_applicable:{criterion.key}")
    else:
        exact = Fraction(criterion.max) * weighted / weight_sum
    return FormulaScore(criterion.key, round_half_up(exact, decimals), exact, tuple(terms), tuple(flags))


def formula_scores(
    rubric: Rubric, figures: Mapping[str, Decimal | float | int | None]
) -> dict[str, FormulaScore]:
    """Points of every formula criterion for one application.

    Parameters
    ----------
    rubric : Rubric
    figures : mapping of indicator key to number or None
        The application's reported figures. A key that is absent or None is missing (counts 0 and is
        flagged). Floats are taken by their shortest repr.

    Returns
    -------
    dict of str to FormulaScore
        Keyed by criterion, in rubric order.

    Raises
    ------
    ValueError
        For an unknown indicator key, a negative or non-numeric figure, or a fractional count.

    Examples
    --------
    >>> from scoring.rubric import parse_rubric, EXAMPLE_RUBRIC
    >>> r = parse_rubric(EXAMPLE_RUBRIC)
    >>> s = formula_scores(r, {"enterprises": 1000, "associations": 61})
    >>> s["coverage"].points, s["coverage"].terms[0].ratio
    (Decimal('24.00'), 0.061)
    """
    if not isinstance(rubric, Rubric):
        raise TypeError("rubric must be a Rubric (see scoring.rubric.load_rubric)")
    if not isinstance(figures, Mapping):
        raise TypeError("figures must be a mapping of indicator key to number")
    clean = {key: check_figure(rubric, key, value) for key, value in figures.items()}
    position = {f"missing_indicator:{ind.key}": i for i, ind in enumerate(rubric.indicators)}
    out = {}
    for c in rubric.formula_criteria:
        score = _criterion_score(c, clean, rubric.decimals)
        # flags in the same order as the engine's: missing figures by indicator, then not_applicable
        flags = tuple(sorted(score.flags, key=lambda f: position.get(f, len(position))))
        out[c.key] = FormulaScore(score.key, score.points, score.exact, score.terms, flags)
    return out


def formula_units(
    rubric: Rubric, values: np.ndarray, exact_rows: list[dict[str, Decimal | None]] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised rule 4 for many applications.

    Parameters
    ----------
    rubric : Rubric
    values : ndarray of float, shape (n_applications, n_indicators)
        Figures (>= 0) in rubric indicator order; NaN where missing. Column-major is fastest.
    exact_rows : list of dict, optional
        The exact figures per application, used to recompute values that float arithmetic cannot round
        with certainty. Without it the float figures are converted by their shortest repr.

    Returns
    -------
    units : ndarray of int64, shape (n_applications, n_formula_criteria)
        Rounded points in units of ``10**-decimals``.
    missing : ndarray of bool, shape (n_applications, n_indicators)
        Missing figures that some formula term uses.
    not_applicable : ndarray of bool, shape (n_applications, n_formula_criteria)
    """
    criteria = rubric.formula_criteria
    n, n_indicators = values.shape
    index, used, plans = _float_plan(rubric)
    units = np.empty((len(criteria), n), dtype=np.int64)
    not_applicable = np.zeros((len(criteria), n), dtype=bool)
    for k, (top, term_plans, exact_plan, keys) in enumerate(plans):
        terms = []
        for num_col, den_col, weight, curve in term_plans:
            # each figure straight from its column: a missing numerator (NaN) counts 0, and a missing or
            # zero denominator makes the term not applicable
            num = values[:, num_col]
            if den_col is None:
                applicable = None
                x = np.fmax(num, 0.0)
            else:
                den = values[:, den_col]
                applicable = den > 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = np.divide(num, den)  # NaN or ∞ where not applicable; NaN where num is missing
                np.fmax(x, 0.0, out=x)  # NaN → 0 (rows where the term does not apply are zeroed below)
            # single term: its weight is 1 wherever it applies, so the curve is scaled to points directly
            terms.append((weight, applicable, _curve_values(x, curve)))
        if len(terms) == 1:
            _, applicable, scaled = terms[0]
            if applicable is not None:
                np.logical_not(applicable, out=not_applicable[k])
                np.copyto(scaled, 0.0, where=not_applicable[k])
        else:
            weighted = np.zeros(n)
            weight_sum = np.zeros(n)
            for w, applicable, share in terms:
                share *= w
                if applicable is None:
                    weighted += share
                    weight_sum += w
                else:
                    share *= applicable
                    weighted += share
                    weight_sum += w * applicable
            none = weight_sum == 0
            not_applicable[k] = none
            scaled = np.divide(weighted, weight_sum, out=np.zeros(n), where=~none)
            scaled *= top
        half_up = scaled + 0.5
        np.floor(half_up, out=half_up)
        units[k] = half_up
        # float error here is ~1e-13 relative; anything this close to a half is recomputed exactly
        scaled -= half_up  # in [-1/2, 1/2)
        np.abs(scaled, out=scaled)
        rows = np.flatnonzero(scaled > 0.5 - (1e-6 + 1e-11 * top))
        if rows.size:
            ratios = {key: _row_ratios(values[rows, index[key]], rows, key, exact_rows) for key in keys}
            units[k, rows] = _exact_units_rows(exact_plan, ratios, rows.size)
    missing = np.isnan(values)
    unused = np.ones(n_indicators, dtype=bool)
    unused[used] = False
    if unused.any():
        missing[:, unused] = False  # a figure no formula uses is not flagged
    return units.T, missing, not_applicable.T


def _ratio(value: Decimal | float | int | None) -> tuple[int, int]:
    if value is None:
        return 0, 1
    if isinstance(value, int):
        return value, 1
    if isinstance(value, float):
        value = Decimal(repr(value))
    return value.as_integer_ratio()


@lru_cache(maxsize=256)
def _exact_plan(criterion: Criterion) -> tuple:
    """Integer ratios of a criterion's weights and curve points, for :func:`exact_units`."""
    plan = []
    for term in criterion.terms:
        points = tuple(x.as_integer_ratio() + y.as_integer_ratio() for x, y in term.curve)
        plan.append((term.numerator, term.denominator, term.weight.as_integer_ratio(), points))
    return tuple(plan), criterion.max.as_integer_ratio()


def exact_units(
    criterion: Criterion, figures: Mapping[str, Decimal | float | int | None], decimals: int
) -> int:
    """Rule 4 then rule 5 for one application in integer arithmetic: points in units of 10**-decimals.

    Same value as ``_criterion_score(...).points`` without building fractions (numerators and
    denominators are carried separately and never reduced), for the values that floating point cannot
    round with certainty.
    """
    return _exact_units(_exact_plan(criterion), figures, decimals)


def _exact_units(
    plan_and_max: tuple, figures: Mapping[str, Decimal | float | int | None], decimals: int
) -> int:
    plan, (max_n, max_d) = plan_and_max
    top_n, top_d = 0, 1  # sum of w * share
    w_n, w_d = 0, 1  # sum of applicable weights
    for numerator, denominator, (tw_n, tw_d), points in plan:
        nn, nd = _ratio(figures.get(numerator))
        if denominator is not None:
            dn, dd = _ratio(figures.get(denominator))
            if dn == 0:
                continue
            xn, xd = nn * dd, nd * dn
        else:
            xn, xd = nn, nd
        a, b, f, g = points[0]
        if xn * b <= a * xd:
            sn, sd = f, g
        elif xn * points[-1][1] >= points[-1][0] * xd:
            sn, sd = points[-1][2], points[-1][3]
        else:
            for (a, b, f, g), (c, e, h, k) in zip(points, points[1:], strict=False):
                if xn * e <= c * xd:  # x <= x1: this segment
                    n1 = (h * g - f * k) * (xn * b - a * xd) * e
                    d1 = k * g * xd * (c * b - a * e)
                    sn, sd = f * d1 + n1 * g, g * d1
                    break
        top_n, top_d = top_n * tw_d * sd + tw_n * sn * top_d, top_d * tw_d * sd
        w_n, w_d = w_n * tw_d + tw_n * w_d, w_d * tw_d
    if w_n == 0:
        return 0
    num = max_n * top_n * w_d * 10**decimals
    den = max_d * top_d * w_n
    if den < 0:
        num, den = -num, -den
    return (2 * num + den) // (2 * den)


def _row_ratios(
    values: np.ndarray,
    rows: np.ndarray,
    key: str,
    exact_rows: list[dict[str, Decimal | None]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """One indicator's figures on some rows as exact integer ratios: int64 arrays when every figure is a
    whole number, else object arrays of Python ints.

    From ``exact_rows`` when given, else from the floats by their shortest repr; missing is 0/1."""
    size = rows.shape[0]
    if exact_rows is None:
        present = ~np.isnan(values)
        filled = np.where(present, values, 0.0)  # figures are >= 0
        if (np.floor(filled) == filled).all() and filled.max(initial=0.0) < 2**53:
            # whole numbers (or missing): no conversion of each value
            return filled.astype(np.int64), np.ones(size, dtype=np.int64)
        whole = present & (np.floor(values) == values) & (np.abs(values) < 2**53)
    num = np.zeros(size, dtype=object)
    den = np.ones(size, dtype=object)
    if exact_rows is not None:
        for i, row in enumerate(rows.tolist()):
            num[i], den[i] = _ratio(exact_rows[row].get(key))
        return num, den
    num[whole] = values[whole].astype(np.int64).astype(object)
    for i in np.flatnonzero(present & ~whole).tolist():
        num[i], den[i] = _ratio(float(values[i]))
    return num, den


@lru_cache(maxsize=256)
def _segment_plan(criterion: Criterion, decimals: int) -> tuple:
    """Each term of a formula criterion as exact integers, for :func:`_exact_units_rows`.

    Per term: the numerator and denominator keys, the weight as an integer (all weights over their
    common denominator), the curve's x values as (numerator, denominator) pairs, for every region of
    x — at or below the first point, each segment, above the last point — the criterion's points in
    units of ``10**-decimals`` as ``A + B·x``, with A and B as reduced integer ratios, and the constants
    of the bound :func:`_exact_units_rows` puts on its intermediate values: the largest magnitude of
    any constant; the largest x denominator and x numerator; and over the regions the largest
    |A numerator| · B denominator, |B numerator| · A denominator and A denominator · B denominator.
    """
    scale = Fraction(criterion.max) * 10**decimals
    weights = [Fraction(t.weight) for t in criterion.terms]
    common = math.lcm(*(w.denominator for w in weights))
    terms = []
    for term, w in zip(criterion.terms, weights, strict=True):
        pts = [(Fraction(x), Fraction(y)) for x, y in term.curve]
        regions = [(pts[0][1] * scale, Fraction(0))]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            slope = (y1 - y0) / (x1 - x0)
            regions.append(((y0 - slope * x0) * scale, slope * scale))
        regions.append((pts[-1][1] * scale, Fraction(0)))
        weight = int(w * common)
        points = tuple((x.numerator, x.denominator) for x, _ in pts)
        ratios = tuple((a.numerator, a.denominator, b.numerator, b.denominator) for a, b in regions)
        bounds = (
            max(weight, *(abs(v) for point in points for v in point), *(abs(v) for r in ratios for v in r)),
            max(xd for _, xd in points),
            max(abs(xn) for xn, _ in points),
            max(abs(an) * bd for an, _, _, bd in ratios),
            max(abs(bn) * ad for _, ad, bn, _ in ratios),
            max(ad * bd for _, ad, _, bd in ratios),
        )
        terms.append((term.numerator, term.denominator, weight, points, ratios, bounds))
    return tuple(terms)


def _exact_units_rows(
    plan: tuple, ratios: Mapping[str, tuple[np.ndarray, np.ndarray]], size: int
) -> np.ndarray:
    """Rule 4 then rule 5 in exact integer arithmetic for many rows at once (the rows whose float value
    lies too near a half), as :func:`exact_units` computes one.

    Each term's x is N/D; its region (found by exact comparison with the curve's points) gives the
    points as A + B·N/D; the terms' weighted sum over the applicable weights is one fraction, rounded
    half-up: weights are integers over a common denominator, which cancels. The arithmetic runs on int64 arrays when a bound on every intermediate value shows it cannot
    overflow, else on object arrays of Python integers (exact at any size)."""
    ratios_of = []
    for numerator, denominator, *_ in plan:
        nn, nd = ratios[numerator]
        if denominator is None:
            ratios_of.append((nn, nd, None))
        else:
            dn, dd = ratios[denominator]
            applies = dn != 0
            ratios_of.append((nn * dd, np.where(applies, nd * dn, 1), applies))
    # bound |every intermediate| (all magnitudes, Python integers) to choose int64 or Python integers
    limit = 1
    p_bound, q_bound, w_bound = 0, 1, 0
    for (_, _, weight, _, _, bounds), (big_n, big_d, _) in zip(plan, ratios_of, strict=True):
        constants, x_den, x_num, a_b, b_a, a_den_b_den = bounds
        n_max, d_max = int(np.abs(big_n).max()), int(big_d.max())
        # N · x_d and x_n · D (the region tests) below; each region's p and q below the products
        limit = max(limit, constants, n_max * x_den + x_num * d_max)
        p_term = (a_b * d_max + b_a * n_max) * weight
        q_term = a_den_b_den * d_max
        p_bound, q_bound = p_bound * q_term + p_term * q_bound, q_bound * q_term
        w_bound += weight
    limit = max(limit, 2 * p_bound + q_bound * w_bound)
    kind = np.int64 if limit < 2**62 else object

    p = np.zeros(size, dtype=kind)  # sum of weight · points, as p / q
    q = np.ones(size, dtype=kind)
    w_sum = np.zeros(size, dtype=kind)  # applicable weights, over the common denominator
    for (_, _, weight, points, regions, _), (big_n, big_d, applies) in zip(plan, ratios_of, strict=True):
        big_n, big_d = big_n.astype(kind), big_d.astype(kind)
        region = np.zeros(size, dtype=np.int64)
        for xn, xd in points:
            region += big_n * xd > xn * big_d  # past this point
        table = np.array(regions, dtype=kind)[region]
        an, ad, bn, bd = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
        term_p = (an * bd * big_d + bn * ad * big_n) * weight
        term_q = ad * bd * big_d
        if applies is None:
            p, q = p * term_q + term_p * q, q * term_q
            w_sum += weight
        else:
            p = np.where(applies, p * term_q + term_p * q, p)
            q = np.where(applies, q * term_q, q)
            w_sum += np.where(applies, weight, 0)
    none = w_sum == 0
    den = np.where(none, 1, q * w_sum)
    return np.where(none, 0, (2 * p + den) // (2 * den)).astype(np.int64)


@lru_cache(maxsize=64)
def _float_plan(rubric: Rubric) -> tuple:
    """The float constants of every formula criterion, computed once per rubric: the indicator index,
    the indicators the formulas use (in column order), and per criterion its top (points in units of
    ``10**-decimals``), per term (numerator column, denominator column or None, weight, curve) with
    the curve as :func:`_curve_values` takes it, its :func:`_segment_plan` and the indicator keys it
    uses."""
    index = {ind.key: j for j, ind in enumerate(rubric.indicators)}
    criteria = rubric.formula_criteria
    used = sorted({index[k] for c in criteria for t in c.terms for k in (t.numerator, t.denominator) if k})
    plans = []
    for criterion in criteria:
        top = float(criterion.max) * 10.0**rubric.decimals
        scale = top if len(criterion.terms) == 1 else 1.0
        terms = []
        for term in criterion.terms:
            den_col = None if term.denominator is None else index[term.denominator]
            terms.append((index[term.numerator], den_col, float(term.weight), _curve_plan(term.curve, scale)))
        keys = tuple(sorted({k for t in criterion.terms for k in (t.numerator, t.denominator) if k}))
        plans.append((top, tuple(terms), _segment_plan(criterion, rubric.decimals), keys))
    return index, used, tuple(plans)


def _curve_plan(curve: tuple[tuple[Decimal, Decimal], ...], scale: float) -> tuple:
    """A curve times ``scale`` as :func:`_curve_values` takes it: ``("interp", xs, ys)`` for a long curve,
    else ``("segments", ((x0, x1, slope, y0), ...))``."""
    xs = [float(p[0]) for p in curve]
    ys = [float(p[1]) * scale for p in curve]
    if len(xs) > 4:
        return ("interp", tuple(xs), tuple(ys))
    return (
        "segments",
        tuple(
            (x0, x1, (y1 - y0) / (x1 - x0), y0)
            for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:], strict=False)
        ),
    )


def _curve_values(x: np.ndarray, curve: tuple) -> np.ndarray:
    """A piecewise-linear curve (from :func:`_curve_plan`) at every x (float), clamped at both ends; x
    is overwritten.

    A short curve is the sum of its segments' contributions, y0 + Σ slope·(clip(x, x_i, x_i+1) − x_i),
    a few whole-array operations instead of a search per value. Each contribution is at most the rise of
    its segment, so the float error stays that of values of the curve's own size.
    """
    if curve[0] == "interp":
        return np.interp(x, curve[1], curve[2])
    segments = curve[1]
    share = None
    last = len(segments) - 1
    for i, (x0, x1, slope, y0) in enumerate(segments):
        part = x if i == last else np.empty_like(x)  # no later segment reads x after the last
        np.clip(x, x0, x1, out=part)
        if x0:
            part -= x0
        if slope != 1.0:
            part *= slope
        if share is None:
            if y0:
                part += y0
            share = part
        else:
            share += part
    assert share is not None
    return share
