"""Tests for scoring.experts, checked against scipy and plain-Python reference loops."""

import doctest
import json
import math

import numpy as np
import pytest
import scipy.stats

import scoring.experts
from scoring.experts import ExpertDiagnostic, expert_diagnostics

NAN = np.nan
TOLERANCE = 1e-9


# --- independent reference --------------------------------------------------------------------


def reference_diagnostics(totals):
    """Leniency, consistency and flags written out with loops, scipy and the statistics rules."""
    n, k = totals.shape
    rows = []
    for expert in range(k):
        differences, own_values, others_means = [], [], []
        for application in range(n):
            own = totals[application, expert]
            others = [
                totals[application, other]
                for other in range(k)
                if other != expert and not math.isnan(totals[application, other])
            ]
            if math.isnan(own) or not others:
                continue
            others_mean = sum(others) / len(others)
            differences.append(own - others_mean)
            own_values.append(own)
            others_means.append(others_mean)
        leniency = sum(differences) / len(differences) if differences else None
        consistency = None
        if len(own_values) >= 3 and len(set(own_values)) > 1 and len(set(others_means)) > 1:
            consistency = scipy.stats.spearmanr(own_values, others_means).statistic
        reviews = sum(not math.isnan(totals[a, expert]) for a in range(n))
        rows.append([reviews, leniency, consistency])

    known = [row[1] for row in rows if row[1] is not None]
    for row in rows:
        flags = []
        if len(known) >= 2 and max(known) - min(known) > 1e-9:
            mean = sum(known) / len(known)
            sample_sd = math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1))
            if row[1] is not None and row[1] - mean > 2 * sample_sd:
                flags.append("lenient")
            if row[1] is not None and mean - row[1] > 2 * sample_sd:
                flags.append("severe")
        if row[2] is not None and row[2] < 0.3:
            flags.append("inconsistent")
        row.append(tuple(flags))
    return rows


def ids_for(k):
    return [f"E{index:02d}" for index in range(k)]


def assert_matches_reference(diagnostics, totals):
    reference = reference_diagnostics(totals)
    assert [d.expert for d in diagnostics] == ids_for(totals.shape[1])
    for diagnostic, (reviews, leniency, consistency, flags) in zip(diagnostics, reference, strict=True):
        assert diagnostic.reviews == reviews
        if leniency is None:
            assert diagnostic.leniency is None
        else:
            assert abs(diagnostic.leniency - leniency) <= TOLERANCE
        if consistency is None:
            assert diagnostic.consistency is None
        else:
            assert abs(diagnostic.consistency - consistency) <= TOLERANCE
        assert diagnostic.flags == flags


def panel(offsets, n_applications=10):
    """A full panel: application quality 50, 55, ... plus a fixed offset per expert."""
    quality = 50.0 + 5.0 * np.arange(n_applications)
    return quality[:, None] + np.asarray(offsets, dtype=float)[None, :]


# --- validation at the door -------------------------------------------------------------------


def test_expert_diagnostics_rejects_non_2d():
    with pytest.raises(ValueError, match="must be 2-D"):
        expert_diagnostics(np.array([70.0, 80.0]), ["E1", "E2"])


def test_expert_diagnostics_rejects_non_numeric():
    with pytest.raises(ValueError, match="real numbers"):
        expert_diagnostics(np.array([["a", "b"]]), ["E1", "E2"])


def test_expert_diagnostics_rejects_id_count_mismatch():
    with pytest.raises(ValueError, match="name each of the 3 columns of totals, got 2 id"):
        expert_diagnostics(np.zeros((2, 3)), ["E1", "E2"])


def test_expert_diagnostics_rejects_string_as_ids():
    with pytest.raises(ValueError, match="name each of the 3 columns"):
        expert_diagnostics(np.zeros((2, 3)), "E12")


def test_expert_diagnostics_rejects_duplicate_ids():
    with pytest.raises(ValueError, match="repeated: E1"):
        expert_diagnostics(np.zeros((2, 3)), ["E1", "E2", "E1"])


@pytest.mark.parametrize("bad", [7, "", None])
def test_expert_diagnostics_rejects_non_string_id(bad):
    with pytest.raises(ValueError, match="non-empty strings"):
        expert_diagnostics(np.zeros((2, 2)), ["E1", bad])


# --- fixed cases ------------------------------------------------------------------------------


