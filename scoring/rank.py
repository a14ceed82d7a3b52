"""Ranking (DESIGN §8 rule 6): total high-to-low, then each tie-break criterion high-to-low, then earlier
submission; applications still equal share a rank, competition style (1, 2, 2, 4)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "LastColumnFold",
    "RankKeys",
    "competition_ranks",
    "fold_last_column",
    "packed_sort_is_quick",
    "radix_order",
    "submission_order",
]


@dataclass(frozen=True)
class RankKeys:
    """Integer sort keys for the ranked applications, every one "higher is better".

    Attributes
    ----------
    columns : tuple of ndarray of int64
        Most significant first (total, tie-breaks, reversed submission order). Values are >= 0.
    ranges : tuple of int
        An exclusive upper bound of each column, used to pack the keys into one integer.
    """

    columns: tuple[np.ndarray, ...]
    ranges: tuple[int, ...]


def submission_order(times: Sequence[object | None]) -> np.ndarray:
    """Dense order of submission times (0 = earliest; equal times share a value; None is latest)."""
    known = sorted({t for t in times if t is not None})  # type: ignore[type-var]
    position = {t: i for i, t in enumerate(known)}
    return np.array([len(known) if t is None else position[t] for t in times], dtype=np.int64)


RADIX_MIN = 2048  # below this many rows one comparison sort is as quick


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


@dataclass(frozen=True)
class LastColumnFold:
    """The order of rows by the last key column alone, computed once for many rankings that share it.

    Attributes
    ----------
    positions : ndarray of int64
        Position of each row when sorted by the last column (best first, ties by index).
    row_at : ndarray of int64
        The inverse: the row at each position.
    """

    positions: np.ndarray
    row_at: np.ndarray


def fold_last_column(keys: RankKeys) -> LastColumnFold | None:
    """Precompute :class:`LastColumnFold` for ``keys`` (None if it cannot be packed)."""
    last, r = keys.columns[-1], keys.ranges[-1]
    n = last.shape[0]
    index_bits = _bits(n)
    if _bits(r) + index_bits > 62:
        return None
    packed = np.sort(((r - 1 - last) << index_bits) | np.arange(n, dtype=np.int64))
    row_at = packed & ((1 << index_bits) - 1)
    positions = np.empty(n, dtype=np.int64)
    positions[row_at] = np.arange(n, dtype=np.int64)
    return LastColumnFold(positions, row_at)


def competition_ranks(
    keys: RankKeys, fold: LastColumnFold | None = None, *, digit_passes: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Competition ranks for rows compared by ``keys``.

    Parameters
    ----------
    keys : RankKeys
        One column per comparison level; rows equal on every column share a rank.
    fold : LastColumnFold, optional
        :func:`fold_last_column` of ``keys``, if already known.
    digit_passes : bool, optional
        For many rows whose key packs into one 64-bit word with the row index: sort by stable 16-bit
        digit passes (True) or by one sort of the packed words (False). The result is the same; the
        default takes whichever :func:`packed_sort_is_quick` finds quicker on this machine.

    Returns
    -------
    ranks : ndarray of int64
        1-based rank of each row.
    order : ndarray of int64
        Rows best first; rows of equal rank keep their index order.

    Examples
    --------
    >>> k = RankKeys((np.array([90, 80, 80, 70]),), (91,))
    >>> competition_ranks(k)[0].tolist()
    [1, 2, 2, 4]
    """
    if not keys.columns:
        raise ValueError("at least one key column is needed")
    n = keys.columns[0].shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    index_bits = _bits(n)
    mask = (1 << index_bits) - 1
    head_bits = sum(_bits(r) for r in keys.ranges[:-1])
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    key_bits = head_bits + _bits(keys.ranges[-1])
    fits_word = key_bits + index_bits <= 64
    digits_apply = n >= RADIX_MIN and key_bits <= 63
    if fits_word and digits_apply and digit_passes is None:
        digit_passes = not packed_sort_is_quick()  # measured only where there is a choice
    if fits_word and not (digits_apply and digit_passes):
        # Packed keys are (largest − composite, index): one ascending (SIMD) sort of unsigned 64-bit
        # words puts the best row first, equal rows in index order.
        packed = _composite(keys.columns, keys.ranges).view(np.uint64)
        np.subtract(np.uint64((1 << key_bits) - 1), packed, out=packed)
        packed <<= np.uint64(index_bits)
        packed |= np.arange(n, dtype=np.uint64)
        packed.sort()
        order = (packed & np.uint64(mask)).view(np.int64)
        sorted_keys = packed >> np.uint64(index_bits)
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new_group[1:])
    elif digits_apply:
        # (largest − composite) by stable passes over its 16-bit digits, least significant first (a
        # counting sort each): best row first, equal rows in index order (as the packed sort above),
        # in O(n) per pass
        sorted_keys = _composite(keys.columns, keys.ranges)
        np.subtract((1 << key_bits) - 1, sorted_keys, out=sorted_keys)
        order = radix_order(sorted_keys, key_bits)
        sorted_keys = sorted_keys[order]
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new_group[1:])
    elif head_bits + index_bits <= 62 and (fold is not None or (fold := fold_last_column(keys)) is not None):
        # the last column is folded into a precomputed position (its order with ties by index)
        packed = -_composite(keys.columns[:-1], keys.ranges[:-1])
        packed <<= index_bits
        packed |= fold.positions
        packed.sort()
        order = fold.row_at[packed & mask]
        sorted_keys = packed >> index_bits
        last = keys.columns[-1][order]
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new_group[1:])
        new_group[1:] |= last[1:] != last[:-1]
    else:
        order = np.lexsort((np.arange(n),) + tuple(-c for c in reversed(keys.columns)))
        new_group[1:] = False
        for column in keys.columns:
            sc = column[order]
            new_group[1:] |= sc[1:] != sc[:-1]
    # each row's rank is the position of its group's first row (+1), repeated over the group
    first = np.flatnonzero(new_group)
    sizes = np.empty_like(first)
    np.subtract(first[1:], first[:-1], out=sizes[:-1])
    sizes[-1] = n - first[-1]
    first += 1
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.repeat(first, sizes)
    return ranks, order


