"""Bootstrap of the ranking (DESIGN §8 rule 7).

Each replicate resamples every ranked application's reviews with replacement (as many draws as it has
reviews), applies rules 2–6 and ranks again. Reported per application: the 5th and 95th percentile rank
(nearest-rank method: the ⌈0.05·B⌉-th and ⌈0.95·B⌉-th smallest of the B replicate ranks) and the share of
replicates in which it is funded (rank <= the allocation's cutoff rank and total >= min_score).

Why it is fast: an application's reviews are already sorted by (t, expert id), so a resample is just a
multiset of positions in that sorted list. The trimmed mean of a resample is "sum of all draws minus the
smallest and the largest position"; no resample is ever sorted. The expert criteria of a review are packed
into one or two 64-bit integers so that one gather and one segmented sum add all criteria at once.

Random draws, for reproducibility: replicates are processed in chunks of ``CHUNK`` (replicate r belongs to
chunk r // CHUNK); chunk k uses ``numpy.random.PCG64(numpy.random.SeedSequence(seed).spawn(K)[k])``, takes
``random_raw`` 64-bit words viewed as little-endian 32-bit halves, one per draw, laid out replicate-major,
then ranked application by application (application id order), draw by draw; a 32-bit value u drawn for
an application with n reviews picks sorted position ``(u * n) >> 32``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .aggregate import ExpertAggregate, pack_layout, pack_rows, round_mean_units
from .rank import RankKeys, competition_ranks, last_column_positions

__all__ = ["BootstrapResult", "bootstrap_ranks", "CHUNK"]

CHUNK = 25


@dataclass(frozen=True)
class BootstrapResult:
    """Per application (all applications; unranked ones get None/0)."""

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

    counts = agg.n_reviews[ranked_apps]
    starts = agg.starts[ranked_apps]
    slots = int(counts.sum())
    seg = np.cumsum(counts) - counts  # each ranked app's first slot
    slot_app = np.repeat(np.arange(a_r), counts)
    slot_base = starts[slot_app]  # position in the sorted reviews of the app's first review

    sorted_units = units[agg.order].astype(np.int64)
    layout = pack_layout(max_units, int(counts.max()), 62)
    packed = pack_rows(sorted_units, layout)

    if method == "trimmed_mean":
        trim = counts >= trim_min_experts
        kept = np.where(trim, counts - 2, counts)
    elif method == "median":
        trim = np.zeros(a_r, dtype=bool)
        kept = np.where(counts % 2 == 1, 1, 2)
    else:
        trim = np.zeros(a_r, dtype=bool)
        kept = counts
    fixed = fixed_units[ranked_apps].astype(np.int64)
    tb_fixed = {j: formula_units[ranked_apps, j] for kind, j in tie_break if kind == "formula"}
    total_range = int(fixed.max()) + 1 + _rounded_bound(max_units, places, decimals)
    expert_ranges = [_rounded_bound([m], places, decimals) + 1 for m in max_units]
    sub = submission[ranked_apps]
    sub_range = int(sub.max()) + 1
    sub_key = (sub_range - 1 - sub).astype(np.int64)

    # the submission order is the same in every replicate: fold it into row positions once
    positions = last_column_positions(RankKeys((sub_key,), (sub_range,)))
    n_chunks = -(-replicates // CHUNK)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    ranks_all = np.empty((replicates, a_r), dtype=np.int32)
    funded_parts: list[np.ndarray] = [np.zeros(a_r, dtype=np.int64) for _ in range(n_chunks)]

    # rule 5 by table look-up: rounded mean of a criterion for each (retained count, sum of units)
    tables = _rounding_tables(max_units, kept, places, decimals)
    # per-application bit masks of drawn positions give the smallest and largest draw (n <= 31)
    use_masks = int(counts.max()) <= 31
    slot_scale = counts[slot_app].astype(np.float64) * 2.0**-32
    base_app = starts.astype(np.int64)
    need = {j for kind, j in tie_break if kind == "expert"}
    ranges = [total_range]
    for kind, j in tie_break:
        ranges.append(expert_ranges[j] if kind == "expert" else int(formula_units[:, j].max()) + 1)
    ranges.append(sub_range)

    def run_chunk(k: int) -> None:
        first = k * CHUNK
        reps = min(CHUNK, replicates - first)
        bitgen = np.random.PCG64(children[k])
        n_draws = reps * slots
        raw = bitgen.random_raw((n_draws + 1) // 2)
        u = raw.view(np.uint32)[:n_draws].reshape(reps, slots)
        # (u * n) >> 32, exactly: u * n * 2**-32 is exact in float64 (u < 2**32, n < 2**20)
        idx = np.multiply(u, slot_scale).astype(np.int64)
        g = idx + slot_base
        flat_g = g.reshape(-1)
        seg_flat = (np.arange(reps)[:, np.newaxis] * slots + seg).reshape(-1)
        if method == "median":
            g_sorted = np.sort(g, axis=1)  # positions of different apps never interleave
            lo = np.take_along_axis(g_sorted, (seg + (counts - 1) // 2)[np.newaxis, :].repeat(reps, 0), 1)
            hi = np.take_along_axis(g_sorted, (seg + counts // 2)[np.newaxis, :].repeat(reps, 0), 1)
            two = (counts % 2 == 0)[np.newaxis, :]
            word_sums = [np.take(w, lo) + np.where(two, np.take(w, hi), 0) for w in packed]
        else:
            word_sums = [np.add.reduceat(np.take(w, flat_g), seg_flat).reshape(reps, a_r) for w in packed]
            if trim.any():
                if use_masks:
                    masks = np.bitwise_or.reduceat(np.left_shift(1, idx.reshape(-1)), seg_flat).reshape(
                        reps, a_r
                    )
                    lo = base_app + (np.frexp(masks & -masks)[1] - 1)
                    hi = base_app + (np.frexp(masks)[1] - 1)
                else:
                    lo = np.minimum.reduceat(flat_g, seg_flat).reshape(reps, a_r)
                    hi = np.maximum.reduceat(flat_g, seg_flat).reshape(reps, a_r)
                for s, w in zip(word_sums, packed, strict=True):
                    s -= np.where(trim, np.take(w, lo) + np.take(w, hi), 0)
        total = np.broadcast_to(fixed, (reps, a_r)).copy()
        expert_rounded: dict[int, np.ndarray] = {}
        for word, s in zip(layout, word_sums, strict=True):
            for c, shift, width in word:
                crit_sum = (s >> shift) & ((1 << width) - 1)
                if tables[c] is not None:
                    table, offsets = tables[c]
                    crit_sum += offsets
                    r = np.take(table, crit_sum)
                else:
                    r = round_mean_units(crit_sum, kept, places, decimals)
                total += r
                if c in need:
                    expert_rounded[c] = r
        for r in range(reps):
            columns = [total[r]]
            for kind, j in tie_break:
                columns.append(expert_rounded[j][r] if kind == "expert" else tb_fixed[j])
            columns.append(sub_key)
            keys = RankKeys(tuple(columns), tuple(ranges))
            ranks_all[first + r] = competition_ranks(keys, positions)[0]
        if cutoff_rank is not None:
            ok = ranks_all[first : first + reps] <= cutoff_rank
            if min_score_units is not None:
                ok &= total >= min_score_units
            funded_parts[k] = ok.sum(axis=0)

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


def _rounding_tables(
    max_units: list[int], kept: np.ndarray, places: int, decimals: int
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """For each criterion, a flat table of rounded means indexed by ``offset[app] + sum``.

    None for a criterion whose table would be too large (then rounding is computed directly)."""
    m_values, m_code = np.unique(kept, return_inverse=True)
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for mu in max_units:
        width = int(m_values.max()) * mu + 1
        if width * m_values.size > 4_000_000:
            out.append(None)
            continue
        sums = np.arange(width, dtype=np.int64)[np.newaxis, :]
        table = round_mean_units(sums, m_values[:, np.newaxis], places, decimals).reshape(-1)
        out.append((table, m_code.astype(np.int64) * width))
    return out


def _rounded_bound(max_units: list[int], places: int, decimals: int) -> int:
    """Upper bound of the sum of rounded expert criterion scores in ``10**-decimals`` units."""
    total = 0
    for m in max_units:
        total += int(round_mean_units(np.array([m]), np.array([1]), places, decimals)[0])
    return total
