"""Exact decimal helpers shared by the scoring modules.

Every rounding in the engine is half-up (四舍五入) on the exact value, never on a binary float:
``scipy``/``numpy`` round half to even and a float cannot hold 84.125 as entered.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

__all__ = ["quantum", "round_half_up", "to_decimal", "units_to_decimal", "fraction_to_decimal"]


def quantum(decimals: int) -> Decimal:
    """The smallest step at ``decimals`` places, e.g. ``Decimal('0.01')`` for 2."""
    return Decimal(1).scaleb(-decimals)


def round_half_up(value: Fraction | Decimal | int, decimals: int) -> Decimal:
    """Round an exact value half-up to ``decimals`` places.

    Parameters
    ----------
    value : Fraction, Decimal or int
        The exact value (non-negative or negative; half-up means away from zero at .5).
    decimals : int
        Places to keep.

    Returns
    -------
    Decimal
        The rounded value, quantized to ``decimals`` places.

    Examples
    --------
    >>> round_half_up(Decimal("84.125"), 2)
    Decimal('84.13')
    >>> round_half_up(Fraction(1, 3), 2)
    Decimal('0.33')
    """
    if isinstance(value, Fraction):
        scale = 10**decimals
        num = value.numerator * scale
        den = value.denominator
        # half-up away from zero on the exact rational value
        if num >= 0:
            units = (2 * num + den) // (2 * den)
        else:
            units = -((-2 * num + den) // (2 * den))
        return Decimal(units).scaleb(-decimals).quantize(quantum(decimals))
    return Decimal(value).quantize(quantum(decimals), rounding=ROUND_HALF_UP)


def floor_decimal(value: Decimal) -> Decimal:
    """Floor of a decimal, as an integral Decimal."""
    return value.to_integral_value(rounding=ROUND_FLOOR)


def to_decimal(value: object, *, what: str = "value") -> Decimal:
    """Convert an int, Decimal, exact string or finite float to ``Decimal``.

    Floats are taken by their shortest repr (``0.1`` → ``Decimal('0.1')``), which is what a person
    typed; booleans are refused.

    Raises
    ------
    ValueError
        If the value is not a finite number.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"{what} must be a number, got {value!r}") from None
    else:
        try:
            result = Decimal(repr(float(value)))  # numpy scalars
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return result


def units_to_decimal(units: int, decimals: int) -> Decimal:
    """An integer count of ``10**-decimals`` as a Decimal with exactly ``decimals`` places."""
    return Decimal(int(units)).scaleb(-decimals).quantize(quantum(decimals))


def fraction_to_decimal(value: Fraction, decimals: int) -> Decimal:
    """Alias of :func:`round_half_up` for a Fraction, for readability at call sites."""
    return round_half_up(value, decimals)
