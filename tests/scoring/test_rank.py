"""competition_ranks on every internal path (one packed sort, 16-bit digit passes, folded last column,
lexsort) against a plain count of strictly better rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.rank import RankKeys, competition_ranks, fold_last_column, submission_order


def plain_ranks(columns: list[list[int]]) -> list[int]:
    rows = list(zip(*columns, strict=True))
    return [1 + sum(1 for other in rows if other > row) for row in rows]


@pytest.mark.parametrize(
    "ranges",
    [
        (100,),  # everything packs into one sort
        (2**20, 2**20, 2**20),  # the last column is folded
        (2**40, 2**30, 2**30),  # too wide: lexsort
    ],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_competition_ranks_match_plain_count(ranges, data):
    n = data.draw(st.integers(1, 40))
    # few distinct values so that ties are common
    columns = [data.draw(st.lists(st.sampled_from([0, 1, r - 1]), min_size=n, max_size=n)) for r in ranges]
    keys = RankKeys(tuple(np.array(c, dtype=np.int64) for c in columns), ranges)
    ranks, order = competition_ranks(keys)
    assert ranks.tolist() == plain_ranks(columns)
    assert sorted(order.tolist()) == list(range(n))
    assert ranks[order].tolist() == sorted(ranks.tolist())
    # equal ranks keep index order
    for a, b in zip(order[:-1], order[1:], strict=True):
        if ranks[a] == ranks[b]:
            assert a < b


def test_competition_ranks_with_precomputed_fold():
    columns = (np.array([5, 5, 5, 1]), np.array([0, 2**20 - 1, 0, 7]))
    keys = RankKeys(columns, (2**40, 2**20))
    fold = fold_last_column(keys)
    assert competition_ranks(keys, fold)[0].tolist() == [2, 1, 2, 4]


def test_competition_ranks_empty_and_single():
    assert competition_ranks(RankKeys((np.zeros(0, dtype=np.int64),), (1,)))[0].tolist() == []
    assert competition_ranks(RankKeys((np.array([3]),), (4,)))[0].tolist() == [1]


def test_competition_ranks_needs_a_column():
    with pytest.raises(ValueError, match="at least one key column"):
        competition_ranks(RankKeys((), ()))


def test_submission_order_dense_with_missing_latest():
    assert submission_order([3, None, 1, 3]).tolist() == [1, 2, 0, 1]


@pytest.mark.parametrize(
    "ranges",
    [
        (9000, 2001, 900, 5000),  # 48 key bits + 13 index bits: one packed sort, or digit passes
        (70000,),
        (2**17, 2**17, 2**17),  # 51 + 13 = 64 bits: the packed sort on unsigned words, full width
        (2**20, 2**20, 2**20),  # 60 + 13 bits: radix passes
    ],
)
@pytest.mark.parametrize("digit_passes", [None, False, True])
def test_large_rankings_match_a_lexsort(ranges, digit_passes):
    from scipy.stats import rankdata

    from scoring.rank import RADIX_MIN

    rng = np.random.default_rng(len(ranges))
    n = 3 * RADIX_MIN
    # a narrow spread of totals, so that many rows tie on the first columns
    columns = [rng.integers(max(r - 300, 0), r, n) for r in ranges]
    ranks, order = competition_ranks(RankKeys(tuple(columns), ranges), digit_passes=digit_passes)
    expected_order = np.lexsort((np.arange(n),) + tuple(-c for c in reversed(columns)))
    assert order.tolist() == expected_order.tolist()
    composite = np.zeros(n, dtype=object)
    for c, r in zip(columns, ranges, strict=True):
        composite = composite * r + c.astype(object)
    expected = rankdata([-int(v) for v in composite], method="min")
    assert ranks.tolist() == expected.astype(int).tolist()


def test_packed_sort_choice_is_measured_once():
    from scoring.rank import packed_sort_is_quick

    assert isinstance(packed_sort_is_quick(), bool)
    assert packed_sort_is_quick.cache_info().currsize == 1


def test_radix_order_is_stable():
    from scoring.rank import radix_order

    key = np.array([5, 1 << 40, 5, 0, 1 << 40, 5], dtype=np.int64)
    assert radix_order(key, 41).tolist() == [3, 0, 2, 5, 1, 4]
    assert radix_order(key & 0xFFFF, 16).tolist() == [1, 3, 4, 0, 2, 5]
