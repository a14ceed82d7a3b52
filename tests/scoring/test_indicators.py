"""formula_scores (one application, exact) and formula_units (vectorised) agree, and both follow rule 4."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.indicators import exact_units, formula_scores, formula_units
from scoring.rubric import EXAMPLE_RUBRIC, load_rubric, parse_rubric

from .helpers import make_rubric
from .test_rubric import CRITERIA

D = Decimal


@pytest.fixture(scope="module")
def post_subsidy():
    return load_rubric(CRITERIA / "cast-2014-post-subsidy.toml")


def test_formula_scores_one_application_example():
    rubric = parse_rubric(EXAMPLE_RUBRIC)
    score = formula_scores(rubric, {"enterprises": 1000, "associations": 61})["coverage"]
    assert (score.points, score.exact, score.flags) == (D("24.00"), Fraction(24), ())
    term = score.terms[0]
    assert (term.x, term.ratio, term.share, term.applicable) == (
        Fraction(61, 1000),
        0.061,
        Fraction(3, 5),
        True,
    )


def test_formula_scores_post_subsidy_coverage_and_tasks(post_subsidy):
    figures = {
        "regulated_enterprises": 2000,
        "enterprise_kexie_total": 122,  # 6.1% → 0.6
        "parks_total": 40,
        "parks_with_kexie": 10,  # 25% → 0.8
        "national_parks_total": 5,
        "national_parks_with_kexie": 4,  # 80% → 1
        "enterprise_kexie_new": 150,
        "task_new_kexie": 100,  # 150% → clamped to 1
        "liaison_enterprises": 300,
        "task_liaison": 600,  # 50% → 0.5
    }
    scores = formula_scores(post_subsidy, figures)
    assert list(scores) == ["task_completion", "coverage"]
    # 20 × (0.5·0.6 + 0.25·0.8 + 0.25·1) = 15; 20 × (0.6·1 + 0.4·0.5) = 16
    assert scores["coverage"].points == D("15.00")
    assert scores["task_completion"].points == D("16.00")
    assert [t.ratio for t in scores["coverage"].terms] == [0.061, 0.25, 0.8]


def test_formula_scores_zero_target_not_applicable(post_subsidy):
    figures = {"enterprise_kexie_new": 5, "task_new_kexie": 0, "liaison_enterprises": 5, "task_liaison": 0}
    score = formula_scores(post_subsidy, figures)["task_completion"]
    assert (score.points, score.flags) == (D("0.00"), ("not_applicable:task_completion",))
    assert [t.applicable for t in score.terms] == [False, False]
    assert score.terms[0].ratio is None


def test_formula_scores_missing_flags_each_indicator_once(post_subsidy):
    score = formula_scores(post_subsidy, {"regulated_enterprises": 100})["coverage"]
    assert score.flags == (
        "missing_indicator:enterprise_kexie_total",
        "missing_indicator:parks_total",
        "missing_indicator:parks_with_kexie",
        "missing_indicator:national_parks_total",
        "missing_indicator:national_parks_with_kexie",
    )
    assert score.points == D("0.00")


def test_formula_scores_accepts_float_and_decimal(post_subsidy):
    a = formula_scores(post_subsidy, {"regulated_enterprises": 2000.0, "enterprise_kexie_total": D("122")})
    b = formula_scores(post_subsidy, {"regulated_enterprises": 2000, "enterprise_kexie_total": 122})
    assert a == b


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ({"nope": 1}, "unknown indicator 'nope'"),
        ({"parks_total": -1}, "must be >= 0"),
        ({"parks_total": 1.5}, "whole number"),
        ({"parks_total": "x"}, "must be a number"),
        ({"parks_total": float("inf")}, "finite"),
        ({"parks_total": True}, "must be a number"),
    ],
)
def test_formula_scores_refuses_bad_figures(post_subsidy, figures, message):
    with pytest.raises(ValueError, match=message):
        formula_scores(post_subsidy, figures)


def test_formula_scores_nan_is_missing(post_subsidy):
    score = formula_scores(post_subsidy, {"parks_total": float("nan")})["coverage"]
    assert "missing_indicator:parks_total" in score.flags


def test_formula_scores_refuses_non_mapping(post_subsidy):
    with pytest.raises(TypeError):
        formula_scores(post_subsidy, [("parks_total", 1)])


def test_formula_scores_exact_half_rounds_up():
    # coverage = 40 × x / 0.12 … choose x so that points = 0.125 exactly at 2 decimals
    text = EXAMPLE_RUBRIC.replace("curve = [[0, 0], [0.061, 0.6], [0.12, 1]]", "curve = [[0, 0], [1, 1]]")
    rubric = parse_rubric(text)
    score = formula_scores(rubric, {"enterprises": 320, "associations": 1})["coverage"]
    assert (score.exact, score.points) == (Fraction(1, 8), D("0.13"))


@pytest.mark.parametrize("scale", [1, 10**15])
def test_formula_units_settle_exact_halves_at_any_size(scale):
    """Rows on a half are settled in int64 arithmetic while it cannot overflow, else in Python integers."""
    text = EXAMPLE_RUBRIC.replace("curve = [[0, 0], [0.061, 0.6], [0.12, 1]]", "curve = [[0, 0], [1, 1]]")
    rubric = parse_rubric(text)
    rows = [(320, 1), (960, 3), (320, 3), (1, 0), (8, 1)]  # 0.125, 0.125, 0.375, 0, 5.0 (before × 40)
    exact_rows = [{"enterprises": D(e * scale), "associations": D(a * scale)} for e, a in rows]
    values = np.array([[float(e * scale), float(a * scale)] for e, a in rows])
    for figures in (exact_rows, None):
        units = formula_units(rubric, values, figures)[0][:, 0]
        expected = [int(formula_scores(rubric, f)["coverage"].points.scaleb(2)) for f in exact_rows]
        assert units.tolist() == expected == [13, 13, 38, 0, 500]


figure = st.one_of(st.none(), st.integers(0, 50), st.decimals(0, 50, places=2).map(D))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[figure] * 13), min_size=1, max_size=8))
def test_formula_units_agree_with_exact(rows):
    rubric = load_rubric(CRITERIA / "cast-2014-post-subsidy.toml")
    keys = [i.key for i in rubric.indicators]
    exact_rows = []
    for row in rows:
        exact_rows.append({k: (None if v is None else D(int(v))) for k, v in zip(keys, row, strict=True)})
    values = np.array([[np.nan if v is None else float(v) for v in r.values()] for r in exact_rows])
    units, missing, not_applicable = formula_units(rubric, values, exact_rows)
    for i, figs in enumerate(exact_rows):
        scores = formula_scores(rubric, figs)
        for k, c in enumerate(rubric.formula_criteria):
            assert units[i, k] == int(scores[c.key].points.scaleb(2))
            assert units[i, k] == exact_units(c, figs, 2)
            assert not_applicable[i, k] == (f"not_applicable:{c.key}" in scores[c.key].flags)
        flagged = {f.split(":")[1] for s in scores.values() for f in s.flags if f.startswith("missing")}
        assert {keys[j] for j in np.flatnonzero(missing[i])} == flagged


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from([0, 1, 2, 3, 4]))
def test_exact_units_matches_fraction_rounding(num, den, decimals):
    rubric = parse_rubric(EXAMPLE_RUBRIC.replace("decimals = 2", f"decimals = {decimals}"))
    criterion = rubric.criterion("coverage")
    figs = {"enterprises": den, "associations": num}
    assert (
        D(exact_units(criterion, figs, decimals)).scaleb(-decimals)
        == formula_scores(rubric, figs)["coverage"].points
    )


def _tie_rubric():
    # curves and weights whose points land exactly on halves for many small figures
    return make_rubric(
        decimals=1,
        indicators=(("a", "count"), ("b", "count"), ("c", "amount")),
        formula=(
            ("one", "7", [{"weight": D(1), "numerator": "a", "denominator": "b", "curve": [[0, 0], [1, 1]]}]),
            (
                "two",
                "2.5",
                [
                    {
                        "weight": D("0.25"),
                        "numerator": "c",
                        "denominator": "a",
                        "curve": [[0, 0], [D("0.5"), 1]],
                    },
                    {"weight": D("0.75"), "numerator": "c", "curve": [[0, 0], [D(2), D("0.3")], [10, 1]]},
                ],
            ),
        ),
    )


count = st.one_of(st.none(), st.integers(0, 16).map(D))
amount = st.one_of(
    st.none(), st.integers(0, 12).map(D), st.sampled_from(["0.5", "1.25", "2.75", "6.05"]).map(D)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(count, count, amount), min_size=1, max_size=40))
def test_formula_units_from_floats_alone_agree_with_exact(rows):
    """Without the exact figures, values near a half are recomputed from the floats' shortest repr."""
    rubric = _tie_rubric()
    exact_rows = [{"a": a, "b": b, "c": c} for a, b, c in rows]
    values = np.array([[np.nan if v is None else float(v) for v in (a, b, c)] for a, b, c in rows])
    from_floats = formula_units(rubric, values)
    from_exact = formula_units(rubric, values, exact_rows)
    for got in (from_floats, from_exact):
        for i, figs in enumerate(exact_rows):
            scores = formula_scores(rubric, figs)
            for k, c in enumerate(rubric.formula_criteria):
                assert got[0][i, k] == int(scores[c.key].points.scaleb(1))
                assert got[2][i, k] == (f"not_applicable:{c.key}" in scores[c.key].flags)


