"""Largest-remainder (Hamilton) allocation of the national targets to units (seed 002, issue 8)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.inspection.allocation import Share, largest_remainder

CODES = st.text(alphabet="0123456789", min_size=6, max_size=6)
BASES = st.dictionaries(CODES, st.integers(min_value=0, max_value=50_000), min_size=1, max_size=40).filter(
    lambda basis: sum(basis.values()) > 0
)
TOTALS = st.integers(min_value=0, max_value=100_000)


def _allocated(shares: list[Share]) -> dict[str, int]:
    return {share.key: share.allocated for share in shares}


def test_hand_computed_example():
    # Total 10 over bases A=5, B=3, C=2, D=1 (Σ = 11). Exact quotas:
    #   A 50/11 = 4 + 6/11, B 30/11 = 2 + 8/11, C 20/11 = 1 + 9/11, D 10/11 = 0 + 10/11.
    # Floors 4 + 2 + 1 + 0 = 7, so 3 units are left; they go to the three largest remainders,
    # D (10/11), C (9/11) and B (8/11): A 4, B 3, C 2, D 1 — sum 10. A keeps its floor.
    shares = largest_remainder(10, {"A": 5, "B": 3, "C": 2, "D": 1})
    assert shares == [
        Share("A", 5, Fraction(50, 11), 4),
        Share("B", 3, Fraction(30, 11), 3),
        Share("C", 2, Fraction(20, 11), 2),
        Share("D", 1, Fraction(10, 11), 1),
    ]


def test_national_targets_2014_sum_exactly():
    # 6,000 new enterprise associations over three units with 7 : 5 : 3 regulated enterprises (Σ 15 000):
    # quotas 2800, 2000, 1200 exactly — no remainders at all.
    basis = {"110000": 7_000, "310000": 5_000, "210200": 3_000}
    assert _allocated(largest_remainder(6_000, basis)) == {"110000": 2800, "310000": 2000, "210200": 1200}
    # 15,000 liaison enterprises over 1, 1, 1: quotas 5000 each.
    assert _allocated(largest_remainder(15_000, {"a": 1, "b": 1, "c": 1})) == {
        "a": 5000,
        "b": 5000,
        "c": 5000,
    }


def test_returns_input_key_order():
    shares = largest_remainder(7, {"z": 1, "a": 2, "m": 4})
    assert [share.key for share in shares] == ["z", "a", "m"]
    assert sum(share.allocated for share in shares) == 7


def test_tie_on_remainder_goes_to_larger_basis():
    # Total 2 over bases 1 and 3 (Σ 4): quotas 1/2 and 3/2, both remainders 1/2; floors 0 + 1 = 1, one
    # unit left. Equal remainders: the larger basis (3) wins, so 0 and 2.
    assert _allocated(largest_remainder(2, {"small": 1, "large": 3})) == {"small": 0, "large": 2}


def test_tie_on_remainder_and_basis_goes_to_smaller_key():
    # Total 1 over three equal bases: quotas 1/3 each; the one unit goes to the smallest key, "110000".
    basis = {"310000": 4, "110000": 4, "210200": 4}
    assert _allocated(largest_remainder(1, basis)) == {"310000": 0, "110000": 1, "210200": 0}
    # Total 5 over four equal bases: quotas 5/4 each, floors 1 each, one left → smallest key.
    assert _allocated(largest_remainder(5, {"d": 2, "c": 2, "b": 2, "a": 2})) == {
        "d": 1,
        "c": 1,
        "b": 1,
        "a": 2,
    }


def test_zero_basis_gets_nothing():
    assert _allocated(largest_remainder(5, {"a": 0, "b": 1, "c": 1})) == {"a": 0, "b": 3, "c": 2}


def test_zero_total_allowed_even_with_zero_basis():
    assert _allocated(largest_remainder(0, {"a": 0, "b": 0})) == {"a": 0, "b": 0}
    shares = largest_remainder(0, {"a": 3, "b": 1})
    assert [(s.quota, s.allocated) for s in shares] == [(Fraction(0), 0), (Fraction(0), 0)]


@pytest.mark.parametrize(
    ("total", "basis", "message"),
    [
        (-1, {"a": 1}, "total must not be negative"),
        (10, {}, "basis is empty"),
        (0, {}, "basis is empty"),
        (10, {"a": 1, "b": -2}, "basis of 'b' must not be negative"),
        (10, {"a": 0, "b": 0}, "every basis is zero"),
        (10, {"a": 1.5}, "basis of 'a' must be an integer"),
        (10, {"a": True}, "basis of 'a' must be an integer"),
        (2.0, {"a": 1}, "total must be an integer"),
    ],
)
def test_refuses_bad_input(total, basis, message):
    with pytest.raises(ValueError, match=message):
        largest_remainder(total, basis)


@given(TOTALS, BASES)
def test_parts_sum_exactly_to_total(total, basis):
    assert sum(share.allocated for share in largest_remainder(total, basis)) == total


@given(TOTALS, BASES)
def test_each_part_is_floor_or_ceil_of_exact_quota(total, basis):
    whole = sum(basis.values())
    for share in largest_remainder(total, basis):
        assert share.quota == Fraction(total * basis[share.key], whole)
        assert share.basis == basis[share.key]
        assert share.allocated in (math.floor(share.quota), math.ceil(share.quota))


@given(TOTALS, BASES)
def test_larger_basis_never_gets_less(total, basis):
    shares = largest_remainder(total, basis)
    for a in shares:
        for b in shares:
            if a.basis > b.basis:
                assert a.allocated >= b.allocated
            if a.basis == b.basis:
                assert abs(a.allocated - b.allocated) <= 1


@given(TOTALS, BASES, st.randoms(use_true_random=False))
def test_same_result_whatever_the_insertion_order(total, basis, rnd):
    keys = list(basis)
    rnd.shuffle(keys)
    shuffled = {key: basis[key] for key in keys}
    assert _allocated(largest_remainder(total, shuffled)) == _allocated(largest_remainder(total, basis))
    assert sorted(largest_remainder(total, shuffled), key=lambda s: s.key) == sorted(
        largest_remainder(total, basis), key=lambda s: s.key
    )


def test_reproducible_on_a_realistic_table():
    rng = random.Random(2014)
    basis = {f"{code:06d}": rng.randint(0, 40_000) for code in range(110000, 110000 + 47 * 100, 100)}
    first = largest_remainder(6_000, basis)
    assert first == largest_remainder(6_000, dict(reversed(list(basis.items()))))[::-1]
    assert sum(s.allocated for s in first) == 6_000