def test_expert_diagnostics_hand_computed_leniency():
    totals = np.array([[80.0, 70.0, 75.0], [60.0, NAN, 50.0], [90.0, NAN, NAN]])
    first, second, third = expert_diagnostics(totals, ["A", "B", "C"])
    # A: 80 − 72.5 = 7.5 and 60 − 50 = 10; the third application has no other reviewer.
    assert first == ExpertDiagnostic("A", 3, 8.75, None, ())
    # B: 70 − 77.5 on the only application it reviewed.
    assert second == ExpertDiagnostic("B", 1, -7.5, None, ())
    # C: 75 − 75 = 0 and 50 − 60 = −10.
    assert third == ExpertDiagnostic("C", 2, -5.0, None, ())


def test_expert_diagnostics_single_outlier_flagged_lenient():
    # Six experts, one 10 points above the rest: z = 5/√6 ≈ 2.04 sample SDs.
    diagnostics = expert_diagnostics(panel([10, 0, 0, 0, 0, 0]), ids_for(6))
    assert [d.flags for d in diagnostics] == [("lenient",)] + [()] * 5
    assert diagnostics[0].leniency == pytest.approx(10.0, abs=TOLERANCE)
    assert diagnostics[1].leniency == pytest.approx(-2.0, abs=TOLERANCE)
    assert [d.consistency for d in diagnostics] == [1.0] * 6


def test_expert_diagnostics_single_outlier_flagged_severe():
    diagnostics = expert_diagnostics(panel([0, 0, -12, 0, 0, 0, 0]), ids_for(7))
    assert [d.flags for d in diagnostics] == [(), (), ("severe",), (), (), (), ()]


def test_expert_diagnostics_uses_sample_sd_not_population_sd():
    # Leniencies ∝ offsets − mean: E00 sits 2.06 population SDs but only 1.88 sample SDs above.
    offsets = np.array([5.0, 2.0, 0, 0, 0, 0])
    centred = offsets - offsets.mean()
    assert centred[0] / offsets.std(ddof=0) > 2 > centred[0] / offsets.std(ddof=1)
    diagnostics = expert_diagnostics(panel(offsets), ids_for(6))
    assert [d.flags for d in diagnostics] == [()] * 6


def test_expert_diagnostics_reversed_ranking_flagged_inconsistent():
    totals = panel([0, 1, -1, 2])
    totals[:, 3] = totals[::-1, 3]
    diagnostics = expert_diagnostics(totals, ids_for(4))
    assert diagnostics[3].consistency == pytest.approx(-1.0, abs=TOLERANCE)
    assert diagnostics[3].flags == ("inconsistent",)
    assert_matches_reference(diagnostics, totals)


def test_expert_diagnostics_consistency_needs_three_applications():
    totals = np.array([[80.0, 70.0], [60.0, 65.0], [90.0, NAN], [NAN, 50.0]])
    diagnostics = expert_diagnostics(totals, ["A", "B"])
    assert [d.consistency for d in diagnostics] == [None, None]
    assert [d.reviews for d in diagnostics] == [3, 3]


def test_expert_diagnostics_ties_match_scipy_spearman():
    totals = np.array(
        [[80, 80, 70], [80, 75, 70], [70, 75, 70], [60, 60, 65], [60, 75, 65], [85, 90, 70]],
        dtype=float,
    )
    assert_matches_reference(expert_diagnostics(totals, ids_for(3)), totals)


# --- random matrices --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_expert_diagnostics_random_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    k = int(rng.integers(2, 12))
    totals = rng.normal(70, 10, size=(n, 1)) + rng.normal(0, 4, size=(1, k))
    totals = totals + rng.normal(0, 8, size=(n, k))
    if seed % 2:
        totals = np.round(totals)  # integer totals: ties in the ranks
    if seed % 4 >= 2:
        totals[rng.random((n, k)) < rng.uniform(0.05, 0.5)] = NAN
    assert_matches_reference(expert_diagnostics(totals, ids_for(k)), totals)


