"""Roster spot checks (抽查): how many roster entries to check, and which ones.

Seed 002 has CAST spot-check local, enterprise and park associations in October–November. For each
submitted roster a sample of entries is drawn at random, but reproducibly: ``draw_sample`` is a pure
function of the roster's row numbers, the size and an integer seed. The seed is recorded with the spot
check and shown to the office, the unit and the inspectors, so anyone can redraw the same sample and see
that it was not picked by hand::

    random.Random(seed).sample(sorted(row_numbers), size)   # then sorted for display

``new_seed`` makes a fresh seed for a new spot check. ``sample_size`` gives the default size,
``max(minimum, ⌈fraction · n⌉)`` capped at ``n`` (default: at least 5 entries, 5% of a large roster).

Pure module: no Flask, no database.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

__all__ = ["SEED_BITS", "draw_sample", "new_seed", "sample_size"]

SEED_BITS = 63  # seeds fit a signed 64-bit database column


def sample_size(n: int, *, minimum: int = 5, fraction: Fraction = Fraction(5, 100)) -> int:
    """Entries to check in a roster of ``n``: ``max(minimum, ceil(fraction · n))``, capped at ``n``.

    ``fraction`` is exact (a ``Fraction``, ``Decimal`` or ``int``; a ``float`` is read as its shortest
    decimal form, so 0.05 means 5/100). Raises ``ValueError`` for a negative ``n`` or ``minimum`` or a
    fraction outside [0, 1].
    """
    n = _count(n, "n")
    minimum = _count(minimum, "minimum")
    if isinstance(fraction, bool) or not isinstance(fraction, (Fraction, Decimal, int, float)):
        raise ValueError(f"fraction must be a number, got {fraction!r}")
    exact = Fraction(repr(fraction)) if isinstance(fraction, float) else Fraction(fraction)
    if not 0 <= exact <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    return min(n, max(minimum, math.ceil(exact * n)))


def draw_sample(row_numbers: Sequence[int], size: int, seed: int) -> list[int]:
    """The roster rows to check: ``random.Random(seed).sample(sorted(row_numbers), size)``, sorted.

    The same row numbers, size and seed always give the same sample, whatever order the row numbers come
    in. Raises ``ValueError`` for a negative size, a size larger than the roster, repeated row numbers or
    a seed that is not an integer.
    """
    size = _count(size, "size")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    rows = sorted(row_numbers)
    if len(set(rows)) != len(rows):
        raise ValueError("row_numbers contains repeated row numbers")
    if size > len(rows):
        raise ValueError(f"size {size} is larger than the roster ({len(rows)} entries)")
    return sorted(random.Random(seed).sample(rows, size))


def new_seed() -> int:
    """A fresh random seed in [0, 2**63) for a new spot check; record it with the sample."""
    return secrets.randbits(SEED_BITS)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value
