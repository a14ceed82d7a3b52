"""Benchmark of the award list export against pandas ``DataFrame.to_excel`` (openpyxl) writing the same sheets.

A synthetic campaign: 20,000 awards and 20,000 breakdown rows with 9 criteria. Each writer runs in a fresh
process (``spawn``) so that its peak resident memory is its own: the process builds the same inputs from the
same seed, records its peak RSS, writes the workbook to bytes, and records the peak again. The pandas
baseline builds its two DataFrames (the same columns, 大写 included) inside the timing and writes values only,
without number formats, widths or print setup, so it does less work than ours.

Each writer is timed in ``RUNS`` fresh processes, the two writers taking turns so that both see the same load
(best time, largest peak), then once more with tracemalloc for the peak of Python allocations during the
write. Prints what it measured; asserts nothing. Run: ``python bench/bench_exports.py``.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import sys
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp.exports.award_list import (  # noqa: E402
    AWARD_HEADERS,
    BREAKDOWN_HEADERS,
    SHEET_AWARDS,
    SHEET_BREAKDOWN,
    AwardRow,
    BreakdownRow,
    award_list_xlsx,
)
from webapp.exports.rmb import amount_in_words  # noqa: E402

N_AWARDS = 20_000
N_BREAKDOWN = 20_000
N_CRITERIA = 9
RUNS = 3
SEED = 2014
MB = 1024 * 1024


def make_inputs():
    rng = random.Random(SEED)
    criteria = [
        (f"c{i}", f"评分指标{i}", Decimal(rng.choice([10, 15, 20]))) for i in range(1, N_CRITERIA + 1)
    ]
    categories = ["省级", "兵团", "副省级城市"]
    awards = []
    for index in range(N_AWARDS):
        pilot = index % 3 == 0
        awards.append(
            AwardRow(
                unit_code=f"{110000 + index:06d}",
                unit_name=f"第{index}号企业科学技术协会",
                category=categories[index % 3],
                program="试点示范" if pilot else "后补助",
                support_type="试点示范" if pilot else "后补助",
                score=Decimal(rng.randint(6000, 9800)) / 100,
                rank=index + 1,
                amount=Decimal(rng.choice([50_000, 100_000, 150_000, 200_000]))
                + Decimal(rng.randint(0, 99)) / 100,
                matching_funds=Decimal(rng.randint(0, 10_000_000)) / 100 if index % 5 else None,
                payee_name=f"某某企业科学技术协会{index}",
                bank="中国工商银行股份有限公司北京分行营业部",
                account=f"{rng.randrange(10**18):019d}",
                payment_due=date(2014, 9, 30) if pilot else date(2015, 3, 31),
                remarks="=1+1" if index % 1000 == 0 else "",
            )
        )
    breakdown = [
        BreakdownRow(
            unit_code=f"{110000 + index:06d}",
            unit_name=f"第{index}号企业科学技术协会",
            program="后补助",
            rank=index + 1,
            total=Decimal(rng.randint(6000, 9800)) / 100,
            criteria={key: Decimal(rng.randint(0, int(maximum) * 100)) / 100 for key, _, maximum in criteria},
        )
        for index in range(N_BREAKDOWN)
    ]
    return awards, criteria, breakdown


def write_ours(awards, criteria, breakdown) -> bytes:
    return award_list_xlsx(
        title="2014年度支持名单",
        awards=awards,
        criteria=criteria,
        breakdown=breakdown,
        register=[],
        generated_at="2014-10-08T10:00:00",
    )


def write_pandas(awards, criteria, breakdown) -> bytes:
    import io

    import pandas as pd

    award_records = [
        (
            number,
            a.unit_code,
            a.unit_name,
            a.category,
            a.program,
            a.support_type,
            None if a.score is None else float(a.score),
            a.rank,
            float(a.amount),
            amount_in_words(a.amount),
            None if a.matching_funds is None else float(a.matching_funds),
            a.payee_name,
            a.bank,
            a.account,
            a.payment_due,
            a.remarks,
        )
        for number, a in enumerate(awards, start=1)
    ]
    keys = [key for key, _, _ in criteria]
    breakdown_records = [
        (b.unit_code, b.unit_name, b.program, b.rank, None if b.total is None else float(b.total))
        + tuple(None if b.criteria.get(k) is None else float(b.criteria[k]) for k in keys)
        for b in breakdown
    ]
    criterion_headers = [f"{title}（满分 {maximum}）" for _, title, maximum in criteria]
    award_frame = pd.DataFrame.from_records(award_records, columns=list(AWARD_HEADERS))
    breakdown_frame = pd.DataFrame.from_records(
        breakdown_records, columns=list(BREAKDOWN_HEADERS) + criterion_headers
    )
    output = io.BytesIO()
    with pd.ExcelWriter(output, engine="openpyxl") as writer:
        award_frame.to_excel(writer, sheet_name=SHEET_AWARDS, index=False)
        breakdown_frame.to_excel(writer, sheet_name=SHEET_BREAKDOWN, index=False)
    return output.getvalue()


WRITERS = {"ours (xlsxwriter, constant memory)": write_ours, "pandas.to_excel (openpyxl)": write_pandas}


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def measure(name: str, trace: bool) -> dict:
    """Run in a fresh process: build the inputs, then write once and measure."""
    writer = WRITERS[name]
    if name.startswith("pandas"):
        import pandas  # noqa: F401  (imported before the baseline RSS, like our module)
    awards, criteria, breakdown = make_inputs()
    rss_before = _peak_rss_mb()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    payload = writer(awards, criteria, breakdown)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] / MB if trace else None
    tracemalloc.stop()
    return {
        "seconds": seconds,
        "rss_before": rss_before,
        "rss_peak": _peak_rss_mb(),
        "traced_peak": traced,
        "bytes": len(payload),
    }


def in_fresh_process(name: str, trace: bool = False) -> dict:
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(measure, (name, trace))


def main() -> None:
    print(f"award list: {N_AWARDS:,} awards + {N_BREAKDOWN:,} breakdown rows × {N_CRITERIA} criteria")
    print(f"each writer: best of {RUNS} fresh processes, then one with tracemalloc\n")
    # Interleaved, so that both writers see the same load on the machine.
    runs: dict[str, list[dict]] = {name: [] for name in WRITERS}
    for _ in range(RUNS):
        for name in WRITERS:
            runs[name].append(in_fresh_process(name))
    results = {}
    for name in WRITERS:
        traced = in_fresh_process(name, trace=True)
        results[name] = r = {
            "seconds": min(run["seconds"] for run in runs[name]),
            "rss_before": max(run["rss_before"] for run in runs[name]),
            "rss_peak": max(run["rss_peak"] for run in runs[name]),
            "traced_peak": traced["traced_peak"],
            "bytes": runs[name][0]["bytes"],
        }
        times = ", ".join(f"{run['seconds']:.2f}" for run in runs[name])
        print(
            f"{name:38s} {r['seconds']:7.2f} s (runs: {times})   peak RSS {r['rss_peak']:6.1f} MB "
            f"(after imports and inputs {r['rss_before']:6.1f} MB, write +{r['rss_peak'] - r['rss_before']:.1f} MB)"
            f"   tracemalloc peak {r['traced_peak']:6.1f} MB   file {r['bytes'] / MB:.1f} MB"
        )
    ours, baseline = (results[name] for name in WRITERS)
    print(f"\nratio pandas/ours: {baseline['seconds'] / ours['seconds']:.1f}× faster (target ≥ 3×)")
    print(f"ours peak RSS: {ours['rss_peak']:.1f} MB (target ≤ 200 MB)")


if __name__ == "__main__":
    main()
