"""Tests for scoring.reliability, checked against pingouin, scipy and krippendorff."""

import doctest
import json
import warnings
from collections import Counter

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring.reliability
from scoring.reliability import (
    MEASURES,
    Reliability,
    average_ranks,
    describe,
    panel_reliability,
    validate_totals,
)

NAN = np.nan
TOLERANCE = 1e-9


# --- independent reference computations -------------------------------------------------------


def complete_block(totals):
    """Experts with at least one review, applications all of them reviewed (done with pandas)."""
    frame = pd.DataFrame(totals).dropna(axis=1, how="all")
    return frame.dropna(axis=0, how="any").to_numpy()


def pingouin_icc(block):
    n, k = block.shape
    long = pd.DataFrame(
        {
            "application": np.repeat(np.arange(n), k),
            "expert": np.tile(np.arange(k), n),
            "total": block.ravel(),
        }
    )
    with warnings.catch_warnings():
        # pingouin's two-way ANOVA calls DataFrame.dropna(inplace=True), deprecated by pandas.
        warnings.filterwarnings(
            "ignore",
            message="The inplace keyword in DataFrame.dropna is deprecated",
            category=getattr(pd.errors, "Pandas4Warning", FutureWarning),
        )
        table = pingouin.intraclass_corr(
            data=long, targets="application", raters="expert", ratings="total"
        ).set_index("Type")["ICC"]
    # McGraw & Wong ICC(A,1), ICC(C,1), ICC(A,k) = Shrout & Fleiss ICC2, ICC3, ICC2k.
    return table["ICC(A,1)"], table["ICC(C,1)"], table["ICC(A,k)"]


def textbook_kendall_w(block):
    """Kendall's W with tie correction, written out the long way (objects = rows)."""
    n, m = block.shape
    rank_sums = [0.0] * n
    tie_sum = 0.0
    for rater in range(m):
        ranks = scipy.stats.rankdata(block[:, rater], method="average")
        for obj in range(n):
            rank_sums[obj] += ranks[obj]
        for t in Counter(block[:, rater].tolist()).values():
            tie_sum += t**3 - t
    mean_rank_sum = m * (n + 1) / 2
    s = sum((r - mean_rank_sum) ** 2 for r in rank_sums)
    return 12 * s / (m**2 * (n**3 - n) - m * tie_sum)


def pingouin_kendall_w(block):
    # pingouin's Friedman test ranks within each row, so the raters (experts) must be the rows.
    return float(pingouin.friedman(data=pd.DataFrame(block.T))["W"].iloc[0])


def krippendorff_alpha(totals):
    return krippendorff.alpha(reliability_data=totals.T, level_of_measurement="interval")


def random_totals(seed, *, missing):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    k = int(rng.integers(2, 12))
    quality = rng.normal(70, 10, size=(n, 1))
    leniency = rng.normal(0, 3, size=(1, k))
    totals = quality + leniency + rng.normal(0, 6, size=(n, k))
    if seed % 2:
        totals = np.round(totals * 2) / 2  # half-point totals: many ties
    if missing:
        totals[rng.random((n, k)) < rng.uniform(0.05, 0.3)] = NAN
    return totals


def assert_close(actual, expected):
    assert actual is not None
    assert abs(actual - expected) <= TOLERANCE, (actual, expected)


# --- validation at the door -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [np.array([70.0, 80.0]), np.array(75.0), np.zeros((2, 2, 2))],
    ids=["1-D", "0-D", "3-D"],
)
def test_panel_reliability_rejects_non_2d(bad):
    with pytest.raises(ValueError, match="must be 2-D"):
        panel_reliability(bad)


@pytest.mark.parametrize(
    "bad",
    [np.array([["80", "70"]]), np.array([[True, False]]), np.array([[1 + 2j, 3j]])],
    ids=["strings", "booleans", "complex"],
)
def test_panel_reliability_rejects_non_real_dtype(bad):
    with pytest.raises(ValueError, match="real numbers"):
        panel_reliability(bad)


def test_panel_reliability_rejects_infinity():
    with pytest.raises(ValueError, match="infinite"):
        panel_reliability(np.array([[80.0, np.inf], [70.0, 75.0]]))


def test_validate_totals_integers_become_float():
    result = validate_totals([[80, 70], [60, 65]])
    assert result.dtype == np.float64
    assert result.tolist() == [[80.0, 70.0], [60.0, 65.0]]


# --- fixed small cases ------------------------------------------------------------------------