@pytest.mark.parametrize("seed", range(10))
def test_expert_diagnostics_random_outlier_matches_reference(seed):
    # Large panels with one clearly lenient expert, so the flag branch is exercised too.
    rng = np.random.default_rng(1000 + seed)
    totals = rng.normal(70, 10, size=(30, 1)) + rng.normal(0, 2, size=(30, 9))
    totals[:, seed % 9] += 15
    totals[rng.random(totals.shape) < 0.2] = NAN
    diagnostics = expert_diagnostics(totals, ids_for(9))
    assert diagnostics[seed % 9].flags[0] == "lenient"
    assert_matches_reference(diagnostics, totals)


def test_expert_diagnostics_column_order_follows_ids():
    rng = np.random.default_rng(7)
    totals = rng.integers(50, 100, size=(12, 5)).astype(float)
    order = [3, 0, 4, 1, 2]
    forward = expert_diagnostics(totals, ids_for(5))
    shuffled = expert_diagnostics(totals[:, order], [ids_for(5)[i] for i in order])
    by_id = {d.expert: d for d in forward}
    for diagnostic in shuffled:
        expected = by_id[diagnostic.expert]
        assert diagnostic.reviews == expected.reviews
        assert diagnostic.leniency == pytest.approx(expected.leniency, abs=TOLERANCE)
        assert diagnostic.consistency == pytest.approx(expected.consistency, abs=TOLERANCE)
        assert diagnostic.flags == expected.flags


# --- edge cases -------------------------------------------------------------------------------


def test_expert_diagnostics_empty_panel():
    assert expert_diagnostics(np.empty((0, 0)), []) == ()
    assert expert_diagnostics(np.empty((5, 0)), []) == ()


def test_expert_diagnostics_no_applications():
    assert expert_diagnostics(np.empty((0, 2)), ["A", "B"]) == (
        ExpertDiagnostic("A", 0, None, None, ()),
        ExpertDiagnostic("B", 0, None, None, ()),
    )


def test_expert_diagnostics_one_expert():
    assert expert_diagnostics(np.array([[70.0], [80.0], [NAN]]), ["A"]) == (
        ExpertDiagnostic("A", 2, None, None, ()),
    )


def test_expert_diagnostics_one_application():
    diagnostics = expert_diagnostics(np.array([[70.0, 80.0, 90.0]]), ["A", "B", "C"])
    assert [d.leniency for d in diagnostics] == [-15.0, 0.0, 15.0]
    assert [d.consistency for d in diagnostics] == [None, None, None]
    assert [d.flags for d in diagnostics] == [(), (), ()]


def test_expert_diagnostics_all_equal():
    diagnostics = expert_diagnostics(np.full((8, 7), 66.5), ids_for(7))
    assert diagnostics == tuple(ExpertDiagnostic(e, 8, 0.0, None, ()) for e in ids_for(7))


def test_expert_diagnostics_expert_with_no_reviews():
    totals = panel([3, 0, -3])
    totals[:, 1] = NAN
    diagnostics = expert_diagnostics(totals, ids_for(3))
    assert diagnostics[1] == ExpertDiagnostic("E01", 0, None, None, ())
    assert diagnostics[0].leniency == pytest.approx(6.0, abs=TOLERANCE)
    assert diagnostics[2].leniency == pytest.approx(-6.0, abs=TOLERANCE)
    assert_matches_reference(diagnostics, totals)


def test_expert_diagnostics_accepts_nested_lists():
    diagnostics = expert_diagnostics([[80, 70], [60, 65]], ("A", "B"))
    assert [d.leniency for d in diagnostics] == [2.5, -2.5]


# --- results ----------------------------------------------------------------------------------


def test_expert_diagnostic_to_dict_is_json_round_trip():
    totals = panel([0, 1, -1, 2])
    totals[:, 3] = totals[::-1, 3]
    as_dicts = [d.to_dict() for d in expert_diagnostics(totals, ids_for(4))]
    assert json.loads(json.dumps(as_dicts)) == as_dicts
    assert as_dicts[3] == {
        "expert": "E03",
        "reviews": 10,
        "leniency": as_dicts[3]["leniency"],
        "consistency": -1.0,
        "flags": ["inconsistent"],
    }
    assert type(as_dicts[3]["leniency"]) is float


def test_expert_diagnostic_is_frozen():
    diagnostic = expert_diagnostics(np.array([[70.0, 80.0]]), ["A", "B"])[0]
    with pytest.raises(AttributeError):
        diagnostic.flags = ("lenient",)


def test_docstring_examples_run():
    assert doctest.testmod(scoring.experts).failed == 0
