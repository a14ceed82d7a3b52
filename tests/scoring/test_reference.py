"""The engine agrees exactly with the plain reference implementation of §8 on random campaigns."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring.allocate import allocate
from scoring.engine import rank_applications
from scoring.io import dumps_json, loads_json

from .helpers import campaigns, rubrics
from .reference import reference_awards, reference_result

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _engine_json(result) -> dict:
    data = result.to_json()
    del data["experts"], data["reliability"]
    return loads_json(dumps_json(data))


def _plain(data) -> dict:
    return loads_json(dumps_json(data))


@st.composite
def rubric_and_campaign(draw):
    rubric = draw(rubrics())
    return rubric, draw(campaigns(rubric))


@SETTINGS
@given(rubric_and_campaign())
def test_rank_matches_reference_on_random_campaigns(case):
    rubric, (scores, indicators, applications) = case
    engine = rank_applications(rubric, scores, indicators, applications)
    assert _engine_json(engine) == _plain(reference_result(rubric, scores, indicators, applications))


@SETTINGS
@given(rubric_and_campaign())
def test_rank_matches_reference_without_applications_list(case):
    rubric, (scores, indicators, _) = case
    assume(scores or indicators)  # with nothing at all there is nothing to rank (refused, tested elsewhere)
    engine = rank_applications(rubric, scores, indicators)
    assert _engine_json(engine) == _plain(reference_result(rubric, scores, indicators))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rubric_and_campaign(),
    st.integers(1, 60),
    st.integers(0, 2**32),
    st.one_of(st.none(), st.integers(1, 6)),
    st.one_of(st.none(), st.integers(1, 9).map(lambda k: k * 100000)),
)
def test_bootstrap_matches_reference_on_random_campaigns(case, replicates, seed, count, budget):
    rubric, (scores, indicators, applications) = case
    engine = rank_applications(
        rubric, scores, indicators, applications, bootstrap=replicates, seed=seed, budget=budget, count=count
    )
    expected = reference_result(
        rubric, scores, indicators, applications, bootstrap=replicates, seed=seed, budget=budget, count=count
    )
    assert _engine_json(engine) == _plain(expected)


@SETTINGS
@given(
    rubric_and_campaign(), st.one_of(st.none(), st.integers(1, 9)), st.one_of(st.none(), st.integers(1, 6))
)
def test_allocate_matches_reference_on_random_campaigns(case, budget_units, count):
    rubric, (scores, indicators, applications) = case
    budget = None if budget_units is None else budget_units * 100000
    result = rank_applications(rubric, scores, indicators, applications)
    awards = allocate(rubric, result, budget=budget, count=count)
    expected = reference_awards(rubric, _engine_json(result), budget=budget, count=count)
    assert _plain(awards.to_json()) == _plain(expected)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric_and_campaign(), st.randoms(use_true_random=False))
def test_rank_unchanged_by_row_order(case, rnd: random.Random):
    rubric, (scores, indicators, applications) = case
    before = _engine_json(rank_applications(rubric, scores, indicators, applications, bootstrap=20, seed=7))
    scores, indicators, applications = list(scores), list(indicators), list(applications)
    rnd.shuffle(scores)
    rnd.shuffle(indicators)
    rnd.shuffle(applications)
    after = _engine_json(rank_applications(rubric, scores, indicators, applications, bootstrap=20, seed=7))
    assert after == before


def _random_campaign(rubric, rng, apps, experts, reviews, unreported):
    """Scores, figures and applications: each application reviewed by a number of experts drawn from
    ``reviews`` (low, high exclusive), each figure left unreported with the chance ``unreported``."""
    scores = []
    for a in apps:
        for e in rng.choice(experts, size=int(rng.integers(*reviews)), replace=False):
            for c in rubric.expert_criteria:
                steps = int(c.max / c.step)
                scores.append((a, str(e), c.key, str(c.step * int(rng.integers(steps // 2, steps + 1)))))
    indicators = []
    for a in apps:
        for ind in rubric.indicators:
            if rng.random() < unreported:
                continue  # not reported
            indicators.append((a, ind.key, str(int(rng.integers(0, 400)))))
    applications = [(a, a, "province", f"2014-10-{int(rng.integers(20, 32))}T09:00:00+08:00") for a in apps]
    return scores, indicators, applications


def test_rank_matches_reference_on_a_full_2014_campaign():
    """47 units, 9 experts each, the real post-subsidy rubric, with bootstrap and the rubric's budget."""
    import numpy as np

    from scoring.rubric import load_rubric

    from .test_rubric import CRITERIA

    rubric = load_rubric(CRITERIA / "cast-2014-post-subsidy.toml")
    rng = np.random.default_rng(2014)
    apps = [f"{110000 + 10000 * i}" for i in range(47)]
    experts = [f"E{i:02d}" for i in range(11)]
    scores, indicators, applications = _random_campaign(rubric, rng, apps, experts, (2, 10), 0.05)
    engine = rank_applications(rubric, scores, indicators, applications, bootstrap=40, seed=7)
    expected = reference_result(rubric, scores, indicators, applications, bootstrap=40, seed=7)
    assert _engine_json(engine) == _plain(expected)
    awards = allocate(rubric, engine)
    assert _plain(awards.to_json()) == _plain(reference_awards(rubric, _engine_json(engine)))


def test_rank_matches_reference_on_a_campaign_large_enough_for_every_fast_path():
    """Enough applications for the formula criteria on the helper thread and the large-ranking sorts."""
    import numpy as np

    from scoring.engine import OVERLAP_MIN_APPLICATIONS
    from scoring.rank import RADIX_MIN
    from scoring.rubric import load_rubric

    from .test_rubric import CRITERIA

    rubric = load_rubric(CRITERIA / "cast-2014-post-subsidy.toml")
    rng = np.random.default_rng(7)
    n_apps = max(OVERLAP_MIN_APPLICATIONS, RADIX_MIN) + 17
    apps = [f"A{i:05d}" for i in range(n_apps)]
    experts = [f"E{i:03d}" for i in range(60)]
    scores, indicators, applications = _random_campaign(rubric, rng, apps, experts, (3, 8), 0.02)
    engine = rank_applications(rubric, scores, indicators, applications)
    expected = reference_result(rubric, scores, indicators, applications)
    assert _engine_json(engine) == _plain(expected)
