"""Reliability of an expert panel: ICC, Kendall's W and Krippendorff's alpha on reviewer totals.

The input everywhere is a matrix of reviewer totals, one row per application and one column per
expert, with NaN where the expert did not review the application (conflict of interest, not
assigned, not yet submitted). Missing is NaN, never a sentinel number.

Which data each measure uses:

- ICC(A,1), ICC(C,1), ICC(A,k) and Kendall's W need a complete block, so they use only the
  *complete* applications: those reviewed by every expert who reviewed anything at all.
- Krippendorff's alpha copes with missing cells, so it uses every application that at least two
  experts reviewed.

Everything is computed with numpy only; scipy, pingouin and krippendorff are used by the tests as
independent cross-checks and are not needed at run time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "MEASURES",
    "Reliability",
    "average_ranks",
    "describe",
    "panel_reliability",
    "validate_totals",
]

#: The measures reported by :func:`panel_reliability`, in display order, with their Chinese names.
MEASURES: dict[str, str] = {
    "icc_a1": "ICC(A,1) 单个专家评分的绝对一致性",
    "icc_c1": "ICC(C,1) 单个专家评分的相对一致性",
    "icc_ak": "ICC(A,k) 专家组平均分的绝对一致性",
    "kendall_w": "肯德尔和谐系数 W",
    "krippendorff_alpha": "克里彭多夫 α 系数",
}

# A denominator (or spread) this small relative to the data's own scale is rounding noise, not
# signal: the statistic is then treated as not computable rather than returned as a huge number.
_RELATIVE_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Reliability:
    """Panel reliability of one results run.

    Attributes
    ----------
    icc_a1, icc_c1, icc_ak : float or None
        McGraw & Wong (1996) ICC(A,1), ICC(C,1) and ICC(A,k), i.e. Shrout & Fleiss ICC(2,1),
        ICC(3,1) and ICC(2,k), on the complete applications. None when not computable.
    kendall_w : float or None
        Kendall's coefficient of concordance, corrected for ties, on the complete applications.
    krippendorff_alpha : float or None
        Krippendorff's alpha with the interval metric on all pairable ratings.
    n_applications : int
        Rows of the totals matrix.
    n_experts : int
        Columns of the totals matrix.
    n_complete : int
        Applications reviewed by every expert who reviewed at least one application; 0 when no
        expert reviewed anything.
    """

    icc_a1: float | None
    icc_c1: float | None
    icc_ak: float | None
    kendall_w: float | None
    krippendorff_alpha: float | None
    n_applications: int
    n_experts: int
    n_complete: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of every field (None stays None, never NaN)."""
        return asdict(self)

    def readings(self) -> dict[str, str]:
        """Return the plain-Chinese reading of each measure, keyed like :data:`MEASURES`."""
        return {measure: describe(getattr(self, measure), measure) for measure in MEASURES}


def validate_totals(totals: ArrayLike) -> np.ndarray:
    """Check a reviewer-totals matrix at the door and return it as a float64 array.

    Parameters
    ----------
    totals : array_like
        Real numbers, shape (n_applications, n_experts); NaN marks a missing review.

    Returns
    -------
    numpy.ndarray
        A float64 copy-or-view of `totals`.

    Raises
    ------
    ValueError
        If the input is not two-dimensional, not real numbers (strings, booleans, complex,
        objects) or holds an infinite value.

    Examples
    --------
    >>> validate_totals([[80, float("nan")], [72.5, 70]]).dtype
    dtype('float64')
    """
    array = np.asarray(totals)
    if array.dtype.kind not in "fiu":
        raise ValueError(f"totals must hold real numbers (NaN for a missing review), got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"totals must be 2-D (applications × experts), got {array.ndim}-D with shape {array.shape}"
        )
    array = array.astype(np.float64, copy=False)
    if np.isinf(array).any():
        raise ValueError("totals must be finite or NaN; found an infinite value")
    return array


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Rank a 1-D array from 1 upward, giving tied values the average of their ranks.

    Same result as ``scipy.stats.rankdata(values, method="average")`` for finite input.

    Examples
    --------
    >>> average_ranks(np.array([30.0, 10.0, 20.0, 10.0])).tolist()
    [4.0, 1.5, 3.0, 1.5]
    """
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts_group = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    group = np.cumsum(starts_group) - 1
    bounds = np.concatenate((np.flatnonzero(starts_group), [values.size]))
    # Positions start..end-1 (0-based) share the ranks start+1..end, whose mean is (start+end+1)/2.
    group_rank = (bounds[:-1] + bounds[1:] + 1) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = group_rank[group]
    return ranks


def _tie_term(values: np.ndarray) -> float:
    """Sum of t**3 - t over the groups of tied values (t = size of a group)."""
    _, counts = np.unique(values, return_counts=True)
    counts = counts.astype(np.float64)
    return float(np.sum(counts**3 - counts))


def _is_negligible(quantity: float, scale: float) -> bool:
    """True when `quantity` is zero up to rounding noise at the data's `scale` (or not finite)."""
    return not abs(quantity) > _RELATIVE_TOLERANCE * scale


