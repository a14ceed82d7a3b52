"""Rule 8: allocation, on hand-computed cases and as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.allocate import allocate

from .helpers import make_rubric

D = Decimal
LINEAR = {"policy": "linear", "amount_min": 100000, "amount_max": 150000, "step": 10000}


def result_of(rubric, *entries):
    """A result.json-like document: (application, rank, total) entries; rank None = unranked."""
    return {
        "rubric": rubric.id,
        "applications": [
            {"application": a, "rank": r, "total": None if t is None else D(t)} for a, r, t in entries
        ],
    }


def awards(allocation):
    return [(a.application, a.amount) for a in allocation.awards]


def test_allocate_fixed_amount_each():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 200000})
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "80")))
    assert awards(out) == [("A", 200000), ("B", 200000)]
    assert out.to_json() == {
        "awards": [
            {"application": "A", "rank": 1, "total": D("90"), "amount": 200000},
            {"application": "B", "rank": 2, "total": D("80"), "amount": 200000},
        ],
        "total_amount": 400000,
        "flags": [],
    }


def test_allocate_linear_amounts_on_the_step():
    rubric = make_rubric(allocation=LINEAR)
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "80"), ("C", 3, "60")))
    # B: 100000 + 10000 × ⌊50000 × 20/30 / 10000⌋ = 100000 + 10000 × 3
    assert awards(out) == [("A", 150000), ("B", 130000), ("C", 100000)]


def test_allocate_linear_all_equal_gets_maximum():
    rubric = make_rubric(allocation=LINEAR)
    out = allocate(rubric, result_of(rubric, ("A", 1, "75.5"), ("B", 1, "75.5")))
    assert awards(out) == [("A", 150000), ("B", 150000)]


def test_allocate_linear_uses_exact_rounded_totals():
    rubric = make_rubric(allocation=LINEAR)
    out = allocate(rubric, result_of(rubric, ("A", 1, "90.00"), ("B", 2, "80.01"), ("C", 3, "60.00")))
    # (80.01 − 60) / 30 × 50000 = 33350 → 3 steps
    assert awards(out)[1] == ("B", 130000)


def test_allocate_min_score_and_count():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 1, "count": 2, "min_score": 60})
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "59.99"), ("C", None, None)))
    assert awards(out) == [("A", 1)]
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "70"), ("C", 3, "65")))
    assert awards(out) == [("A", 1), ("B", 1)]


def test_allocate_count_keeps_tied_group_together_and_flags():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 100, "count": 2})
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "80"), ("C", 2, "80"), ("D", 4, "70")))
    assert awards(out) == [("A", 100), ("B", 100), ("C", 100)]
    assert out.flags == ("tie_at_cutoff",)
    assert out.tied == ("B", "C")


def test_allocate_budget_loop_drops_a_tied_group():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 100000, "budget": 250000})
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "80"), ("C", 2, "80")))
    assert awards(out) == [("A", 100000)]
    assert out.total_amount == 100000
    assert out.flags == ("tie_at_cutoff", "budget_limited")
    assert out.tied == ("B", "C")


def test_allocate_budget_loop_recomputes_linear_amounts():
    rubric = make_rubric(allocation={**LINEAR, "budget": 260000})
    out = allocate(rubric, result_of(rubric, ("A", 1, "90"), ("B", 2, "80"), ("C", 3, "60")))
    # all three: 150000 + 130000 + 100000 > 260000; without C: s_low = 80 → 150000 + 100000
    assert awards(out) == [("A", 150000), ("B", 100000)]
    assert out.flags == ("budget_limited",)


def test_allocate_overrides_budget_count_and_amounts():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 100000, "budget": 100000})
    res = result_of(rubric, ("A", 1, "90"), ("B", 2, "80"), ("C", 3, "70"))
    assert awards(allocate(rubric, res, budget=300000, count=2)) == [("A", 100000), ("B", 100000)]
    assert awards(allocate(rubric, res, budget=300000, amounts={"amount": 150000})) == [
        ("A", 150000),
        ("B", 150000),
    ]


def test_allocate_nobody_qualifies():
    rubric = make_rubric(allocation={"policy": "fixed", "amount": 1, "min_score": 55})
    out = allocate(rubric, result_of(rubric, ("A", 1, "50")))
    assert (out.awards, out.total_amount, out.cutoff_rank) == ((), 0, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": 0}, "budget must be a positive whole number"),
        ({"budget": "lots"}, "budget must be a number"),
        ({"count": -2}, "count must be a positive whole number"),
        ({"amounts": {"bonus": 1}}, "unknown allocation parameter"),
        ({"amounts": {"amount_min": 200000}}, "exceeds amount_max"),
        ({"amounts": {"step": 30000}}, "does not divide"),
    ],
)
def test_allocate_refuses_bad_overrides(kwargs, message):
    rubric = make_rubric(allocation=LINEAR)
    with pytest.raises(ValueError, match=message):
        allocate(rubric, result_of(rubric, ("A", 1, "90")), **kwargs)


def test_allocate_refuses_result_of_another_rubric():
    rubric = make_rubric()
    with pytest.raises(ValueError, match="computed with rubric 'other'"):
        allocate(rubric, {"rubric": "other", "applications": []})


# ------------------------------------------------------------------------------------ properties


@st.composite
def rankings(draw):
    totals = draw(st.lists(st.integers(0, 400), min_size=0, max_size=12))
    totals = sorted((D(t) / 4 for t in totals), reverse=True)
    entries = []
    for i, t in enumerate(totals):
        rank = i + 1 if i == 0 or t != totals[i - 1] else entries[-1][1]
        entries.append((f"A{i:02d}", rank, str(t)))
    return entries


@settings(max_examples=200, deadline=None)
@given(
    rankings(),
    st.sampled_from(["fixed", "linear"]),
    st.one_of(st.none(), st.integers(1, 20).map(lambda k: k * 50000)),
    st.one_of(st.none(), st.integers(1, 8)),
)
def test_allocation_never_exceeds_budget_and_stays_on_the_grid(entries, policy, budget, count):
    rule = {"policy": "fixed", "amount": 120000} if policy == "fixed" else LINEAR
    rubric = make_rubric(allocation=rule)
    out = allocate(rubric, result_of(rubric, *entries), budget=budget, count=count)
    if budget is not None:
        assert out.total_amount <= budget
    assert out.total_amount == sum(a.amount for a in out.awards)
    for a in out.awards:
        if policy == "linear":
            assert 100000 <= a.amount <= 150000 and (a.amount - 100000) % 10000 == 0
        else:
            assert a.amount == 120000
    # whole rank groups only, best ranks first
    kept = {a.application for a in out.awards}
    for _app, rank, _ in entries:
        same = {x for x, r, _ in entries if r == rank}
        assert same <= kept or not (same & kept)
    if out.awards:
        worst = out.awards[-1].rank
        assert all(app in kept for app, rank, _ in entries if rank < worst)
