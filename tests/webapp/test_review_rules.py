"""Pure rules of expert review: the conflict table and the balanced assignment's invariants."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.reviews.assign import AssignmentImpossible, balanced_assignment
from webapp.reviews.conflicts import Region, region_conflict

LIAONING, DALIAN, SHENYANG = Region("210000"), Region("210200", "210000"), Region("210100", "210000")
BEIJING, SHENZHEN, GUANGDONG = Region("110000"), Region("440300", "440000"), Region("440000")
XINJIANG, CORPS = Region("650000"), Region("660000")


@pytest.mark.parametrize(
    ("expert", "applicant", "corps_rule", "reason"),
    [
        (LIAONING, LIAONING, True, "专家与申报单位属同一地区"),
        (LIAONING, DALIAN, True, "申报单位是专家所在省份的副省级城市"),
        (DALIAN, LIAONING, True, "专家所在地是申报单位所在省份的副省级城市"),
        (DALIAN, SHENYANG, True, "专家与申报单位同属一个省份"),
        (DALIAN, DALIAN, True, "专家与申报单位属同一地区"),
        (XINJIANG, CORPS, True, "新疆与新疆生产建设兵团按同一地区回避"),
        (CORPS, XINJIANG, True, "新疆与新疆生产建设兵团按同一地区回避"),
        (XINJIANG, CORPS, False, None),
        (CORPS, CORPS, False, "专家与申报单位属同一地区"),
        (BEIJING, LIAONING, True, None),
        (BEIJING, DALIAN, True, None),
        (SHENZHEN, DALIAN, True, None),
        (SHENZHEN, GUANGDONG, True, "专家所在地是申报单位所在省份的副省级城市"),
        (GUANGDONG, SHENZHEN, True, "申报单位是专家所在省份的副省级城市"),
    ],
)
def test_region_conflict_table(expert, applicant, corps_rule, reason):
    assert region_conflict(expert, applicant, corps_with_xinjiang=corps_rule) == reason


def _check_plan(plan, applications, experts, eligible, k):
    per_application = {}
    for a, e in plan.pairs:
        assert e in eligible[a], "an ineligible (conflicted) expert was assigned"
        per_application.setdefault(a, []).append(e)
    assert sorted(per_application) == sorted(applications)
    for chosen in per_application.values():
        assert len(chosen) == k and len(set(chosen)) == k
    loads = [sum(1 for _, e in plan.pairs if e == x) for x in experts]
    assert loads == [plan.loads[x] for x in experts]
    assert plan.low <= min(loads) and max(loads) <= plan.high
    return loads


@given(n=st.integers(1, 40), m=st.integers(1, 12), k=st.integers(1, 6))
@settings(max_examples=60, deadline=None)
def test_balanced_assignment_without_conflicts_differs_by_at_most_one(n, m, k):
    if k > m:
        return
    applications, experts = list(range(n)), list(range(m))
    eligible = {a: experts for a in applications}
    loads = _check_plan(balanced_assignment(applications, experts, eligible, k), applications, experts, eligible, k)
    assert max(loads) - min(loads) <= 1


@pytest.mark.parametrize("seed", range(40))
def test_balanced_assignment_on_random_conflicts_keeps_invariants(seed):
    rng = random.Random(seed)
    n, m, k = rng.randint(5, 60), rng.randint(3, 15), rng.randint(1, 4)
    applications, experts = list(range(n)), list(range(m))
    # Region-like conflicts: each application conflicts with a random small set of experts.
    eligible = {a: [e for e in experts if rng.random() > 0.2] for a in applications}
    if any(len(v) < k for v in eligible.values()):
        with pytest.raises(AssignmentImpossible):
            balanced_assignment(applications, experts, eligible, k)
        return
    plan = balanced_assignment(applications, experts, eligible, k)
    _check_plan(plan, applications, experts, eligible, k)
    # The band is the tightest the solver found feasible, starting from floor/ceil of the average.
    average = n * k / m
    assert plan.low <= average <= plan.high


def test_balanced_assignment_tight_band_whenever_feasible():
    # 4 experts, 8 applications, k = 2: average 4; expert 3 may review only 2 applications.
    applications, experts = list(range(8)), [0, 1, 2, 3]
    eligible = {a: [0, 1, 2] + ([3] if a < 2 else []) for a in applications}
    plan = balanced_assignment(applications, experts, eligible, 2)
    loads = _check_plan(plan, applications, experts, eligible, 2)
    assert loads[3] == 2 and sorted(loads[:3]) == [4, 5, 5]


def test_balanced_assignment_impossible_names_applications():
    with pytest.raises(AssignmentImpossible) as err:
        balanced_assignment(["甲", "乙"], [1, 2, 3], {"甲": [1, 2, 3], "乙": [1]}, 2)
    assert err.value.short == {"乙": 1}
