"""aggregate_reviews: the packed-key path and the sorted fallback agree; rounding helpers are exact."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.aggregate import aggregate_reviews, round_mean_units, rounding_tables, sort_reviews

from .helpers import make_rubric


@pytest.mark.parametrize("method", ["mean", "median", "trimmed_mean"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_aggregate_fallback_path_matches_packed_path(method, data):
    rubric = make_rubric(
        method=method,
        trim_min_experts=3 if method == "trimmed_mean" else None,
        min_experts=1,
        expert=(("a", 10, 1), ("b", 10, 1)),
    )
    n_apps = data.draw(st.integers(1, 5))
    rows = []
    for app in range(n_apps):
        experts = data.draw(st.lists(st.integers(0, 6), unique=True, max_size=6))
        for e in experts:
            rows.append((app, e, data.draw(st.integers(0, 10)), data.draw(st.integers(0, 10))))
    app = np.array([r[0] for r in rows], dtype=np.int64)
    expert = np.array([r[1] for r in rows], dtype=np.int64)
    units = np.array([[r[2], r[3]] for r in rows], dtype=np.int64).reshape(-1, 2)
    packed = aggregate_reviews(rubric, app, expert, units, n_apps, 7)
    # an enormous expert range forces the sorted fallback (the packed key would not fit 62 bits)
    fallback = aggregate_reviews(rubric, app, expert, units, n_apps, 2**45)
    assert np.array_equal(packed.criterion_units, fallback.criterion_units)
    assert np.array_equal(packed.retained, fallback.retained)
    assert np.array_equal(packed.high_disagreement, fallback.high_disagreement)


def test_sort_reviews_orders_by_application_total_expert():
    app = np.array([1, 0, 1, 0, 1])
    totals = np.array([5, 3, 5, 9, 1])
    expert = np.array([2, 0, 1, 1, 0])
    assert sort_reviews(app, totals, expert, 3).tolist() == [1, 3, 4, 2, 0]
    assert sort_reviews(app, totals, expert, 2**60).tolist() == [1, 3, 4, 2, 0]  # lexsort path


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 50), st.integers(0, 3), st.integers(0, 4))
def test_round_mean_units_is_half_up_on_the_exact_mean(total, count, places, decimals):
    mean = Fraction(total, count * 10**places)
    expected = math.floor(mean * 10**decimals + Fraction(1, 2))
    assert round_mean_units(np.array([total]), np.array([count]), places, decimals)[0] == expected


def test_rounding_tables_agree_with_direct_rounding():
    kept = np.array([5, 5, 3, 0, 1])
    tables = rounding_tables([30, 7], kept, 1, 2)
    for c, mu in enumerate([30, 7]):
        table, offsets = tables[c]
        for app, m in enumerate(kept):
            for s in range(m * mu + 1):
                assert table[offsets[app] + s] == round_mean_units(np.array([s]), np.array([m]), 1, 2)[0]