def _icc(block: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """ICC(A,1), ICC(C,1), ICC(A,k) of a complete block (targets × raters) by two-way ANOVA."""
    n, k = block.shape
    if n < 2 or k < 2 or np.ptp(block) == 0:
        return None, None, None
    centred = block - block.mean()
    row_means = centred.mean(axis=1)
    col_means = centred.mean(axis=0)
    ss_rows = k * float(np.sum(row_means**2))
    ss_cols = n * float(np.sum(col_means**2))
    ss_error = float(np.sum((centred - row_means[:, None] - col_means[None, :]) ** 2))
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    scale = msr + msc + mse

    def ratio(numerator: float, denominator: float) -> float | None:
        return None if _is_negligible(denominator, scale) else numerator / denominator

    icc_a1 = ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
    icc_c1 = ratio(msr - mse, msr + (k - 1) * mse)
    icc_ak = ratio(msr - mse, msr + (msc - mse) / n)
    return icc_a1, icc_c1, icc_ak


def _kendall_w(block: np.ndarray) -> float | None:
    """Kendall's W with tie correction; rows are the ranked objects, columns the raters."""
    n, m = block.shape
    if n < 2 or m < 2:
        return None
    rank_sums = np.zeros(n)
    ties = 0.0
    for rater in range(m):
        rank_sums += average_ranks(block[:, rater])
        ties += _tie_term(block[:, rater])
    # Centred form of 12 ΣR² − 3 m² n (n+1)²: Σ(R − m(n+1)/2)² times 12.
    spread = float(np.sum((rank_sums - m * (n + 1) / 2.0) ** 2))
    denominator = m**2 * (n**3 - n) - m * ties
    if _is_negligible(denominator, m**2 * (n**3 - n)):
        return None  # every rater gave every object the same score
    return 12.0 * spread / denominator


def _krippendorff_alpha_interval(totals: np.ndarray) -> float | None:
    """Krippendorff's alpha, interval metric; rows are units, NaN is missing."""
    # Work on the present cells only (row index, value): sparse panels are mostly NaN.
    unit, column = np.nonzero(~np.isnan(totals))
    per_unit = np.bincount(unit, minlength=totals.shape[0])
    keep = per_unit[unit] >= 2  # pairable values: units with at least two ratings
    unit, values = unit[keep], totals[unit[keep], column[keep]]
    counts = per_unit[per_unit >= 2].astype(np.float64)
    if counts.size < 2:
        return None  # with a single pairable unit D_o = D_e, so alpha is 0 whatever the scores
    if np.ptp(values) == 0:
        return None  # no expected disagreement: every pairable rating is the same
    _, unit = np.unique(unit, return_inverse=True)  # 0..number of pairable units − 1
    n = float(values.size)
    centred = values - values.mean()
    unit_means = np.bincount(unit, weights=centred) / counts
    unit_ss = np.bincount(unit, weights=(centred - unit_means[unit]) ** 2)
    total_ss = float(np.sum(centred**2))
    # Pairwise sums of squared differences: within a unit Σ_{i≠j}(v_i−v_j)² = 2·m_u·SS_u, so
    # D_o = Σ_u 2·m_u·SS_u / (m_u − 1) / n and D_e = 2·SS_all / (n − 1).
    observed = float(np.sum(2.0 * counts * unit_ss / (counts - 1.0))) / n
    expected = 2.0 * total_ss / (n - 1.0)
    return 1.0 - observed / expected


def panel_reliability(totals: ArrayLike) -> Reliability:
    """Measure how far the experts of a panel agree on the applications' totals.

    Parameters
    ----------
    totals : array_like of float, shape (n_applications, n_experts)
        Each expert's total for each application; NaN where the expert did not review it.

    Returns
    -------
    Reliability
        ICC(A,1), ICC(C,1), ICC(A,k) and Kendall's W on the complete applications, Krippendorff's
        alpha (interval) on all applications with at least two reviews, and the counts. A measure
        is None when it cannot be computed: fewer than 2 complete applications or 2 experts for
        ICC and W; fewer than 2 applications with at least two reviews for alpha; or nothing to
        measure against (every score equal, or a denominator of zero).

    Raises
    ------
    ValueError
        If `totals` is not a 2-D array of real numbers or holds an infinite value.

    Notes
    -----
    An expert with no review at all carries no information and would leave no complete
    application, so such experts are left out before the complete applications are chosen.
    ICC follows McGraw & Wong (1996) from two-way ANOVA mean squares (the same numbers as
    pingouin's ICC2, ICC3 and ICC2k). Kendall's W treats applications as the ranked objects and
    experts as the raters, ranking with average ties and the usual correction
    ``W = 12 Σ(R_i − m(n+1)/2)² / (m²(n³−n) − m Σ(t³−t))``. Krippendorff's alpha is
    ``1 − D_o / D_e`` with squared differences over pairable values. ICC and alpha are
    negative when experts disagree more than chance; on tiny degenerate panels ICC(A,k) can even
    leave [−1, 1], exactly as the McGraw & Wong formula (and pingouin) gives it.

    Examples
    --------
    >>> nan = float("nan")
    >>> totals = [[80, 82, 79], [70, 71, 73], [90, 88, 91], [75, 69, 72], [60, 65, nan]]
    >>> result = panel_reliability(totals)
    >>> result.n_complete, round(result.icc_a1, 3), round(result.kendall_w, 3)
    (4, 0.948, 0.911)
    >>> describe(result.icc_a1, "icc_a1")
    'ICC(A,1) = 0.948：优秀（> 0.9），专家评分高度一致（分级依据 Koo & Li 2016）。'
    """
    matrix = validate_totals(totals)
    n_applications, n_experts = matrix.shape
    present = ~np.isnan(matrix)
    active = present.any(axis=0)
    if active.any():
        complete_rows = present[:, active].all(axis=1)
        block = matrix[np.ix_(complete_rows, active)]
    else:
        block = np.empty((0, 0))
    icc_a1, icc_c1, icc_ak = _icc(block)
    return Reliability(
        icc_a1=icc_a1,
        icc_c1=icc_c1,
        icc_ak=icc_ak,
        kendall_w=_kendall_w(block),
        krippendorff_alpha=_krippendorff_alpha_interval(matrix),
        n_applications=int(n_applications),
        n_experts=int(n_experts),
        n_complete=int(block.shape[0]),
    )


# Bands, checked from the top down: (lower bound, whether the bound itself belongs to the band,
# label, what it means). Koo & Li put exactly 0.9 in "good", so the top ICC bound is exclusive.
_ICC_BANDS = (
    (0.9, False, "优秀（> 0.9）", "专家评分高度一致"),
    (0.75, True, "良好（0.75–0.9）", "专家评分一致性良好"),
    (0.5, True, "中等（0.5–0.75）", "专家评分有一定一致性，但分歧不小"),
    (-np.inf, True, "较差（< 0.5）", "专家之间分歧较大，排名受个别专家影响明显"),
)
_W_BANDS = (
    (0.9, True, "非常强（≥ 0.9）", "专家对申报单位的排序几乎相同"),
    (0.7, True, "强（0.7–0.9）", "专家对排序的看法高度一致"),
    (0.5, True, "中等（0.5–0.7）", "专家对排序的看法基本一致"),
    (0.3, True, "弱（0.3–0.5）", "专家排序只有部分一致"),
    (-np.inf, True, "很弱（< 0.3）", "专家排序几乎没有共识"),
)
_ALPHA_BANDS = (
    (0.8, True, "可靠（≥ 0.8）", "评分可靠，可据此下结论"),
    (0.667, True, "可作初步结论（0.667–0.8）", "评分可作初步结论，结论需谨慎"),
    (-np.inf, True, "不足以下结论（< 0.667）", "评分一致性不足，不宜仅凭分数下结论"),
)
_READINGS = {
    "icc_a1": ("ICC(A,1)", _ICC_BANDS, "Koo & Li 2016"),
    "icc_c1": ("ICC(C,1)", _ICC_BANDS, "Koo & Li 2016"),
    "icc_ak": ("ICC(A,k)", _ICC_BANDS, "Koo & Li 2016"),
    "kendall_w": ("肯德尔 W", _W_BANDS, "Schmidt 1997"),
    "krippendorff_alpha": ("克里彭多夫 α", _ALPHA_BANDS, "Krippendorff 2004"),
}
_NOT_COMPUTABLE = {
    "icc_a1": "需要至少 2 个由全体专家评过的申报单位、至少 2 位专家，且分数有差异",
    "icc_c1": "需要至少 2 个由全体专家评过的申报单位、至少 2 位专家，且分数有差异",
    "icc_ak": "需要至少 2 个由全体专家评过的申报单位、至少 2 位专家，且分数有差异",
    "kendall_w": "需要至少 2 个由全体专家评过的申报单位、至少 2 位专家，且分数不全相同",
    "krippendorff_alpha": "需要至少 2 个申报单位各有 2 份以上评分，且分数不全相同",
}


def describe(value: float | None, measure: str) -> str:
    """Say in plain Chinese what a reliability value means, for the results page.

    Parameters
    ----------
    value : float or None
        The value of the measure, as in :class:`Reliability`; None means not computable.
    measure : str
        One of ``"icc_a1"``, ``"icc_c1"``, ``"icc_ak"``, ``"kendall_w"``,
        ``"krippendorff_alpha"``.

    Returns
    -------
    str
        One sentence: the value to three decimals, its band and what the band means. Bands: ICC
        after Koo & Li (2016) (< 0.5 较差, 0.5–0.75 中等, 0.75–0.9 良好, > 0.9 优秀); Kendall's W
        after Schmidt (1997); Krippendorff's alpha after Krippendorff (2004) (≥ 0.8 可靠,
        0.667–0.8 可作初步结论, < 0.667 不足以下结论).

    Raises
    ------
    ValueError
        If `measure` is not one of the names above.

    Examples
    --------
    >>> describe(0.62, "icc_a1")
    'ICC(A,1) = 0.620：中等（0.5–0.75），专家评分有一定一致性，但分歧不小（分级依据 Koo & Li 2016）。'
    >>> describe(None, "krippendorff_alpha")
    '克里彭多夫 α 无法计算：需要至少 2 个申报单位各有 2 份以上评分，且分数不全相同。'
    """
    if measure not in _READINGS:
        raise ValueError(f"unknown measure {measure!r}; expected one of {', '.join(_READINGS)}")
    name, bands, source = _READINGS[measure]
    if value is None:
        return f"{name} 无法计算：{_NOT_COMPUTABLE[measure]}。"
    value = float(value)
    for lower, inclusive, label, meaning in bands:
        if value > lower or (inclusive and value == lower):
            return f"{name} = {value:.3f}：{label}，{meaning}（分级依据 {source}）。"
    raise AssertionError("unreachable: the last band has no lower bound")
