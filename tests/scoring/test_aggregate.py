"""aggregate_reviews: the packed-key path and the sorted fallback agree; rounding helpers are exact."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math
import platform
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.aggregate import (
    _FACTOR_SCALE,
    _RESULT_SCALE,
    _converted_products,
    _count_guess,
    _in_place_products,
    _packed_sums,
    _products_agree,
    _round_step_means,
    _word_plan,
    aggregate_reviews,
    pack_layout,
    round_mean_units,
    rounding_tables,
    sort_reviews,
    subnormals_honoured,
)

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


@pytest.mark.parametrize(
    "kept",
    [
        [5, 5, 3, 0, 1, 7],  # a small range of counts: one table row per count in the range
        [3, 200, 3, 0, 5],  # a wide range with few counts: table rows only for the counts present
        [3, 200, 7, 9, 11] + list(range(20, 220, 4)),  # too many: the means are rounded directly
    ],
)
def test_round_step_means_agrees_with_direct_rounding(kept):
    rng = np.random.default_rng(len(kept))
    kept = np.array(kept, dtype=np.int64)
    step_units, max_steps = [5, 25, 1], [30, 2, 150]
    sums = np.stack([rng.integers(0, kept * m + 1) for m in max_steps])
    expected = [round_mean_units(sums[c] * step_units[c], kept, 1, 2) for c in range(3)]
    got = _round_step_means(sums.copy(), kept, step_units, max_steps, 1, 2)
    assert np.array_equal(got, np.stack(expected))


@pytest.mark.parametrize("kept", [0, 1, 5, 9000])  # 9000 × 150 steps: too large a table, rounded directly
def test_round_step_means_with_one_count_for_every_application(kept):
    rng = np.random.default_rng(kept)
    step_units, max_steps = [5, 25, 1], [30, 2, 150]
    sums = np.stack([rng.integers(0, kept * m + 1, 40) for m in max_steps])
    expected = [round_mean_units(sums[c] * step_units[c], np.full(40, kept), 1, 2) for c in range(3)]
    got = _round_step_means(sums.copy(), kept, step_units, max_steps, 1, 2)
    assert np.array_equal(got, np.stack(expected))


def _plain_sums(rubric, app, expert, units, n_apps):
    """The integer path (the packed key cannot hold an expert range of 2**45) for comparison."""
    return aggregate_reviews(rubric, app, expert, units, n_apps, 2**45)


def _assert_packed_matches_integer_path(rubric, app, expert, units, n_apps, n_experts, counts):
    """The packed path, with the scores read in place as subnormals and with them converted, against the
    integer path."""
    plain = _plain_sums(rubric, app, expert, units, n_apps)
    for subnormal in (True, False):
        packed = aggregate_reviews(rubric, app, expert, units, n_apps, n_experts, subnormal=subnormal)
        assert np.array_equal(packed.n_reviews, counts)
        assert np.array_equal(packed.criterion_units, plain.criterion_units)
        assert np.array_equal(packed.retained, plain.retained)
        assert np.array_equal(packed.high_disagreement, plain.high_disagreement)
    return packed


@pytest.mark.parametrize("method", ["mean", "trimmed_mean"])
def test_packed_path_rebuilds_when_an_application_has_far_more_reviews_than_the_mean(method):
    # steps of 0.25 and 0.3 (25 and 30 hundredths) are not powers of two: the packed word is rounded back
    rubric = make_rubric(
        method=method,
        trim_min_experts=3 if method == "trimmed_mean" else None,
        min_experts=1,
        expert=(("a", "99.75", "0.25"), ("b", "30", "0.3"), ("c", "700", "1")),
    )
    rng = np.random.default_rng(7)
    # one application with 300 reviews, forty with one or two: the first guess overflows
    assert _count_guess((399, 100, 700), 9) < 300
    app = np.concatenate([np.zeros(300, dtype=np.int64), np.repeat(np.arange(1, 41), rng.integers(1, 3, 40))])
    expert = np.concatenate([np.arange(300), np.zeros(app.size - 300, dtype=np.int64)])
    expert[300:] = np.concatenate([np.arange(k) for k in np.bincount(app[300:])[1:]])
    units = np.stack(
        [
            25 * rng.integers(0, 400, app.size),
            30 * rng.integers(0, 101, app.size),
            100 * rng.integers(0, 701, app.size),
        ],
        axis=1,
    )
    perm = rng.permutation(app.size)
    app, expert, units = app[perm], expert[perm], np.asfortranarray(units[perm])
    assert _packed_sums(app, expert, units, 41, 300, [9975, 3000, 70000], [25, 30, 100], None) is not None
    packed = _assert_packed_matches_integer_path(
        rubric, app, expert, units, 41, 300, np.bincount(app, minlength=41)
    )
    # the exact mean of application 0's criterion a, rounded half up, from Fractions
    keep = packed.retained & (app == 0)
    exact = Fraction(int(units[keep, 0].sum()), int(keep.sum()))  # hundredths
    assert packed.criterion_units[0, 0] == math.floor(exact + Fraction(1, 2))


def test_count_guess_fills_the_words_the_mean_needs():
    # six criteria of 30, 20, 20, 20, 5 and 20 steps: sums of up to 12 reviews fit one 48-bit word
    # (9 + 4 × 8 + 6 bits); 13 reviews would need 9 + 4 × 9 + 7 = 52 bits, a second word
    steps = (30, 20, 20, 20, 5, 20)
    assert _count_guess(steps, 7) == 12
    assert len(pack_layout(list(steps), 12, 48)) == 1
    assert len(pack_layout(list(steps), 13, 48)) == 2
    # three criteria leave room: the guess grows as far as one word (and the count field on top) allows
    guess = _count_guess((30, 20, 20), 7)
    assert len(pack_layout([30, 20, 20], guess, 48)) == 1
    assert len(pack_layout([30, 20, 20], guess + 1, 48)) == 2 or _count_guess((30, 20, 20), guess + 1) is None
    # a single field wider than a word cannot be packed: the integer path is used instead
    assert _count_guess((2**47,), 4) is None


@pytest.mark.parametrize("method", ["mean", "trimmed_mean"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_packed_path_with_many_criteria_and_odd_steps_matches_integer_path(method, seed):
    rng = np.random.default_rng(seed)
    steps = ["0.3", "0.25", "0.5", "1", "0.1", "2", "0.75"]
    expert = []
    for i in range(15):
        step = steps[i % len(steps)]
        expert.append((f"c{i}", str(Decimal(step) * int(rng.integers(1, 120))), step))
    rubric = make_rubric(
        method=method,
        trim_min_experts=4 if method == "trimmed_mean" else None,
        min_experts=2,
        expert=tuple(expert),
    )
    places = 2
    n_apps = 200
    counts = rng.integers(0, 12, n_apps)
    app = np.repeat(np.arange(n_apps), counts)
    expert_ids = np.concatenate([rng.permutation(40)[:k] for k in counts])
    units = np.stack(
        [
            int(Decimal(s).scaleb(places)) * rng.integers(0, int(Decimal(m) / Decimal(s)) + 1, app.size)
            for _, m, s in expert
        ],
        axis=1,
    )
    perm = rng.permutation(app.size)
    app, expert_ids, units = app[perm], expert_ids[perm], np.asfortranarray(units[perm])
    max_units = [int(c.max.scaleb(places)) for c in rubric.expert_criteria]
    step_units = [int(c.step.scaleb(places)) for c in rubric.expert_criteria]
    assert _packed_sums(app, expert_ids, units, n_apps, 40, max_units, step_units, None) is not None
    _assert_packed_matches_integer_path(rubric, app, expert_ids, units, n_apps, 40, counts)


@pytest.mark.parametrize("method", ["mean", "trimmed_mean"])
def test_packed_path_over_several_blocks_matches_integer_path(method):
    # more review rows than two blocks of the product, with a part block at the end; scores on
    # few steps, so that reviewer totals tie often and rule 2's expert order decides across blocks
    from scoring.aggregate import BLOCK_ROWS

    rubric = make_rubric(
        method=method,
        trim_min_experts=5 if method == "trimmed_mean" else None,
        min_experts=3,
        expert=(("a", "4", "1"), ("b", "3", "0.5"), ("c", "2", "1")),
    )
    rng = np.random.default_rng(11)
    n_apps = (2 * BLOCK_ROWS + 5000) // 6
    counts = rng.integers(2, 11, n_apps)
    app = np.repeat(np.arange(n_apps), counts)
    assert app.size > 2 * BLOCK_ROWS and app.size % BLOCK_ROWS
    expert = np.concatenate([rng.permutation(60)[:k] for k in counts])
    units = np.stack(
        [10 * rng.integers(0, 5, app.size), 5 * rng.integers(0, 7, app.size), 10 * rng.integers(0, 3, app.size)],
        axis=1,
    )
    perm = rng.permutation(app.size)
    app, expert, units = app[perm], expert[perm], np.asfortranarray(units[perm])
    _assert_packed_matches_integer_path(rubric, app, expert, units, n_apps, 60, counts)


def _product_in_place(units, plan):
    """The product of the packed path as it reads the scores in place (before the check of a sample)."""
    out = np.matmul(units.view(np.float64), plan.factors * _FACTOR_SCALE)
    out[:, :-1] *= _RESULT_SCALE
    np.rint(out[:, :-1], out=out[:, :-1])
    return out


def test_scores_read_in_place_as_subnormals_give_the_exact_packed_integers():
    rng = np.random.default_rng(5)
    step_units, max_steps = (25, 30, 100, 5), (399, 100, 700, 30)
    units = np.asfortranarray(
        np.stack([s * rng.integers(0, m + 1, 5000) for s, m in zip(step_units, max_steps, strict=True)], 1)
    )
    plan = _word_plan(max_steps, step_units, 9, 20)
    out = _product_in_place(units, plan)
    assert _products_agree(units, out, plan, samples=5000)  # every row checked
    exact = [sum((units[:, c] // step_units[c]) << shift for c, shift, _ in word) for word in plan.layout]
    for i, word in enumerate(exact):
        assert np.array_equal(out[:, i], word)
    assert np.array_equal(out[:, -1] * _RESULT_SCALE, units.sum(axis=1) << 20)


def test_a_product_that_read_scores_as_zero_is_caught_by_the_sample():
    # a thread in "denormals are zero" mode reads every score of its rows as 0; the sample of rows
    # compared with exact arithmetic sees it, in the words or in the key alone
    rng = np.random.default_rng(6)
    step_units, max_steps = (5, 5, 10), (30, 20, 10)
    units = np.asfortranarray(
        np.stack([s * rng.integers(1, m + 1, 40000) for s, m in zip(step_units, max_steps, strict=True)], 1)
    )
    plan = _word_plan(max_steps, step_units, 12, 27)
    good = _product_in_place(units, plan)
    assert _products_agree(units, good, plan)
    for rows, columns in ((slice(20000, None), slice(None)), (slice(None, 20000), slice(-1, None))):
        bad = good.copy()
        bad[rows, columns] = 0.0
        assert not _products_agree(units, bad, plan)


@contextlib.contextmanager
def _denormals_are_zero():
    """This thread in the SSE "denormals are zero" mode (glibc, x86-64), restored on leaving."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    saved = ctypes.create_string_buffer(32)  # fenv_t; MXCSR is its last 4 bytes
    assert libm.fegetenv(saved) == 0
    mxcsr = int.from_bytes(saved.raw[28:32], "little") | 0x40
    assert libm.fesetenv(ctypes.create_string_buffer(saved.raw[:28] + mxcsr.to_bytes(4, "little"), 32)) == 0
    try:
        yield
    finally:
        libm.fesetenv(saved)
    assert subnormals_honoured()


