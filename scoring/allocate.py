"""Allocation of money to the ranked applications (DESIGN §8 rule 8).

Awardees are ranked applications with total >= min_score and rank <= count. ``fixed`` gives ``amount``
each; ``linear`` gives ``amount_min + step × ⌊(amount_max − amount_min) × (s − s_low)/(s_high − s_low) / step⌋``
on the exact rounded totals (``amount_max`` for all when s_high = s_low). While the sum exceeds the budget
the lowest-ranked group (every application of a tied rank) is dropped and the amounts recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .numbers import to_decimal
from .rubric import Allocation as AllocationRule
from .rubric import Rubric

__all__ = ["Allocation", "Award", "allocate", "allocate_ranked"]


@dataclass(frozen=True)
class Award:
    """One proposed award."""

    application: str
    rank: int
    total: Decimal
    amount: int

    def to_json(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "rank": self.rank,
            "total": self.total,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class Allocation:
    """The proposed awards (awards.json).

    Attributes
    ----------
    awards : tuple of Award
        In rank order (ties by application id).
    total_amount : int
        Sum of the amounts, in yuan.
    flags : tuple of str
        ``tie_at_cutoff`` when a tied group at the cutoff was kept together beyond ``count`` or dropped
        together by the budget loop; ``budget_limited`` when the budget loop dropped a group.
    tied : tuple of str
        Applications of the tied group at the cutoff.
    cutoff_rank : int or None
        The lowest rank funded (None when nobody is).
    rule : rubric.Allocation
        The allocation parameters used (the rubric's, with any overrides).
    """

    awards: tuple[Award, ...]
    total_amount: int
    flags: tuple[str, ...]
    tied: tuple[str, ...]
    cutoff_rank: int | None
    rule: AllocationRule

    def to_json(self) -> dict[str, Any]:
        """The awards.json document (amounts are whole yuan, totals exact decimals)."""
        return {
            "awards": [a.to_json() for a in self.awards],
            "total_amount": self.total_amount,
            "flags": list(self.flags),
        }


def _amounts(rule: AllocationRule, totals: Sequence[Decimal]) -> list[int]:
    if rule.policy == "fixed":
        assert rule.amount is not None
        return [rule.amount] * len(totals)
    assert rule.amount_min is not None and rule.amount_max is not None and rule.step is not None
    if not totals:
        return []
    low, high = min(totals), max(totals)
    if low == high:
        return [rule.amount_max] * len(totals)
    span = rule.amount_max - rule.amount_min
    out = []
    for s in totals:
        steps = math.floor(Fraction(span) * Fraction(s - low) / Fraction(high - low) / rule.step)
        out.append(rule.amount_min + rule.step * steps)
    return out


def allocate_ranked(rule: AllocationRule, ranked: Sequence[tuple[str, int, Decimal]]) -> Allocation:
    """Rule 8 on ranked entries ``(application, rank, total)``; see :func:`allocate`."""
    entries = sorted(ranked, key=lambda e: (e[1], e[0]))
    candidates = [
        e
        for e in entries
        if (rule.min_score is None or e[2] >= rule.min_score) and (rule.count is None or e[1] <= rule.count)
    ]
    flags: list[str] = []
    tied: list[str] = []
    dropped: list[tuple[str, int, Decimal]] = []
    while True:
        amounts = _amounts(rule, [e[2] for e in candidates])
        if rule.budget is None or sum(amounts) <= rule.budget or not candidates:
            break
        last_rank = candidates[-1][1]
        dropped = [e for e in candidates if e[1] == last_rank]
        candidates = [e for e in candidates if e[1] != last_rank]
    if dropped:
        flags.append("budget_limited")
    if candidates and rule.count is not None:
        last_rank = candidates[-1][1]
        group = [e for e in candidates if e[1] == last_rank]
        if last_rank + len(group) - 1 > rule.count:
            tied = [e[0] for e in group]
    if not tied and len(dropped) > 1:
        tied = [e[0] for e in dropped]
    if tied:
        flags.insert(0, "tie_at_cutoff")
    awards = tuple(Award(e[0], e[1], e[2], a) for e, a in zip(candidates, amounts, strict=True))
    return Allocation(
        awards=awards,
        total_amount=sum(a.amount for a in awards),
        flags=tuple(flags),
        tied=tuple(tied),
        cutoff_rank=awards[-1].rank if awards else None,
        rule=rule,
    )


_OVERRIDABLE = ("amount", "amount_min", "amount_max", "step", "min_score")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    number = to_decimal(value, what=name)
    if number != number.to_integral_value() or number <= 0:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(number)


def allocation_rule(
    rubric: Rubric, budget: object = None, count: object = None, amounts: Mapping[str, object] | None = None
) -> AllocationRule:
    """The rubric's allocation parameters with the given overrides, validated."""
    rule = rubric.allocation
    changes: dict[str, Any] = {}
    if budget is not None:
        changes["budget"] = _positive_int("budget", budget)
    if count is not None:
        changes["count"] = _positive_int("count", count)
    for key, value in (amounts or {}).items():
        if key not in _OVERRIDABLE:
            raise ValueError(f"unknown allocation parameter {key!r}; use one of {', '.join(_OVERRIDABLE)}")
        if key == "min_score":
            ms = to_decimal(value, what="min_score")
            if ms < 0:
                raise ValueError(f"min_score must be >= 0, got {value!r}")
            changes[key] = ms
        else:
            changes[key] = _positive_int(key, value)
    rule = replace(rule, **changes)
    if rule.policy == "fixed" and rule.amount is None:
        raise ValueError("policy fixed needs amount")
    if rule.policy == "linear":
        if rule.amount_min is None or rule.amount_max is None or rule.step is None:
            raise ValueError("policy linear needs amount_min, amount_max and step")
        if rule.amount_min > rule.amount_max:
            raise ValueError(f"amount_min {rule.amount_min} exceeds amount_max {rule.amount_max}")
        if (rule.amount_max - rule.amount_min) % rule.step:
            raise ValueError(f"step {rule.step} does not divide amount_max - amount_min")
    return rule


def _ranked_from_result(rubric: Rubric, result: Any) -> list[tuple[str, int, Decimal]]:
    data = result.to_json() if hasattr(result, "to_json") else result
    if not isinstance(data, Mapping) or not isinstance(data.get("applications"), list):
        raise ValueError("result must be a RankResult or a result.json document with an 'applications' list")
    if data.get("rubric") != rubric.id:
        raise ValueError(f"result was computed with rubric {data.get('rubric')!r}, not {rubric.id!r}")
    out = []
    for i, entry in enumerate(data["applications"], start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("application"), str):
            raise ValueError(f"applications[{i}] has no application id")
        rank, total = entry.get("rank"), entry.get("total")
        if rank is None:
            continue
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise ValueError(
                f"applications[{i}] ({entry['application']}): rank must be a positive whole number"
            )
        out.append((entry["application"], rank, to_decimal(total, what=f"applications[{i}].total")))
    return out


def allocate(
    rubric: Rubric,
    result: Any,
    budget: int | Decimal | None = None,
    count: int | None = None,
    amounts: Mapping[str, int | Decimal] | None = None,
) -> Allocation:
    """Propose awards for a ranking (rule 8).

    Parameters
    ----------
    rubric : Rubric
        Its ``[allocation]`` table gives the policy and defaults.
    result : RankResult or dict
        The ranking (a :class:`scoring.engine.RankResult` or a parsed result.json).
    budget, count : int, optional
        Override the rubric's budget and count (a what-if).
    amounts : mapping, optional
        Override amount parameters: ``amount`` (fixed), ``amount_min``, ``amount_max``, ``step``
        (linear), or ``min_score``.

    Returns
    -------
    Allocation

    Raises
    ------
    ValueError
        For a result of another rubric, or bad overrides.

    Examples
    --------
    >>> from scoring.rubric import parse_rubric, EXAMPLE_RUBRIC
    >>> r = parse_rubric(EXAMPLE_RUBRIC)
    >>> res = {"rubric": "example", "applications": [
    ...     {"application": "A", "rank": 1, "total": Decimal("90")},
    ...     {"application": "B", "rank": 2, "total": Decimal("80")}]}
    >>> allocate(r, res, budget=150000).to_json()["total_amount"]
    100000
    """
    if not isinstance(rubric, Rubric):
        raise TypeError("rubric must be a Rubric")
    rule = allocation_rule(rubric, budget, count, amounts)
    return allocate_ranked(rule, _ranked_from_result(rubric, result))