WINES = np.array(  # pingouin's "icc" data set: 8 wines, 4 judges
    [
        [1, 2, 0, 1],
        [1, 3, 3, 2],
        [3, 8, 1, 4],
        [6, 4, 3, 5],
        [6, 5, 5, 6],
        [7, 5, 6, 2],
        [8, 7, 7, 9],
        [9, 9, 9, 8],
    ],
    dtype=float,
)


def test_panel_reliability_fixed_case_matches_references():
    result = panel_reliability(WINES)
    icc_a1, icc_c1, icc_ak = pingouin_icc(WINES)
    assert_close(result.icc_a1, icc_a1)
    assert_close(result.icc_c1, icc_c1)
    assert_close(result.icc_ak, icc_ak)
    assert_close(result.kendall_w, textbook_kendall_w(WINES))
    assert_close(result.kendall_w, pingouin_kendall_w(WINES))
    assert_close(result.krippendorff_alpha, krippendorff_alpha(WINES))
    assert (result.n_applications, result.n_experts, result.n_complete) == (8, 4, 8)


def test_panel_reliability_fixed_case_hand_values():
    # Two experts, three applications. Mean squares by hand: grand mean 5; row means 2, 5, 8
    # → MSR = 2·(9+0+9)/2 = 18; column means 4, 6 → MSC = 3·(1+1)/1 = 6; residuals 0 → MSE = 0.
    totals = np.array([[1.0, 3.0], [4.0, 6.0], [7.0, 9.0]])
    result = panel_reliability(totals)
    assert_close(result.icc_a1, 18 / (18 + 0 + 2 * 6 / 3))  # 0.818...
    assert_close(result.icc_c1, 1.0)
    assert_close(result.icc_ak, 18 / (18 + 6 / 3))
    assert_close(result.kendall_w, 1.0)  # both experts rank the applications identically


def test_kendall_w_ties_matches_references():
    # Many ties within each expert: the correction term matters here.
    block = np.array([[80, 80, 70], [80, 75, 70], [70, 75, 70], [60, 60, 65], [60, 75, 65]], dtype=float)
    result = panel_reliability(block)
    assert_close(result.kendall_w, textbook_kendall_w(block))
    assert_close(result.kendall_w, pingouin_kendall_w(block))


def test_kendall_w_perfect_disagreement_two_experts_is_zero():
    result = panel_reliability(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]))
    assert_close(result.kendall_w, 0.0)


def test_krippendorff_alpha_missing_cells_matches_reference():
    totals = np.array(
        [
            [80, 82, NAN, 79],
            [70, NAN, 71, 73],
            [90, 88, 91, NAN],
            [NAN, 60, NAN, NAN],  # a single rating: not pairable, ignored
            [65, 75, 72, 68],
            [NAN, NAN, 55, 59],
        ]
    )
    result = panel_reliability(totals)
    assert_close(result.krippendorff_alpha, krippendorff_alpha(totals))
    assert result.n_complete == 1
    assert result.icc_a1 is None
    assert result.kendall_w is None


def test_panel_reliability_negative_icc_matches_pingouin():
    # Experts disagree more within applications than applications differ: ICC below zero.
    totals = np.array([[60, 90, 75], [90, 60, 70], [75, 75, 80], [70, 85, 62]], dtype=float)
    result = panel_reliability(totals)
    icc_a1, icc_c1, icc_ak = pingouin_icc(totals)
    assert result.icc_c1 < 0
    assert_close(result.icc_a1, icc_a1)
    assert_close(result.icc_c1, icc_c1)
    assert_close(result.icc_ak, icc_ak)


