"""Roster spot checks: the default sample size and a sample anyone can redraw from the recorded seed."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.inspection.sampling import SEED_BITS, draw_sample, new_seed, sample_size


@pytest.mark.parametrize(
    ("n", "size"),
    [
        (0, 0),  # nothing to check
        (3, 3),  # fewer than the minimum: check them all
        (5, 5),
        (80, 5),  # ⌈5% · 80⌉ = 4 < 5
        (100, 5),  # ⌈5% · 100⌉ = 5
        (101, 6),  # ⌈5.05⌉ = 6
        (1000, 50),
    ],
)
def test_default_size_rule(n, size):
    assert sample_size(n) == size


def test_size_capped_at_n_and_configurable():
    assert sample_size(4, minimum=10) == 4
    assert sample_size(200, minimum=10) == 10
    assert sample_size(200, fraction=Fraction(1, 10)) == 20
    assert sample_size(30, fraction=Fraction(1)) == 30
    assert sample_size(30, minimum=0, fraction=Fraction(0)) == 0
    assert sample_size(101, fraction=Decimal("0.05")) == 6
    assert sample_size(101, fraction=0.05) == 6  # read as 5/100, not the binary float


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must not be negative"),
        ({"n": 10, "minimum": -1}, "minimum must not be negative"),
        ({"n": 10, "fraction": Fraction(-1, 10)}, "fraction must be between 0 and 1"),
        ({"n": 10, "fraction": Fraction(3, 2)}, "fraction must be between 0 and 1"),
        ({"n": 10.0}, "n must be an integer"),
        ({"n": 10, "fraction": "5%"}, "fraction must be a number"),
    ],
)
def test_size_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_size(**kwargs)


def test_known_seed_gives_known_sample():
    rows = list(range(4, 24))  # roster data on spreadsheet rows 4–23
    # Computed once with a plain call: sorted(random.Random(20141031).sample(rows, 5)).
    assert draw_sample(rows, 5, 20141031) == [4, 7, 14, 15, 21]
    assert draw_sample(rows, 5, 20141031) == sorted(random.Random(20141031).sample(rows, 5))


def test_same_seed_same_sample_whatever_the_order():
    rows = list(range(5, 105))
    shuffled = rows[::-1]
    random.Random(1).shuffle(shuffled)
    assert draw_sample(rows, 6, 8) == draw_sample(shuffled, 6, 8) == draw_sample(tuple(rows), 6, 8)
    assert draw_sample(rows, 6, 8) == [21, 29, 34, 52, 53, 95]  # computed once with random.Random(8)


def test_different_seeds_differ():
    rows = list(range(1, 501))
    samples = {tuple(draw_sample(rows, 25, seed)) for seed in range(20)}
    assert len(samples) == 20


@given(
    st.sets(st.integers(min_value=1, max_value=10_000), max_size=200),
    st.integers(min_value=0, max_value=2**SEED_BITS - 1),
    st.data(),
)
def test_sample_properties(rows, seed, data):
    size = data.draw(st.integers(min_value=0, max_value=len(rows)))
    sample = draw_sample(list(rows), size, seed)
    assert sample == sorted(sample)
    assert len(set(sample)) == size and set(sample) <= rows
    assert sample == draw_sample(sorted(rows, reverse=True), size, seed)


def test_whole_roster_and_empty_sample():
    assert draw_sample([9, 3, 5], 3, 1) == [3, 5, 9]
    assert draw_sample([9, 3, 5], 0, 1) == []
    assert draw_sample([], 0, 1) == []


@pytest.mark.parametrize(
    ("rows", "size", "seed", "message"),
    [
        ([1, 2, 3], -1, 1, "size must not be negative"),
        ([1, 2, 3], 4, 1, r"size 4 is larger than the roster \(3 entries\)"),
        ([], 1, 1, r"size 1 is larger than the roster \(0 entries\)"),
        ([1, 2, 2], 1, 1, "repeated row numbers"),
        ([1, 2, 3], 1, "42", "seed must be an integer"),
        ([1, 2, 3], 1.0, 1, "size must be an integer"),
    ],
)
def test_draw_refuses_bad_input(rows, size, seed, message):
    with pytest.raises(ValueError, match=message):
        draw_sample(rows, size, seed)


def test_new_seed_fits_a_bigint_column():
    seeds = {new_seed() for _ in range(50)}
    assert all(0 <= seed < 2**SEED_BITS for seed in seeds)
    assert len(seeds) > 1
