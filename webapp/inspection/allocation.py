"""Allocating the year's national building targets to units in proportion to a basis (任务分配).

Seed 002: CAST "根据各地现有企业数量情况将组建任务分配到各地科协" — the national target (2014: 6,000 new
enterprise associations, 15,000 liaison enterprises) is shared among units by their number of regulated
industrial enterprises (规模以上工业企业数). ``largest_remainder`` does it with the Hamilton
(largest-remainder) method, so the parts are whole numbers that sum exactly to the national target:

1. each unit's exact quota is ``total × basis / Σbasis`` (a ``Fraction``, no floating point);
2. each unit first gets the floor of its quota;
3. the units still unallocated (``total − Σfloor``, always fewer than the units with a fractional part)
   go one each to the largest fractional remainders.

Ties in step 3 are broken by the larger basis first, then by the unit code in ascending string order, so
the result depends only on the input, never on dict insertion order. Every unit therefore gets the floor
or the ceiling of its quota, and a unit with a larger basis never gets less than one with a smaller basis.

Pure module: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Share", "largest_remainder"]


@dataclass(frozen=True)
class Share:
    key: str  # unit code
    basis: int  # e.g. regulated enterprises (≥ 0)
    quota: Fraction  # exact T × basis / Σbasis
    allocated: int  # floor(quota) or floor(quota) + 1; the allocations sum exactly to T


def largest_remainder(total: int, basis: Mapping[str, int]) -> list[Share]:
    """Share ``total`` among the keys of ``basis`` in proportion to their basis (Hamilton method).

    Returns one ``Share`` per key, in the mapping's key order. Raises ``ValueError`` (the message names
    the problem) for a negative or non-integer total, an empty mapping, a negative or non-integer basis,
    or an all-zero basis with ``total > 0`` (nothing to share by). With ``total == 0`` every unit gets 0.
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValueError(f"total must be an integer, got {total!r}")
    if total < 0:
        raise ValueError(f"total must not be negative, got {total}")
    if not basis:
        raise ValueError("basis is empty: there are no units to allocate to")
    for key, value in basis.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"basis of {key!r} must be an integer, got {value!r}")
        if value < 0:
            raise ValueError(f"basis of {key!r} must not be negative, got {value}")
    whole = sum(basis.values())
    if whole == 0:
        if total > 0:
            raise ValueError(f"every basis is zero, so a total of {total} cannot be shared in proportion")
        return [Share(key, value, Fraction(0), 0) for key, value in basis.items()]

    quotas = {key: Fraction(total * value, whole) for key, value in basis.items()}
    allocated = {key: quota.numerator // quota.denominator for key, quota in quotas.items()}
    left = total - sum(allocated.values())
    # Sorting the keys first makes the order independent of insertion order even for equal sort keys.
    order = sorted(
        sorted(basis),
        key=lambda key: (-(quotas[key] - allocated[key]), -basis[key], key),
    )
    for key in order[:left]:
        allocated[key] += 1
    return [Share(key, value, quotas[key], allocated[key]) for key, value in basis.items()]
