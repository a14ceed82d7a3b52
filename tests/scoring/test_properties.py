"""Properties of the ranking that hold for any campaign (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring.engine import rank_applications

from .helpers import campaigns, make_rubric, rubrics

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ranked_case(draw, methods=("mean", "median", "trimmed_mean")):
    rubric = draw(rubrics(methods))
    scores, indicators, applications = draw(campaigns(rubric))
    assume(scores)
    return rubric, scores, indicators, applications


@SETTINGS
@given(ranked_case())
def test_total_equals_sum_of_rounded_criteria(case):
    rubric, scores, indicators, applications = case
    for a in rank_applications(rubric, scores, indicators, applications).applications:
        if a.rank is not None:
            assert a.total == sum(a.criteria.values(), Decimal(0))
            assert all(v.as_tuple().exponent == -rubric.decimals for v in a.criteria.values())


@SETTINGS
@given(ranked_case(), st.data())
def test_raising_one_score_never_lowers_the_mean_of_retained_totals(case, data):
    """For every method, the exact mean of the retained reviewers' totals never goes down.

    (The rounded total can, in rare cases, when the raise changes which reviews are retained: rule 5
    rounds each criterion separately; see test_raising_one_score_can_lower_total_when_retention_changes.)
    """
    rubric, scores, indicators, applications = case
    i = data.draw(st.integers(0, len(scores) - 1))
    app, expert, key, score = scores[i]
    criterion = rubric.criterion(key)
    assume(Decimal(score) + criterion.step <= criterion.max)
    raised = list(scores)
    raised[i] = (app, expert, key, str(Decimal(score) + criterion.step))
    before = rank_applications(rubric, scores, indicators, applications).application(app)
    after = rank_applications(rubric, raised, indicators, applications).application(app)
    assume(before.rank is not None)

    def retained_mean(rows, entry):
        totals = {}
        for a, e, _, s in rows:
            if a == app:
                totals[e] = totals.get(e, Fraction(0)) + Fraction(Decimal(s))
        return sum(totals[e] for e in entry.retained) / len(entry.retained)

    assert retained_mean(raised, after) >= retained_mean(scores, before)
    if rubric.aggregation.method == "mean" or before.retained == after.retained:
        assert after.total >= before.total


@SETTINGS
@given(ranked_case(methods=("mean",)), st.data())
def test_raising_one_score_never_lowers_total_with_plain_mean(case, data):
    rubric, scores, indicators, applications = case
    i = data.draw(st.integers(0, len(scores) - 1))
    app, expert, key, score = scores[i]
    step = rubric.criterion(key).step
    assume(Decimal(score) + step <= rubric.criterion(key).max)
    raised = list(scores)
    raised[i] = (app, expert, key, str(Decimal(score) + step))
    before = rank_applications(rubric, scores, indicators, applications).application(app)
    after = rank_applications(rubric, raised, indicators, applications).application(app)
    if before.rank is not None:
        assert after.total >= before.total


def test_raising_one_score_can_lower_total_when_retention_changes():
    """A consequence of rules 2 and 5 together, pinned down so nobody 'fixes' it by accident."""
    rubric = make_rubric(
        method="trimmed_mean",
        trim_min_experts=5,
        min_experts=1,
        decimals=0,
        expert=(("a", 10, 1), ("b", 10, 1)),
    )
    base = [("x0", 0, 0), ("x1", 0, 1), ("x2", 1, 0), ("x3", 1, 1), ("x9", 5, 5)]

    def total(rows):
        scores = [("A", e, "a", a) for e, a, _ in rows] + [("A", e, "b", b) for e, _, b in rows]
        return rank_applications(rubric, scores, []).application("A").total

    raised = [("x0", 2, 0)] + base[1:]  # x0's total goes from 0 to 2
    # before: retained x1, x2, x3 → a = 2/3 → 1, b = 2/3 → 1, total 2
    # after: x1 (t 1) is now the lowest and is dropped; retained x2, x3, x0 → a = 4/3 → 1, b = 1/3 → 0
    assert (total(base), total(raised)) == (Decimal(2), Decimal(1))
