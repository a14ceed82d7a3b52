"""Amounts of money in Chinese financial capitals (人民币大写), as finance offices write them on vouchers.

The rules are those of the People's Bank of China for filling in bills and settlement vouchers (《支付结算办法》,
正确填写票据和结算凭证的基本规定). Where the rules allow two forms, the shorter common one is used:

- digits 壹贰叁肆伍陆柒捌玖, places 拾佰仟 within a group of four, groups 万 and 亿, then 元角分;
- 10–19 keep the 壹: 壹拾元整, 壹拾伍万元整;
- a run of zeros between two written digits is one 零 (壹仟零肆元), also across a group that is all zero
  (壹亿零壹元整) or a group that starts with zeros (壹拾万零壹拾元整); a group whose 仟 is written needs no
  零 even when the group above ends in zeros (壹拾万柒仟元整);
- 元 is followed by 整 when there are neither 角 nor 分; nothing follows 角 or 分;
- 角 zero and 分 not zero: 零 after 元 (壹佰零壹元零伍分); 元 zero and 角 not zero: no 零 (壹拾万元伍角);
- below one yuan the 元 is left out (伍角, 伍分, 伍角伍分); zero is 零元整.

Amounts are rounded half-up to the fen first. Negative amounts and amounts above 999,999,999,999.99 are refused.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["MAX_AMOUNT", "amount_in_words"]

MAX_AMOUNT = Decimal("999999999999.99")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")  # within a group of four digits
_GROUPS = ("", "万", "亿")  # groups of four digits, lowest first
_FEN = Decimal("0.01")


def amount_in_words(amount: Decimal | int | str) -> str:
    """Return ``amount`` (yuan) in Chinese financial capitals.

    >>> amount_in_words(Decimal("1234567.89"))
    '壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分'
    >>> amount_in_words(150000)
    '壹拾伍万元整'
    >>> amount_in_words("101.05")
    '壹佰零壹元零伍分'
    """
    value = _to_fen(amount)
    fen_total = int(value * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    words = _integer_words(yuan) + "元" if yuan else ""
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif fen and yuan:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    if not cents:
        words = (words or "零元") + "整"
    return words


def _to_fen(amount: Decimal | int | str) -> Decimal:
    """Validate ``amount`` and round it half-up to the fen."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise TypeError(f"amount must be a Decimal, int or str, not {type(amount).__name__}: {amount!r}")
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except InvalidOperation:
        raise ValueError(f"amount is not a number: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"amount is not a finite number: {amount!r}")
    if value < 0:
        raise ValueError(f"amount must not be negative: {amount!r}")
    value = value.quantize(_FEN, rounding=ROUND_HALF_UP) if value < 10**13 else value
    if value > MAX_AMOUNT:
        raise ValueError(f"amount exceeds {MAX_AMOUNT}: {amount!r}")
    return value


def _integer_words(number: int) -> str:
    """Words for a whole number 1 ≤ number < 10**12, without 元."""
    groups = []  # lowest first
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    words = ""
    zero_pending = False  # zeros seen since the last written digit
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(words)
            continue
        if words and group < 1000:  # the group starts with zeros
            zero_pending = True
        for place in range(3, -1, -1):
            digit = group // 10**place % 10
            if digit == 0:
                zero_pending = zero_pending or bool(words)
                continue
            if zero_pending:
                words += "零"
                zero_pending = False
            words += _DIGITS[digit] + _PLACES[place]
        words += _GROUPS[index]
        zero_pending = False  # trailing zeros of a group are carried by its unit (万, 亿)
    return words
