"""Bootstrap of the ranking (DESIGN §8 rule 7).

Each replicate resamples every ranked application's reviews with replacement (as many draws as it has
reviews), applies rules 2–6 and ranks again. Reported per application: the 5th and 95th percentile rank
(nearest-rank method: the ⌈0.05·B⌉-th and ⌈0.95·B⌉-th smallest of the B replicate ranks) and the share of
replicates in which it is funded (rank <= the allocation's cutoff rank and total >= min_score).

Why it is fast: an application's reviews are already sorted by (t, expert id), so a resample is just a
multiset of positions in that sorted list. The trimmed mean of a resample is "sum of all draws minus the
draws at the smallest and the largest position"; no resample is ever sorted (the median sorts only the
n small positions). The expert criteria of a review are packed into one or two 64-bit integers, so one
gather and n − 1 additions sum every criterion at once; applications with the same number of reviews are
processed together as one (replicates × applications × n) array; rule 5 is a table look-up; the chunks run
on two threads (numpy releases the GIL) and each thread reuses its buffers, block by block, in cache.

Random draws, for reproducibility: replicates are processed in chunks of ``CHUNK`` (replicate r belongs to
chunk r // CHUNK); chunk k uses ``numpy.random.SFC64(numpy.random.SeedSequence(seed).spawn(K)[k])``, takes
``random_raw`` 64-bit words viewed as little-endian 32-bit halves, one per draw. The ranked applications
are ordered by number of reviews, then application id, and grouped by number of reviews n; the chunk's
draws go group after group, and within a group draw index j (0..n−1) after draw index, then replicate
after replicate, then application after application. A 32-bit value u drawn for an application with n
reviews picks sorted position ``(u * n) >> 32``.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .aggregate import ExpertAggregate, pack_layout, pack_rows, round_mean_units, rounding_tables
from .rank import RankKeys, competition_ranks, fold_last_column

__all__ = ["BootstrapResult", "bootstrap_ranks", "CHUNK"]

CHUNK = 25
BLOCK = 5  # replicates processed together inside a chunk (keeps the working arrays in cache)


@dataclass(frozen=True)
class BootstrapResult:
    """Per application, in application code order; 0 for applications that are not ranked."""

    p5: np.ndarray  # int64, 0 where not ranked
    p95: np.ndarray
    funded: np.ndarray  # number of replicates funded
    replicates: int


def percentile_positions(replicates: int) -> tuple[int, int]:
    """0-based positions of the nearest-rank 5th and 95th percentiles among ``replicates`` values."""
    k5 = -(-5 * replicates // 100)
    k95 = -(-95 * replicates // 100)
    return max(k5, 1) - 1, max(k95, 1) - 1


def bootstrap_ranks(
    *,
    agg: ExpertAggregate,
    units: np.ndarray,
    max_units: list[int],
    method: str,
    trim_min_experts: int | None,
    places: int,
    decimals: int,
    fixed_units: np.ndarray,
    tie_break: list[tuple[str, int]],
    formula_units: np.ndarray,
    submission: np.ndarray,
    cutoff_rank: int | None,
    min_score_units: int | None,
    replicates: int,
    seed: int | None,
    workers: int | None = None,
) -> BootstrapResult:
    """Run rule 7. Internal: called by :func:`scoring.engine.rank_applications`.

    Parameters
    ----------
    agg : ExpertAggregate
        Rules 1–3 on the observed reviews (gives the sorted order and which applications are ranked).
    units : ndarray (n_reviews, n_expert_criteria)
        Scores in units of ``10**-places``, input row order.
    max_units : list of int
        Each expert criterion's max in those units.
    fixed_units : ndarray (n_applications,)
        Formula points of each application (rounded, ``10**-decimals`` units), unaffected by resampling.
    tie_break : list of (kind, column)
        ("expert", i) or ("formula", j) for each tie-break criterion.
    cutoff_rank, min_score_units : int or None
        The funding cutoff (from the allocation on the observed ranking).
    """
    n_apps = agg.n_reviews.shape[0]
    ranked_apps = np.flatnonzero(agg.ranked)
    a_r = ranked_apps.size
    p5 = np.zeros(n_apps, dtype=np.int64)
    p95 = np.zeros(n_apps, dtype=np.int64)
    funded = np.zeros(n_apps, dtype=np.int64)
    if replicates <= 0 or a_r == 0:
        return BootstrapResult(p5, p95, funded, max(replicates, 0))

    # applications grouped by their number of reviews (then in application order): within a group every
    # resample has the same shape, so sums, minima and maxima are a few whole-array operations
    ranked_apps = ranked_apps[np.argsort(agg.n_reviews[ranked_apps], kind="stable")]
    counts = agg.n_reviews[ranked_apps]
    starts = agg.starts[ranked_apps]
    slots = int(counts.sum())
    seg = np.cumsum(counts) - counts  # each ranked app's first slot
    group_n, group_first = np.unique(counts, return_index=True)
    group_last = np.append(group_first[1:], a_r)
    groups = [
        (int(n), int(a0), int(a1), int(seg[a0]))
        for n, a0, a1 in zip(group_n.tolist(), group_first.tolist(), group_last.tolist(), strict=True)
    ]

    sorted_units = units[agg.order].astype(np.int64)
    layout = pack_layout(max_units, int(counts.max()), 62)
    packed = pack_rows(sorted_units, layout)

    # reviews retained in every resample of each application (rule 2)
    if method == "trimmed_mean":
        kept = np.where(counts >= trim_min_experts, counts - 2, counts)
    elif method == "median":
        kept = np.where(counts % 2 == 1, 1, 2)
    else:
        kept = counts
    fixed = fixed_units[ranked_apps].astype(np.int64)
    tb_fixed = {j: formula_units[ranked_apps, j] for kind, j in tie_break if kind == "formula"}
    total_range = int(fixed.max()) + 1 + _rounded_bound(max_units, places, decimals)
    expert_ranges = [_rounded_bound([m], places, decimals) + 1 for m in max_units]
    sub = submission[ranked_apps]
    sub_range = int(sub.max()) + 1
    sub_key = (sub_range - 1 - sub).astype(np.int64)

    # the submission order is the same in every replicate: fold it into row positions once
    fold = fold_last_column(RankKeys((sub_key,), (sub_range,)))
    n_chunks = -(-replicates // CHUNK)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    ranks_all = np.empty((replicates, a_r), dtype=np.int32)
    funded_parts: list[np.ndarray] = [np.zeros(a_r, dtype=np.int64) for _ in range(n_chunks)]

    # rule 5 by table look-up: rounded mean of a criterion for each (retained count, sum of units)
    tables = rounding_tables(max_units, kept, places, decimals)
    need = {j for kind, j in tie_break if kind == "expert"}
    ranges = [total_range]
    for kind, j in tie_break:
        ranges.append(expert_ranges[j] if kind == "expert" else int(formula_units[:, j].max()) + 1)
    ranges.append(sub_range)

    def tie_columns(expert_rounded: dict[int, np.ndarray]) -> list[np.ndarray]:
        return [expert_rounded[j] if kind == "expert" else tb_fixed[j] for kind, j in tie_break]

    local = threading.local()
    block_slots = min(BLOCK, replicates) * slots

    def _buffers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # one set per thread, reused for every block: fresh large arrays would cost a page fault per 4 KiB
        if not hasattr(local, "buffers"):
            local.buffers = tuple(np.empty(block_slots, dtype=np.uint64) for _ in range(3))
        return local.buffers

    def resample_sums(
        u: np.ndarray, n: int, a0: int, a1: int, outs: list[np.ndarray], buffers: tuple[np.ndarray, ...]
    ) -> None:
        """Sums of the retained draws of applications a0..a1 (all with n reviews), per packed word.

        ``u`` holds the block's 32-bit draws as (draw, replicate, application): every draw j is one
        contiguous (replicate, application) array, so sums, minima and maxima run along long rows.
        """
        reps, a_g = u.shape[1], a1 - a0
        size = n * reps * a_g
        x = buffers[0][:size].reshape(n, reps, a_g)
        g = buffers[1][:size].reshape(n, reps, a_g)
        values = buffers[2][:size].view(np.int64).reshape(n, reps, a_g)
        # the position drawn for an application with n reviews: (u * n) >> 32
        np.copyto(x, u)
        x *= np.uint64(n)
        x >>= np.uint64(32)
        base = starts[a0:a1].astype(np.uint64)
        if method == "median":
            x.sort(axis=0)  # the sorted resample (reviews are presorted by t, expert)
            g_lo = (x[(n - 1) // 2] + base).view(np.int64)
            g_hi = (x[n // 2] + base).view(np.int64)
            for w, out in zip(packed, outs, strict=True):
                out[:, a0:a1] = np.take(w, g_lo, mode="clip")
                if n % 2 == 0:
                    out[:, a0:a1] += np.take(w, g_hi, mode="clip")
            return
        np.add(x, base, out=g)  # position among all sorted reviews
        g_signed = g.view(np.int64)
        for w, out in zip(packed, outs, strict=True):
            np.take(w, g_signed, out=values, mode="clip")
            acc = values[0].copy()
            for j in range(1, n):
                acc += values[j]
            out[:, a0:a1] = acc
        if method == "trimmed_mean" and n >= trim_min_experts:
            # drop the first and the last review of the sorted resample: its smallest and largest
            # drawn positions
            lo = g_signed[0].copy()
            hi = g_signed[0].copy()
            for j in range(1, n):
                np.minimum(lo, g_signed[j], out=lo)
                np.maximum(hi, g_signed[j], out=hi)
            for w, out in zip(packed, outs, strict=True):
                out[:, a0:a1] -= np.take(w, lo, mode="clip") + np.take(w, hi, mode="clip")

    def run_chunk(k: int) -> None:
        first = k * CHUNK
        reps = min(CHUNK, replicates - first)
        bitgen = np.random.SFC64(children[k])
        n_draws = reps * slots
        raw = bitgen.random_raw((n_draws + 1) // 2)
        u = raw.view(np.uint32)[:n_draws]
        # each group of applications with n reviews owns a contiguous run of the chunk's draws,
        # laid out (draw, replicate, application)
        group_draws = {
            n: u[reps * s0 : reps * (s0 + (a1 - a0) * n)].reshape(n, reps, a1 - a0)
            for n, a0, a1, s0 in groups
        }
        buffers = _buffers()
        funded_here = np.zeros(a_r, dtype=np.int64)
        # block by block, so that the arrays of a block stay in cache from resampling to ranking
        for b0 in range(0, reps, BLOCK):
            b1 = min(b0 + BLOCK, reps)
            word_sums = [np.empty((b1 - b0, a_r), dtype=np.int64) for _ in packed]
            for n, a0, a1, _ in groups:
                resample_sums(group_draws[n][:, b0:b1], n, a0, a1, word_sums, buffers)
            total = np.broadcast_to(fixed, (b1 - b0, a_r)).copy()
            expert_rounded: dict[int, np.ndarray] = {}
            for word, sums in zip(layout, word_sums, strict=True):
                for c, shift, width in word:
                    crit_sum = sums >> shift
                    crit_sum &= (1 << width) - 1
                    if tables[c] is not None:
                        table, offsets = tables[c]
                        crit_sum += offsets
                        rounded = np.take(table, crit_sum, mode="clip")
                    else:
                        rounded = round_mean_units(crit_sum, kept, places, decimals)
                    total += rounded
                    if c in need:
                        expert_rounded[c] = rounded
            block_ranks = ranks_all[first + b0 : first + b1]
            for r in range(b1 - b0):
                columns = [total[r]] + [c if c.ndim == 1 else c[r] for c in tie_columns(expert_rounded)]
                block_ranks[r] = competition_ranks(RankKeys((*columns, sub_key), tuple(ranges)), fold)[0]
            if cutoff_rank is not None:
                ok = block_ranks <= cutoff_rank
                if min_score_units is not None:
                    ok &= total >= min_score_units
                funded_here += ok.sum(axis=0)
        funded_parts[k] = funded_here

    n_workers = workers or min(2, os.cpu_count() or 1)
    if n_workers > 1 and n_chunks > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            list(pool.map(run_chunk, range(n_chunks)))
    else:
        for k in range(n_chunks):
            run_chunk(k)

    i5, i95 = percentile_positions(replicates)
    by_app = np.ascontiguousarray(ranks_all.T)
    part = np.partition(by_app, sorted({i5, i95}), axis=1)
    p5[ranked_apps] = part[:, i5]
    p95[ranked_apps] = part[:, i95]
    funded[ranked_apps] = np.sum(funded_parts, axis=0)
    return BootstrapResult(p5, p95, funded, replicates)


def _rounded_bound(max_units: list[int], places: int, decimals: int) -> int:
    """Upper bound of the sum of rounded expert criterion scores in ``10**-decimals`` units."""
    total = 0
    for m in max_units:
        total += int(round_mean_units(np.array([m]), np.array([1]), places, decimals)[0])
    return total