def radix_order(key: np.ndarray, bits: int) -> np.ndarray:
    """Stable ascending order of non-negative int64 keys below ``2**bits``: one stable pass per 16-bit
    digit, least significant first (numpy's lexsort of 16-bit keys, a counting sort per key).

    Examples
    --------
    >>> radix_order(np.array([70000, 3, 70000, 1]), 17).tolist()
    [3, 1, 0, 2]
    """
    n_digits = max(-(-bits // 16), 1)
    if n_digits == 1:
        return np.argsort(key.astype(np.uint16), kind="stable")
    # the 16-bit digits, least significant first, one contiguous row each
    words = np.ascontiguousarray(key, dtype="<i8")
    digits = np.ascontiguousarray(words.view("<u2").reshape(-1, 4)[:, :n_digits].T)
    return np.lexsort(digits)


@lru_cache(maxsize=1)
def packed_sort_is_quick() -> bool:
    """Whether one sort of packed 64-bit words is quicker here than stable passes over 16-bit digits.

    Both give the same order; only the time differs. numpy sorts 64-bit words with SIMD, which on most
    x86 processors takes a few nanoseconds per word and beats three digit passes; on some (AMD Zen 4,
    whose AVX-512 compress-store is microcoded) the same sort is several times slower and the digit
    passes win. Measured once per process on a fixed sample (best of three each).
    """
    words = np.random.default_rng(0).integers(0, 1 << 47, 1 << 14)
    best_sort = best_passes = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        np.sort(words)
        t1 = time.perf_counter()
        radix_order(words, 47)
        t2 = time.perf_counter()
        best_sort, best_passes = min(best_sort, t1 - t0), min(best_passes, t2 - t1)
    return best_sort <= best_passes


def _composite(columns: tuple[np.ndarray, ...], ranges: tuple[int, ...]) -> np.ndarray:
    """The key columns packed into one integer per row: Σ column · (product of the later ranges)."""
    composite = columns[0].astype(np.int64)  # a fresh array: callers change it in place
    for column, r in zip(columns[1:], ranges[1:], strict=True):
        composite *= r
        composite += column
    return composite