@st.composite
def curves(draw):
    """Curves of 2 to 6 points (a long one is interpolated, a short one summed by segment), starting
    anywhere, rising or falling, with x values that make exact halves likely."""
    n = draw(st.integers(2, 6))
    xs = sorted(draw(st.sets(st.sampled_from(["0", "0.125", "0.25", "0.5", "0.75", "1", "1.5", "2", "4"]),
                             min_size=n, max_size=n)), key=D)
    ys = [draw(st.sampled_from(["0", "0.2", "0.25", "0.5", "0.8", "1"])) for _ in xs]
    return [[D(x), D(y)] for x, y in zip(xs, ys, strict=True)]


@settings(max_examples=150, deadline=None)
@given(
    curve=curves(),
    weighted=st.booleans(),
    rows=st.lists(st.tuples(count, count, amount), min_size=1, max_size=30),
)
def test_formula_units_follow_any_curve_exactly(curve, weighted, rows):
    """Every curve shape, with one term or two weighted terms, against the exact fractions."""
    terms = [{"weight": D(1), "numerator": "a", "denominator": "b", "curve": curve}]
    if weighted:
        terms = [
            {"weight": D("0.4"), "numerator": "a", "denominator": "b", "curve": curve},
            {"weight": D("0.6"), "numerator": "c", "curve": curve},
        ]
    rubric = make_rubric(
        decimals=2, indicators=(("a", "count"), ("b", "count"), ("c", "amount")), formula=(("f", "9", terms),)
    )
    exact_rows = [{"a": a, "b": b, "c": c} for a, b, c in rows]
    values = np.array([[np.nan if v is None else float(v) for v in (a, b, c)] for a, b, c in rows])
    units, _, not_applicable = formula_units(rubric, values)
    for i, figs in enumerate(exact_rows):
        score = formula_scores(rubric, figs)["f"]
        assert units[i, 0] == int(score.points.scaleb(2))
        assert not_applicable[i, 0] == ("not_applicable:f" in score.flags)


def test_formula_units_with_a_curve_point_beyond_int64():
    """A curve point whose exact denominator does not fit 64 bits sends the settlement to Python integers."""
    tiny = D("0.0000000000000000000001")  # 10**-22
    curve = [[0, D("0.05")], [tiny, D("0.5")]]  # 0.05 points at x = 0: a half at one decimal
    terms = [{"weight": D(1), "numerator": "a", "denominator": "b", "curve": curve}]
    rubric = make_rubric(decimals=1, indicators=(("a", "count"), ("b", "count")), formula=(("f", "1", terms),))
    exact_rows = [{"a": D(0), "b": D(4)}, {"a": D(0), "b": D(7)}]  # every x is 0: only the curve is large
    values = np.array([[float(r["a"]), float(r["b"])] for r in exact_rows])
    units = formula_units(rubric, values, exact_rows)[0][:, 0]
    assert units.tolist() == [int(formula_scores(rubric, f)["f"].points.scaleb(1)) for f in exact_rows]