_X86_GLIBC = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or platform.libc_ver()[0] != "glibc",
    reason="sets the SSE control register through glibc's fesetenv",
)


@_X86_GLIBC
def test_the_sample_check_rejects_a_product_that_read_the_scores_as_zero():
    # the product itself run in "denormals are zero" mode (on this thread: blocks this small stay on
    # the calling thread): every score reads as 0, and the sample of rows says so
    rng = np.random.default_rng(9)
    step_units, max_steps = (5, 10, 25), (40, 10, 8)
    n = 30000
    units = np.asfortranarray(
        np.stack([s * rng.integers(0, m + 1, n) for s, m in zip(step_units, max_steps, strict=True)], 1)
    )
    expert = rng.integers(0, 60, n)
    row_bits, key_shift = 15, 21
    plan = _word_plan(max_steps, step_units, 9, key_shift)
    converted = np.empty((n, len(plan.layout) + 1), order="F")
    _converted_products(units, expert, plan.factors, row_bits, converted)
    out = np.empty_like(converted)
    with _denormals_are_zero():
        flushed = _in_place_products(units, expert, plan, row_bits, out)
    assert not flushed
    assert _in_place_products(units, expert, plan, row_bits, out)
    out[:, -1] *= _RESULT_SCALE
    assert np.array_equal(out, converted)


@_X86_GLIBC
def test_denormals_are_zero_mode_falls_back_to_converted_scores():
    rubric = make_rubric(
        method="trimmed_mean",
        trim_min_experts=4,
        min_experts=2,
        expert=(("a", "10", "0.5"), ("b", "5", "1"), ("c", "20", "0.25")),
    )
    rng = np.random.default_rng(8)
    n_apps = 300
    counts = rng.integers(2, 9, n_apps)
    app = np.repeat(np.arange(n_apps), counts)
    expert = np.concatenate([rng.permutation(30)[:k] for k in counts])
    units = np.asfortranarray(
        np.stack([50 * rng.integers(0, 21, app.size), 100 * rng.integers(0, 6, app.size), 25 * rng.integers(0, 81, app.size)], 1)
    )
    expected = aggregate_reviews(rubric, app, expert, units, n_apps, 30, subnormal=False)
    with _denormals_are_zero():
        assert not subnormals_honoured()
        got = aggregate_reviews(rubric, app, expert, units, n_apps, 30, subnormal=True)
    assert np.array_equal(got.criterion_units, expected.criterion_units)
    assert np.array_equal(got.retained, expected.retained)
    assert np.array_equal(got.high_disagreement, expected.high_disagreement)