def test_icc_a1_degenerate_two_by_two_is_none():
    # Row and column means all equal: MSR = MSC = 0, MSE = 1/2, and the ICC(A,1) denominator
    # MSR + (k−1)·MSE + k·(MSC − MSE)/n = 0 + 1/2 − 1/2 is exactly zero. (Too small for pingouin.)
    result = panel_reliability(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert result.icc_a1 is None
    assert_close(result.icc_c1, (0 - 0.5) / (0 + 0.5))
    assert_close(result.icc_ak, (0 - 0.5) / (0 + (0 - 0.5) / 2))


def test_icc_c1_identical_applications_is_none():
    # Applications indistinguishable and experts differ only by a constant: ICC(C,1) is 0/0.
    result = panel_reliability(np.array([[70.0, 80.0], [70.0, 80.0], [70.0, 80.0]]))
    assert result.icc_c1 is None
    assert_close(result.icc_a1, 0.0)
    assert_close(result.icc_ak, 0.0)


# --- random matrices --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(24))
def test_panel_reliability_random_complete_matches_references(seed):
    totals = random_totals(seed, missing=False)
    result = panel_reliability(totals)
    icc_a1, icc_c1, icc_ak = pingouin_icc(totals)
    assert_close(result.icc_a1, icc_a1)
    assert_close(result.icc_c1, icc_c1)
    assert_close(result.icc_ak, icc_ak)
    assert_close(result.kendall_w, textbook_kendall_w(totals))
    if totals.shape[1] >= 3:  # pingouin's Friedman test needs three rows
        assert_close(result.kendall_w, pingouin_kendall_w(totals))
    assert_close(result.krippendorff_alpha, krippendorff_alpha(totals))
    assert result.n_complete == totals.shape[0]


@pytest.mark.parametrize("seed", range(100, 124))
def test_panel_reliability_random_missing_matches_references(seed):
    totals = random_totals(seed, missing=True)
    result = panel_reliability(totals)
    block = complete_block(totals)
    assert result.n_complete == block.shape[0]
    assert (result.n_applications, result.n_experts) == totals.shape
    if block.shape[0] >= 2 and block.shape[1] >= 2:
        icc_a1, icc_c1, icc_ak = pingouin_icc(block)
        assert_close(result.icc_a1, icc_a1)
        assert_close(result.icc_c1, icc_c1)
        assert_close(result.icc_ak, icc_ak)
        assert_close(result.kendall_w, textbook_kendall_w(block))
    else:
        assert (result.icc_a1, result.icc_c1, result.icc_ak, result.kendall_w) == (None,) * 4
    assert_close(result.krippendorff_alpha, krippendorff_alpha(totals))


@pytest.mark.parametrize("seed", range(200, 210))
def test_panel_reliability_sparse_panel_uses_complete_rows_only(seed):
    # A large panel where the complete rows are a minority: ICC must use exactly those.
    rng = np.random.default_rng(seed)
    totals = rng.integers(50, 100, size=(60, 9)).astype(float)
    totals[rng.random(totals.shape) < 0.08] = NAN
    block = complete_block(totals)
    result = panel_reliability(totals)
    icc_a1, icc_c1, icc_ak = pingouin_icc(block)
    assert_close(result.icc_a1, icc_a1)
    assert_close(result.icc_ak, icc_ak)
    assert_close(result.kendall_w, pingouin_kendall_w(block))
    assert_close(result.krippendorff_alpha, krippendorff_alpha(totals))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=2, max_value=8).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(0, 200).map(lambda v: v / 2), min_size=k, max_size=k),
            min_size=2,
            max_size=12,
        )
    ),
    st.randoms(use_true_random=False),
)
def test_panel_reliability_order_of_rows_and_experts_irrelevant(rows, random):
    totals = np.array(rows, dtype=float)
    rows_order = list(range(totals.shape[0]))
    cols_order = list(range(totals.shape[1]))
    random.shuffle(rows_order)
    random.shuffle(cols_order)
    original = panel_reliability(totals)
    shuffled = panel_reliability(totals[np.ix_(rows_order, cols_order)])
    for measure in MEASURES:
        before, after = getattr(original, measure), getattr(shuffled, measure)
        if before is None:
            assert after is None
        else:
            assert_close(after, before)


# --- edge cases -------------------------------------------------------------------------------

ALL_NONE = dict(icc_a1=None, icc_c1=None, icc_ak=None, kendall_w=None, krippendorff_alpha=None)


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0)])
def test_panel_reliability_empty_is_all_none(shape):
    result = panel_reliability(np.empty(shape))
    assert result == Reliability(**ALL_NONE, n_applications=shape[0], n_experts=shape[1], n_complete=0)


def test_panel_reliability_one_expert_is_all_none():
    result = panel_reliability(np.array([[70.0], [80.0], [NAN]]))
    assert result == Reliability(**ALL_NONE, n_applications=3, n_experts=1, n_complete=2)


def test_panel_reliability_one_application_is_all_none():
    result = panel_reliability(np.array([[70.0, 80.0, 75.0]]))
    assert result == Reliability(**ALL_NONE, n_applications=1, n_experts=3, n_complete=1)


def test_panel_reliability_all_equal_is_all_none():
    result = panel_reliability(np.full((6, 4), 72.5))
    assert result == Reliability(**ALL_NONE, n_applications=6, n_experts=4, n_complete=6)


