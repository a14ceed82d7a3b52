"""A second, deliberately plain implementation of DESIGN §8 (rules 1–8), used to check the engine.

Plain Python only: dicts, loops, ``fractions.Fraction``; one application at a time; no code of
``scoring`` except the parsed rubric's fields and, for rule 7, numpy's bit generator (the documented
draw procedure, so the same seed gives the same resamples).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from functools import cmp_to_key

import numpy as np

BEIJING = timezone(timedelta(hours=8))


def half_up(value: Fraction, decimals: int) -> Fraction:
    """Round half away from zero (values here are >= 0) to ``decimals`` places, as a Fraction."""
    scaled = value * 10**decimals
    return Fraction(math.floor(scaled + Fraction(1, 2)), 10**decimals)


def dec(value: Fraction | None, decimals: int) -> Decimal | None:
    if value is None:
        return None
    q = Decimal(1).scaleb(-decimals)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(q)


def curve_at(curve, x: Fraction) -> Fraction:
    points = [(Fraction(a), Fraction(b)) for a, b in curve]
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def formula_points(criterion, figures: dict) -> tuple[Fraction, list[str], list[str]]:
    missing: list[str] = []
    top = Fraction(0)
    bottom = Fraction(0)
    for term in criterion.terms:

        def fig(key):
            value = figures.get(key)
            if value is None:
                if key not in missing:
                    missing.append(key)
                return Fraction(0)
            return Fraction(Decimal(str(value)))

        numerator = fig(term.numerator)
        if term.denominator is not None:
            denominator = fig(term.denominator)
            if denominator == 0:
                continue
            x = numerator / denominator
        else:
            x = numerator
        top += Fraction(term.weight) * curve_at(term.curve, x)
        bottom += Fraction(term.weight)
    if bottom == 0:
        return Fraction(0), missing, [criterion.key]
    return Fraction(criterion.max) * top / bottom, missing, []


def when(value):
    if value is None or value == "":
        return None
    moment = (
        value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


def retained_reviews(rubric, reviews: list) -> list:
    """reviews: list of (t, expert, scores) sorted by (t, expert)."""
    agg = rubric.aggregation
    n = len(reviews)
    if agg.method == "trimmed_mean" and n >= agg.trim_min_experts:
        return reviews[1 : n - 1]
    if agg.method == "median":
        if n % 2 == 1:
            return [reviews[n // 2]]
        return [reviews[n // 2 - 1], reviews[n // 2]]
    return list(reviews)


def app_scores(rubric, reviews: list, figures: dict) -> dict:
    """Rules 2–5 for one application. reviews sorted by (t, expert)."""
    d = rubric.aggregation.decimals
    ranked = len(reviews) >= rubric.aggregation.min_experts
    kept = retained_reviews(rubric, reviews) if ranked else []
    criteria: dict[str, Fraction | None] = {}
    missing: list[str] = []
    not_applicable: list[str] = []
    for criterion in rubric.criteria:
        if criterion.kind == "expert":
            if not ranked:
                criteria[criterion.key] = None
                continue
            total = sum((Fraction(scores[criterion.key]) for _, _, scores in kept), Fraction(0))
            criteria[criterion.key] = half_up(total / len(kept), d)
        else:
            points, miss, na = formula_points(criterion, figures)
            criteria[criterion.key] = half_up(points, d)
            missing += [m for m in miss if m not in missing]
            not_applicable += na
    total = sum(criteria.values(), Fraction(0)) if ranked else None
    return {
        "ranked": ranked,
        "criteria": criteria,
        "total": total,
        "retained": [e for _, e, _ in kept],
        "missing": missing,
        "not_applicable": not_applicable,
    }


def better(rubric, a: dict, b: dict) -> bool:
    """True when a ranks strictly before b (rule 6)."""
    if a["total"] != b["total"]:
        return a["total"] > b["total"]
    for key in rubric.aggregation.tie_break:
        if a["criteria"][key] != b["criteria"][key]:
            return a["criteria"][key] > b["criteria"][key]
    ta, tb = a["submitted"], b["submitted"]
    if ta == tb:
        return False
    if ta is None:
        return False
    if tb is None:
        return True
    return ta < tb


def competition(rubric, entries: dict) -> dict:
    """Rank = 1 + the number of entries strictly better: entries sorted with :func:`better` as the
    comparison, each one either shares the rank of the one before it (neither is better) or takes its
    own position."""

    def compare(a, b) -> int:
        if better(rubric, entries[a], entries[b]):
            return -1
        return 1 if better(rubric, entries[b], entries[a]) else 0

    order = sorted(entries, key=cmp_to_key(compare))
    ranks: dict = {}
    for i, a in enumerate(order):
        tied = i > 0 and not better(rubric, entries[order[i - 1]], entries[a])
        ranks[a] = ranks[order[i - 1]] if tied else i + 1
    return ranks


def allocation(rubric, ranked: list, budget=None, count=None) -> dict:
    """ranked: list of (application, rank, total Fraction). Returns awards and flags."""
    rule = rubric.allocation
    budget = rule.budget if budget is None else budget
    count = rule.count if count is None else count
    pool = sorted(ranked, key=lambda e: (e[1], e[0]))
    pool = [e for e in pool if (rule.min_score is None or e[2] >= Fraction(rule.min_score))]
    pool = [e for e in pool if count is None or e[1] <= count]

    def amounts(entries):
        if rule.policy == "fixed":
            return [rule.amount for _ in entries]
        if not entries:
            return []
        lo = min(e[2] for e in entries)
        hi = max(e[2] for e in entries)
        if lo == hi:
            return [rule.amount_max for _ in entries]
        return [
            rule.amount_min
            + rule.step
            * math.floor(Fraction(rule.amount_max - rule.amount_min) * (e[2] - lo) / (hi - lo) / rule.step)
            for e in entries
        ]

    dropped: list = []
    current = amounts(pool)
    while budget is not None and pool and sum(current) > budget:
        worst = pool[-1][1]
        dropped = [e for e in pool if e[1] == worst]
        pool = [e for e in pool if e[1] != worst]
        current = amounts(pool)
    tied: list[str] = []
    if pool and count is not None:
        worst = pool[-1][1]
        group = [e for e in pool if e[1] == worst]
        if worst + len(group) - 1 > count:
            tied = [e[0] for e in group]
    if not tied and len(dropped) > 1:
        tied = [e[0] for e in dropped]
    flags = (["tie_at_cutoff"] if tied else []) + (["budget_limited"] if dropped else [])
    return {
        "awards": [(e[0], e[1], e[2], amt) for e, amt in zip(pool, current, strict=True)],
        "total_amount": sum(current),
        "flags": flags,
        "tied": tied,
        "cutoff": pool[-1][1] if pool else None,
    }


def draws(seed, replicates: int, counts: list[int], chunk: int = 25) -> list[list[list[int]]]:
    """The documented resampling: positions per replicate, per ranked application, per draw.

    ``counts`` are the ranked applications' review counts, in the documented order (by count, then id).
    """
    n_chunks = -(-replicates // chunk)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    slots = sum(counts)
    out = []
    for k in range(n_chunks):
        reps = min(chunk, replicates - k * chunk)
        raw = np.random.SFC64(children[k]).random_raw((reps * slots + 1) // 2)
        halves = []
        for w in (int(v) for v in raw):
            halves.append(w & 0xFFFFFFFF)
            halves.append(w >> 32)
        positions = [[[] for _ in counts] for _ in range(reps)]
        i = 0
        for n in sorted(set(counts)):
            group = [a for a, c in enumerate(counts) if c == n]
            for _j in range(n):
                for r in range(reps):
                    for a in group:
                        positions[r][a].append((halves[i] * n) >> 32)
                        i += 1
        out.extend(positions)
    return out


def reference_result(
    rubric, scores, indicators, applications=None, bootstrap=0, seed=None, budget=None, count=None
) -> dict:
    """result.json (without experts and reliability) computed the plain way."""
    d = rubric.aggregation.decimals
    expert_keys = [c.key for c in rubric.expert_criteria]
    info = {}
    if applications is not None:
        for app, _name, _group, submitted in applications:
            info[app] = when(submitted)
    reviews: dict[str, dict[str, dict[str, Decimal]]] = {}
    for app, expert, criterion, score in scores:
        reviews.setdefault(app, {}).setdefault(expert, {})[criterion] = Decimal(str(score))
    figures: dict[str, dict] = {}
    for app, key, value in indicators:
        figures.setdefault(app, {})[key] = None if value in (None, "") else Decimal(str(value))
    apps = sorted(set(info) | set(reviews) | set(figures))
    sorted_reviews = {}
    for app in apps:
        rows = []
        for expert, sc in reviews.get(app, {}).items():
            t = sum((sc[k] for k in expert_keys), Decimal(0))
            rows.append((t, expert, sc))
        rows.sort(key=lambda r: (r[0], r[1]))
        sorted_reviews[app] = rows
    entries = {}
    for app in apps:
        e = app_scores(rubric, sorted_reviews[app], figures.get(app, {}))
        e["submitted"] = info.get(app)
        entries[app] = e
    ranked_entries = {a: e for a, e in entries.items() if e["ranked"]}
    ranks = competition(rubric, ranked_entries)
    point = allocation(rubric, [(a, ranks[a], e["total"]) for a, e in ranked_entries.items()], budget, count)
    cutoff = point["cutoff"]

    intervals: dict[str, tuple[int, int]] = {}
    funded: dict[str, int] = dict.fromkeys(apps, 0)
    if bootstrap:
        # the documented draw order: by number of reviews, then application id
        ranked_apps = sorted(
            (a for a in apps if entries[a]["ranked"]), key=lambda a: (len(sorted_reviews[a]), a)
        )
        counts = [len(sorted_reviews[a]) for a in ranked_apps]
        history: dict[str, list[int]] = {a: [] for a in ranked_apps}
        for replicate in draws(seed, bootstrap, counts):
            rep_entries = {}
            for a, positions in zip(ranked_apps, replicate, strict=True):
                resample = [sorted_reviews[a][p] for p in sorted(positions)]
                e = app_scores(rubric, resample, figures.get(a, {}))
                e["submitted"] = info.get(a)
                rep_entries[a] = e
            rep_ranks = competition(rubric, rep_entries)
            for a in ranked_apps:
                history[a].append(rep_ranks[a])
                ok = cutoff is not None and rep_ranks[a] <= cutoff
                if ok and rubric.allocation.min_score is not None:
                    ok = rep_entries[a]["total"] >= Fraction(rubric.allocation.min_score)
                funded[a] += ok
        for a in ranked_apps:
            values = sorted(history[a])
            k5 = max(math.ceil(Fraction(5 * bootstrap, 100)), 1)
            k95 = max(math.ceil(Fraction(95 * bootstrap, 100)), 1)
            intervals[a] = (values[k5 - 1], values[k95 - 1])

    expert_max = sum((Fraction(c.max) for c in rubric.expert_criteria), Fraction(0))
    out = []
    for app in apps:
        e = entries[app]
        flags = []
        if not e["ranked"]:
            flags.append("insufficient_reviews")
        flags += [f"missing_indicator:{k}" for k in [i.key for i in rubric.indicators] if k in e["missing"]]
        flags += [f"not_applicable:{k}" for k in e["not_applicable"]]
        ts = [Fraction(r[0]) for r in sorted_reviews[app]]
        if ts and max(ts) - min(ts) > expert_max / 4:
            flags.append("high_disagreement")
        interval = intervals.get(app)
        if bootstrap and interval is not None and cutoff is not None and interval[0] <= cutoff < interval[1]:
            flags.append("boundary")
        if app in point["tied"]:
            flags.append("tie_at_cutoff")
        p_funded = None
        if bootstrap:
            p_funded = dec(half_up(Fraction(funded[app], bootstrap), 4), 4)
        out.append(
            {
                "application": app,
                "rank": ranks.get(app),
                "total": dec(e["total"], d),
                "criteria": {k: dec(v, d) for k, v in e["criteria"].items()},
                "reviews": len(sorted_reviews[app]),
                "retained": e["retained"],
                "rank_interval": list(interval) if interval else None,
                "p_funded": p_funded,
                "flags": flags,
            }
        )
    out.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["application"]))
    return {"rubric": rubric.id, "method": rubric.aggregation.method, "applications": out}


def reference_awards(rubric, result: dict, budget=None, count=None) -> dict:
    ranked = [
        (a["application"], a["rank"], Fraction(a["total"]))
        for a in result["applications"]
        if a["rank"] is not None
    ]
    alloc = allocation(rubric, ranked, budget, count)
    d = rubric.aggregation.decimals
    return {
        "awards": [
            {"application": a, "rank": r, "total": dec(t, d), "amount": amount}
            for a, r, t, amount in alloc["awards"]
        ],
        "total_amount": alloc["total_amount"],
        "flags": alloc["flags"],
    }
