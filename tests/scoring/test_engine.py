"""Rules 1–7 of DESIGN §8 on small hand-computed cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.engine import ScoringInputError, rank_applications

from .helpers import make_rubric

D = Decimal


def one_criterion(**kwargs):
    kwargs.setdefault("expert", (("work", 100, "0.5"),))
    return make_rubric(**kwargs)


def reviews(app, totals, criterion="work"):
    """One review per total, by experts e1, e2, ... in order."""
    return [(app, f"e{i + 1}", criterion, str(t)) for i, t in enumerate(totals)]


def entry(result, app):
    return result.application(app)


# ---------------------------------------------------------------------------------------- rule 2


def test_rank_insufficient_reviews_unranked_and_last():
    rubric = one_criterion(min_experts=3)
    result = rank_applications(rubric, reviews("A", [50, 60]) + reviews("B", [10, 10, 10]), [])
    a = entry(result, "A")
    assert (a.rank, a.total, a.criteria["work"], a.retained) == (None, None, None, ())
    assert a.flags == ("insufficient_reviews",)
    assert a.reviews == 2
    assert [x.application for x in result.applications] == ["B", "A"]


def test_trimmed_mean_at_exactly_trim_min_experts_drops_high_and_low():
    rubric = one_criterion(method="trimmed_mean", trim_min_experts=5, min_experts=3)
    result = rank_applications(rubric, reviews("A", [50, 10, 30, 40, 20]), [])
    a = entry(result, "A")
    assert a.criteria["work"] == D("30.00")
    assert a.retained == ("e5", "e3", "e4")  # t ascending: 20, 30, 40


def test_trimmed_mean_below_trim_min_experts_keeps_all():
    rubric = one_criterion(method="trimmed_mean", trim_min_experts=5, min_experts=3)
    result = rank_applications(rubric, reviews("A", [50, 10, 30, 40]), [])
    assert entry(result, "A").criteria["work"] == D("32.50")
    assert entry(result, "A").retained == ("e2", "e3", "e4", "e1")


def test_trimmed_mean_is_a_count_rule_not_a_proportion():
    # scipy.stats.trim_mean(x, 0.1) trims nothing from 7 values; the rule drops one high and one low
    rubric = one_criterion(method="trimmed_mean", trim_min_experts=5, min_experts=3)
    result = rank_applications(rubric, reviews("A", [0, 10, 10, 10, 10, 10, 100]), [])
    assert entry(result, "A").criteria["work"] == D("10.00")


def test_trimmed_mean_equal_totals_ordered_by_expert_id():
    # equal reviewer totals: the lower expert id comes first, so it is the one trimmed at the low end
    rubric = make_rubric(
        method="trimmed_mean", trim_min_experts=3, min_experts=1, expert=(("a", 10, 1), ("b", 10, 1))
    )
    scores = [
        ("A", "x2", "a", 5),
        ("A", "x2", "b", 0),  # t = 5
        ("A", "x1", "a", 0),
        ("A", "x1", "b", 5),  # t = 5, lower id: first, trimmed
        ("A", "x3", "a", 9),
        ("A", "x3", "b", 9),  # t = 18, trimmed
    ]
    a = entry(rank_applications(rubric, scores, []), "A")
    assert a.retained == ("x2",)
    assert (a.criteria["a"], a.criteria["b"]) == (D("5.00"), D("0.00"))


def test_median_even_n_means_middle_two():
    rubric = one_criterion(method="median", min_experts=1)
    result = rank_applications(rubric, reviews("A", [1, 8, 2, 4]), [])
    assert entry(result, "A").criteria["work"] == D("3.00")
    assert entry(result, "A").retained == ("e3", "e4")


def test_median_odd_n_takes_middle_one():
    rubric = one_criterion(method="median", min_experts=1)
    result = rank_applications(rubric, reviews("A", [1, 8, 2, 4, 100]), [])
    assert entry(result, "A").criteria["work"] == D("4.00")
    assert entry(result, "A").retained == ("e4",)


def test_mean_keeps_every_review():
    rubric = one_criterion(method="mean", min_experts=1)
    result = rank_applications(rubric, reviews("A", [1, 2, 4]), [])
    assert entry(result, "A").criteria["work"] == D("2.33")


# ---------------------------------------------------------------------------------------- rule 3, 5


def test_criterion_scores_are_means_of_the_retained_reviews():
    rubric = make_rubric(
        method="trimmed_mean", trim_min_experts=3, min_experts=1, expert=(("a", 10, "0.5"), ("b", 10, "0.5"))
    )
    scores = [
        ("A", "x1", "a", "1"),
        ("A", "x1", "b", "1"),  # t 2, dropped
        ("A", "x2", "a", "2"),
        ("A", "x2", "b", "3.5"),  # t 5.5
        ("A", "x3", "a", "4"),
        ("A", "x3", "b", "2"),  # t 6
        ("A", "x4", "a", "9"),
        ("A", "x4", "b", "9"),  # t 18, dropped
    ]
    a = entry(rank_applications(rubric, scores, []), "A")
    assert (a.criteria["a"], a.criteria["b"], a.total) == (D("3.00"), D("2.75"), D("5.75"))


def test_rounding_half_up_84_125_gives_84_13():
    rubric = one_criterion(expert=(("work", 100, "0.25"),), decimals=2)
    result = rank_applications(rubric, reviews("A", ["84", "84.25"]), [])
    assert entry(result, "A").criteria["work"] == D("84.13")  # numpy.round would give 84.12


def test_rounding_half_up_at_zero_decimals():
    rubric = one_criterion(expert=(("work", 100, "0.5"),), decimals=0)
    result = rank_applications(rubric, reviews("A", ["2", "3"]) + reviews("B", ["3", "4"]), [])
    assert (entry(result, "A").total, entry(result, "B").total) == (D("3"), D("4"))  # 2.5 → 3, 3.5 → 4


def test_total_is_sum_of_rounded_criteria():
    rubric = make_rubric(expert=(("a", 10, "0.5"), ("b", 10, "0.5")), decimals=0)
    scores = [("A", "x1", "a", "1"), ("A", "x1", "b", "1"), ("A", "x2", "a", "2"), ("A", "x2", "b", "2")]
    a = entry(rank_applications(rubric, scores, []), "A")
    # each mean is 1.5 → 2; the sum of rounded criteria is 4, not round(3.0) = 3
    assert (a.criteria["a"], a.criteria["b"], a.total) == (D("2"), D("2"), D("4"))


# ---------------------------------------------------------------------------------------- rule 4


COVERAGE_TERMS = [
    {
        "weight": D("0.5"),
        "numerator": "kexie",
        "denominator": "enterprises",
        "curve": [[0, 0], [D("0.1"), 1]],
    },
    {
        "weight": D("0.5"),
        "numerator": "parks_kexie",
        "denominator": "parks",
        "curve": [[0, 0], [D("0.5"), 1]],
    },
]
COVERAGE_INDICATORS = (
    ("kexie", "count"),
    ("enterprises", "count"),
    ("parks_kexie", "count"),
    ("parks", "count"),
)


def coverage_rubric():
    return make_rubric(
        expert=(("work", 10, 1),), formula=(("coverage", 20, COVERAGE_TERMS),), indicators=COVERAGE_INDICATORS
    )


def figures(app, **values):
    return [(app, k, v) for k, v in values.items()]


def test_formula_weighted_curve_points():
    result = rank_applications(
        coverage_rubric(),
        reviews("A", [5]),
        figures("A", kexie=5, enterprises=100, parks_kexie=1, parks=4),
    )
    # x1 = 0.05 → 0.5, x2 = 0.25 → 0.5: 20 × (0.5·0.5 + 0.5·0.5) = 10
    assert entry(result, "A").criteria["coverage"] == D("10.00")


def test_formula_zero_denominator_shares_weight():
    result = rank_applications(
        coverage_rubric(),
        reviews("A", [5]),
        figures("A", kexie=5, enterprises=100, parks_kexie=0, parks=0),
    )
    a = entry(result, "A")
    assert a.criteria["coverage"] == D("10.00")  # only x1 = 0.05 → 0.5 applies, with all the weight
    assert a.flags == ()


def test_formula_no_applicable_term_scores_zero_and_flags():
    result = rank_applications(
        coverage_rubric(),
        reviews("A", [5]),
        figures("A", kexie=5, enterprises=0, parks_kexie=0, parks=0),
    )
    a = entry(result, "A")
    assert a.criteria["coverage"] == D("0.00")
    assert a.flags == ("not_applicable:coverage",)


def test_formula_missing_figure_counts_zero_and_flags():
    result = rank_applications(
        coverage_rubric(),
        reviews("A", [5]),
        figures("A", enterprises=100, parks_kexie=2, parks=4, kexie=None),
    )
    a = entry(result, "A")
    assert a.criteria["coverage"] == D("10.00")  # x1 = 0 → 0; x2 = 0.5 → 1
    assert a.flags == ("missing_indicator:kexie",)


def test_formula_missing_denominator_is_not_applicable():
    result = rank_applications(
        coverage_rubric(), reviews("A", [5]), figures("A", kexie=5, parks_kexie=1, parks=4)
    )
    a = entry(result, "A")
    assert a.criteria["coverage"] == D("10.00")  # term 1 not applicable: x2 = 0.25 → 0.5 → 20 × 0.5
    assert a.flags == ("missing_indicator:enterprises",)


def test_formula_curve_clamps_above_last_point():
    result = rank_applications(
        coverage_rubric(), reviews("A", [5]), figures("A", kexie=90, enterprises=100, parks_kexie=9, parks=9)
    )
    assert entry(result, "A").criteria["coverage"] == D("20.00")


# ---------------------------------------------------------------------------------------- rule 6


def test_ranks_competition_style_1_2_2_4():
    rubric = one_criterion()
    scores = reviews("A", [90]) + reviews("B", [80]) + reviews("C", [80]) + reviews("D", [70])
    result = rank_applications(rubric, scores, [])
    assert [(a.application, a.rank) for a in result.applications] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]


def test_ranks_tie_break_criteria_high_to_low():
    rubric = make_rubric(expert=(("a", 10, 1), ("b", 10, 1)), tie_break=("b",))
    scores = [("A", "x", "a", 7), ("A", "x", "b", 3), ("B", "x", "a", 4), ("B", "x", "b", 6)]
    result = rank_applications(rubric, scores, [])
    assert [(a.application, a.rank) for a in result.applications] == [("B", 1), ("A", 2)]


def test_ranks_equal_totals_earlier_submission_first():
    rubric = one_criterion()
    scores = reviews("A", [80]) + reviews("B", [80]) + reviews("C", [80])
    apps = [
        ("A", "甲", None, "2014-10-31T12:00:00+08:00"),
        ("B", "乙", None, "2014-10-31T03:00:00Z"),  # 11:00 Beijing: earliest
        ("C", "丙", None, "2014-10-31T12:00:00"),  # naive = Beijing time: same instant as A
    ]
    result = rank_applications(rubric, scores, [], apps)
    assert [(a.application, a.rank) for a in result.applications] == [("B", 1), ("A", 2), ("C", 2)]


def test_ranks_missing_submission_time_counts_as_latest():
    rubric = one_criterion()
    scores = reviews("A", [80]) + reviews("B", [80])
    apps = [("A", "甲", None, ""), ("B", "乙", None, "2014-10-31T12:00:00+08:00")]
    result = rank_applications(rubric, scores, [], apps)
    assert [(a.application, a.rank) for a in result.applications] == [("B", 1), ("A", 2)]


def test_rank_application_without_reviews_is_insufficient():
    rubric = one_criterion()
    result = rank_applications(rubric, reviews("A", [80]), [], [("A", "", "", ""), ("B", "", "", "")])
    assert (entry(result, "B").rank, entry(result, "B").flags) == (None, ("insufficient_reviews",))


# ---------------------------------------------------------------------------------------- flags


def test_high_disagreement_above_a_quarter_of_expert_maximum():
    rubric = make_rubric(expert=(("work", 40, 1),))  # a quarter is 10
    result = rank_applications(rubric, reviews("A", [10, 20]) + reviews("B", [10, 21]), [])
    assert entry(result, "A").flags == ()
    assert entry(result, "B").flags == ("high_disagreement",)


def test_flags_tie_at_cutoff_on_the_tied_group():
    rubric = one_criterion(allocation={"policy": "fixed", "amount": 100000, "count": 2})
    scores = reviews("A", [90]) + reviews("B", [80]) + reviews("C", [80]) + reviews("D", [70])
    result = rank_applications(rubric, scores, [])
    assert [a.flags for a in result.applications] == [(), ("tie_at_cutoff",), ("tie_at_cutoff",), ()]
    assert result.cutoff_rank == 2


# ---------------------------------------------------------------------------------------- rule 7


def spread_campaign():
    rubric = one_criterion(allocation={"policy": "fixed", "amount": 100000, "count": 1})
    scores = reviews("A", [60, 70, 80, 90]) + reviews("B", [65, 75, 85, 95]) + reviews("C", [10, 10, 10, 10])
    return rubric, scores


def test_bootstrap_same_seed_same_result():
    rubric, scores = spread_campaign()
    one = rank_applications(rubric, scores, [], bootstrap=200, seed=5).to_json()
    two = rank_applications(rubric, scores, [], bootstrap=200, seed=5).to_json()
    assert one == two


def test_bootstrap_interval_and_funded_share():
    rubric, scores = spread_campaign()
    result = rank_applications(rubric, scores, [], bootstrap=400, seed=11)
    a, b, c = entry(result, "A"), entry(result, "B"), entry(result, "C")
    assert (b.rank, a.rank, c.rank) == (1, 2, 3)
    assert c.rank_interval == (3, 3) and c.p_funded == D("0.0000")
    assert a.rank_interval == (1, 2) and b.rank_interval == (1, 2)
    # in a replicate where they tie both share rank 1, so the shares can add up to more than 1
    assert D("0") < a.p_funded < D("1") and a.p_funded + b.p_funded >= D("1")
    assert "boundary" in a.flags and "boundary" in b.flags and "boundary" not in c.flags


def test_bootstrap_identical_reviews_give_a_point_interval():
    rubric = one_criterion(allocation={"policy": "fixed", "amount": 100000, "count": 1})
    result = rank_applications(
        rubric, reviews("A", [80, 80, 80]) + reviews("B", [70, 70, 70]), [], bootstrap=50, seed=1
    )
    assert [(a.rank_interval, a.p_funded) for a in result.applications] == [
        ((1, 1), D("1.0000")),
        ((2, 2), D("0.0000")),
    ]


def test_bootstrap_zero_replicates_reports_nothing():
    rubric, scores = spread_campaign()
    a = entry(rank_applications(rubric, scores, []), "A")
    assert (a.rank_interval, a.p_funded) == (None, None)


# ---------------------------------------------------------------------------------------- result JSON


def test_to_json_has_exactly_the_result_keys():
    rubric, scores = spread_campaign()
    data = rank_applications(rubric, scores, [], bootstrap=10, seed=1).to_json()
    assert list(data) == ["rubric", "method", "applications", "experts", "reliability"]
    assert list(data["applications"][0]) == [
        "application",
        "rank",
        "total",
        "criteria",
        "reviews",
        "retained",
        "rank_interval",
        "p_funded",
        "flags",
    ]
    assert [e["expert"] for e in data["experts"]] == ["e1", "e2", "e3", "e4"]
    assert data["reliability"]["n_experts"] == 4


# ---------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A", "e1", "wrok", "1")], "unknown criterion 'wrok'"),
        ([("A", "e1", "work", "101")], "outside 0..100"),
        ([("A", "e1", "work", "-1")], "outside 0..100"),
        ([("A", "e1", "work", "1.3")], "not a multiple of its step 0.5"),
        ([("A", "e1", "work", "abc")], "is not a number"),
        ([("A", "e1", "work", "")], "is empty"),
        ([("A", "e1", "work", "1"), ("A", "e1", "work", "2")], "duplicate score"),
        ([("", "e1", "work", "1")], "application id is empty"),
        ([("A", "", "work", "1")], "expert id is empty"),
        ([("A", "e1", "work")], "expected 4 values"),
    ],
)
def test_rank_refuses_bad_score_rows(rows, message):
    with pytest.raises(ScoringInputError) as info:
        rank_applications(one_criterion(), rows, [])
    assert len(info.value.problems) == 1
    assert message in info.value.problems[0]


def test_rank_refuses_incomplete_review():
    rubric = make_rubric(expert=(("a", 10, 1), ("b", 10, 1), ("c", 10, 1)))
    with pytest.raises(ScoringInputError) as info:
        rank_applications(rubric, [("A", "x", "a", 1)], [])
    assert info.value.problems == [
        "scores row 1: the review of 'A' by 'x' lacks b, c; give a score for every expert criterion of the review"
    ]


def test_rank_refuses_unknown_application_with_applications_list():
    with pytest.raises(ScoringInputError) as info:
        rank_applications(one_criterion(), reviews("Z", [1]), [("Z", "kexie", 1)], [("A", "", "", "")])
    assert [p.split(":")[0] for p in info.value.problems] == ["scores row 1", "indicators row 1"]


def test_rank_refuses_formula_criterion_scored_by_expert():
    with pytest.raises(ScoringInputError, match="computed from indicators"):
        rank_applications(coverage_rubric(), [("A", "x", "coverage", 1)], [])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A", "unknown", "1")], "unknown indicator 'unknown'"),
        ([("A", "kexie", "-1")], "must be >= 0"),
        ([("A", "kexie", "1.5")], "whole number"),
        ([("A", "kexie", "many")], "must be a number"),
        ([("A", "kexie", "1"), ("A", "kexie", "2")], "duplicate figure"),
    ],
)
def test_rank_refuses_bad_indicator_rows(rows, message):
    with pytest.raises(ScoringInputError) as info:
        rank_applications(coverage_rubric(), reviews("A", [1]), rows)
    assert len(info.value.problems) == 1 and message in info.value.problems[0]


def test_rank_lists_every_problem_at_once():
    rows = [("A", "e1", "work", "x"), ("B", "e1", "nope", "1"), ("C", "e1", "work", "1000")]
    with pytest.raises(ScoringInputError) as info:
        rank_applications(one_criterion(), rows, [])
    assert [p.split(":")[0] for p in info.value.problems] == ["scores row 1", "scores row 2", "scores row 3"]


def test_rank_refuses_nothing_to_rank():
    with pytest.raises(ScoringInputError, match="no applications"):
        rank_applications(one_criterion(), [], [])


def test_rank_refuses_duplicate_and_bad_time_in_applications():
    apps = [("A", "", "", "2014-10-31"), ("A", "", "", ""), ("B", "", "", "31/10/2014")]
    with pytest.raises(ScoringInputError) as info:
        rank_applications(one_criterion(), [], [], apps)
    assert len(info.value.problems) == 2
    assert "listed twice" in info.value.problems[0] and "ISO 8601" in info.value.problems[1]


@pytest.mark.parametrize("bootstrap", [-1, 1.5, True])
def test_rank_refuses_bad_bootstrap(bootstrap):
    with pytest.raises(ValueError, match="bootstrap"):
        rank_applications(one_criterion(), reviews("A", [1]), [], bootstrap=bootstrap)


def test_rank_unknown_application_reported_once_per_row():
    rubric = make_rubric(expert=(("a", 10, 1), ("b", 10, 1)))
    rows = [("Z", "x", "a", "99"), ("Z", "x", "b", "1")]
    with pytest.raises(ScoringInputError) as info:
        rank_applications(rubric, rows, [], [("A", "", "", "")])
    assert [p.split(": ", 1)[1] for p in info.value.problems] == [
        "unknown application 'Z'; use an application id listed in applications",
        "score 99 for 'a' is outside 0..10; use a score from 0 to 10",
        "unknown application 'Z'; use an application id listed in applications",
    ]


def test_helper_thread_works_in_a_forked_child():
    """A process forked after a large ranking (a pre-forking server, say) gets its own helper thread."""
    import os
    import warnings

    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    from scoring.engine import _helper_thread

    assert _helper_thread().submit(lambda: 6 * 7).result(timeout=10) == 42
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # newer Pythons warn on forking with threads
        pid = os.fork()
    if pid == 0:  # the child: answer through the exit status
        try:
            ok = _helper_thread().submit(lambda: 6 * 7).result(timeout=10) == 42
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