def test_panel_reliability_all_missing_is_all_none():
    result = panel_reliability(np.full((3, 4), NAN))
    assert result == Reliability(**ALL_NONE, n_applications=3, n_experts=4, n_complete=0)


def test_panel_reliability_expert_with_no_reviews_left_out():
    with_absent = np.column_stack([WINES, np.full(WINES.shape[0], NAN)])
    result = panel_reliability(with_absent)
    reference = panel_reliability(WINES)
    assert result.n_experts == 5
    assert result.n_complete == 8
    for measure in MEASURES:
        assert_close(getattr(result, measure), getattr(reference, measure))


def test_krippendorff_alpha_one_pairable_application_is_none():
    # One unit: D_o equals D_e by construction, so alpha would be 0 whatever the scores.
    totals = np.array([[70.0, 90.0, 60.0], [80.0, NAN, NAN], [NAN, NAN, 62.0]])
    assert panel_reliability(totals).krippendorff_alpha is None


def test_panel_reliability_one_complete_application_icc_none_alpha_computed():
    totals = np.array([[70.0, 75.0, 72.0], [80.0, NAN, 85.0], [NAN, 60.0, 62.0]])
    result = panel_reliability(totals)
    assert result.n_complete == 1
    assert (result.icc_a1, result.icc_c1, result.icc_ak, result.kendall_w) == (None,) * 4
    assert_close(result.krippendorff_alpha, krippendorff_alpha(totals))


def test_panel_reliability_accepts_nested_lists():
    result = panel_reliability(WINES.tolist())
    assert_close(result.icc_a1, panel_reliability(WINES).icc_a1)


# --- results and readings ---------------------------------------------------------------------


def test_reliability_to_dict_is_json_round_trip():
    result = panel_reliability(np.array([[70.0], [80.0]]))
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert list(as_dict) == [
        "icc_a1",
        "icc_c1",
        "icc_ak",
        "kendall_w",
        "krippendorff_alpha",
        "n_applications",
        "n_experts",
        "n_complete",
    ]


def test_reliability_to_dict_values_are_plain_floats():
    as_dict = panel_reliability(WINES).to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert all(type(as_dict[measure]) is float for measure in MEASURES)


def test_reliability_is_frozen():
    result = panel_reliability(WINES)
    with pytest.raises(AttributeError):
        result.icc_a1 = 1.0


@pytest.mark.parametrize(
    ("value", "measure", "band"),
    [
        (-0.2, "icc_a1", "较差"),
        (0.4999, "icc_c1", "较差"),
        (0.5, "icc_a1", "中等"),
        (0.75, "icc_ak", "良好"),
        (0.9, "icc_a1", "良好"),
        (0.9001, "icc_a1", "优秀"),
        (0.05, "kendall_w", "很弱"),
        (0.3, "kendall_w", "弱"),
        (0.5, "kendall_w", "中等"),
        (0.7, "kendall_w", "强"),
        (0.95, "kendall_w", "非常强"),
        (0.5, "krippendorff_alpha", "不足以下结论"),
        (0.667, "krippendorff_alpha", "可作初步结论"),
        (0.8, "krippendorff_alpha", "可靠"),
    ],
)
def test_describe_band_boundaries(value, measure, band):
    text = describe(value, measure)
    assert text.split("：")[1].split("（")[0] == band


def test_describe_full_sentence():
    assert describe(0.8123, "krippendorff_alpha") == (
        "克里彭多夫 α = 0.812：可靠（≥ 0.8），评分可靠，可据此下结论（分级依据 Krippendorff 2004）。"
    )


def test_describe_none_says_not_computable():
    assert describe(None, "kendall_w").startswith("肯德尔 W 无法计算：")


def test_describe_unknown_measure_raises():
    with pytest.raises(ValueError, match="unknown measure 'icc'"):
        describe(0.5, "icc")


def test_reliability_readings_cover_every_measure():
    readings = panel_reliability(WINES).readings()
    assert list(readings) == list(MEASURES)
    assert readings["icc_a1"] == describe(panel_reliability(WINES).icc_a1, "icc_a1")


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_average_ranks_matches_scipy(seed):
    values = np.random.default_rng(seed).integers(0, 6, size=30).astype(float)
    assert average_ranks(values).tolist() == scipy.stats.rankdata(values).tolist()


def test_average_ranks_empty():
    assert average_ranks(np.array([])).tolist() == []


def test_docstring_examples_run():
    assert doctest.testmod(scoring.reliability).failed == 0
