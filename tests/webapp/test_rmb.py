"""Amounts in Chinese financial capitals (人民币大写): a hand-written table, the refusals, and a round trip."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from webapp.exports.rmb import MAX_AMOUNT, amount_in_words

# Written from the rules by hand, not from the function's output.
TABLE = [
    # zero, and the smallest amounts
    (0, "零元整"),
    ("0.00", "零元整"),
    ("0.01", "壹分"),
    ("0.05", "伍分"),
    ("0.5", "伍角"),
    ("0.56", "伍角陆分"),
    (1, "壹元整"),
    # 10–19 keep the 壹
    (10, "壹拾元整"),
    (15, "壹拾伍元整"),
    (19, "壹拾玖元整"),
    (110, "壹佰壹拾元整"),
    (1010, "壹仟零壹拾元整"),
    (110000, "壹拾壹万元整"),
    (150000, "壹拾伍万元整"),
    (200000, "贰拾万元整"),
    # zeros in the middle: one 零 per run
    (101, "壹佰零壹元整"),
    ("1004.56", "壹仟零肆元伍角陆分"),
    (100010, "壹拾万零壹拾元整"),
    (100700, "壹拾万零柒佰元整"),
    (107000, "壹拾万柒仟元整"),
    (10000100, "壹仟万零壹佰元整"),
    (20030400, "贰仟零叁万零肆佰元整"),
    # 万 groups that are all zero
    (1000000, "壹佰万元整"),
    (60000000, "陆仟万元整"),
    (100000000, "壹亿元整"),
    (100000001, "壹亿零壹元整"),
    (100001000, "壹亿零壹仟元整"),
    (1000010000, "壹拾亿零壹万元整"),
    (500000000000, "伍仟亿元整"),
    (100010000000, "壹仟亿壹仟万元整"),
    (100001000000, "壹仟亿零壹佰万元整"),
    # 角 without 分 (no 整 after 角), 分 without 角 (零X分)
    ("100000.5", "壹拾万元伍角"),
    ("1680.30", "壹仟陆佰捌拾元叁角"),
    ("101.05", "壹佰零壹元零伍分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("1000.07", "壹仟元零柒分"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # half-up to the fen
    ("0.004", "零元整"),
    ("0.005", "壹分"),
    ("2.675", "贰元陆角捌分"),
    ("9.995", "壹拾元整"),
    ("  300  ", "叁佰元整"),
]


@pytest.mark.parametrize(("amount", "expected"), TABLE)
def test_amount_in_words_table(amount, expected):
    assert amount_in_words(amount) == expected


def test_amount_in_words_table_covers_types_and_size():
    assert len(TABLE) >= 25
    assert amount_in_words(Decimal("150000")) == amount_in_words(150000) == amount_in_words("150000.00")


@pytest.mark.parametrize(
    "amount", [-1, "-0.01", Decimal("-0.005"), Decimal("1000000000000"), "999999999999.995"]
)
def test_amount_in_words_out_of_range_names_value(amount):
    with pytest.raises(ValueError) as error:
        amount_in_words(amount)
    assert str(amount) in str(error.value)


@pytest.mark.parametrize("amount", ["", "abc", "1,000", "NaN", "Infinity"])
def test_amount_in_words_not_a_number_names_value(amount):
    with pytest.raises(ValueError) as error:
        amount_in_words(amount)
    assert repr(amount) in str(error.value)


@pytest.mark.parametrize("amount", [1.5, True, None])
def test_amount_in_words_other_types_refused(amount):
    with pytest.raises(TypeError):
        amount_in_words(amount)


# An independent reader of 大写 amounts, strict enough to reject what the rules forbid.
_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_PLACE = {"拾": 10, "佰": 100, "仟": 1000}
_GROUP = {"万": 10**4, "亿": 10**8}


def parse_capitals(words: str) -> Decimal:
    """Read a 大写 amount back into yuan; raises AssertionError on anything malformed."""
    if words == "零元整":
        return Decimal(0)
    body = words.removesuffix("整")
    assert "整" not in body
    assert body.endswith("元") == words.endswith("整"), f"整 follows 元 and only 元 in {words}"
    assert "零零" not in body
    yuan = fen = section = big = 0
    digit = None
    previous = ""
    for char in body:
        if char == "零":
            assert digit is None and previous not in ("", "零")
        elif char in _DIGIT:
            assert digit is None
            digit = _DIGIT[char]
        elif char in _PLACE:
            assert digit is not None, f"{char} without a digit (壹拾, not 拾) in {words}"
            section += digit * _PLACE[char]
            digit = None
        elif char in _GROUP:
            assert previous != "零"
            big += (section + (digit or 0)) * _GROUP[char]
            section, digit = 0, None
        elif char == "元":
            assert previous != "零"
            yuan = big + section + (digit or 0)
            section = big = 0
            digit = None
        elif char in "角分":
            assert digit is not None
            fen += digit * (10 if char == "角" else 1)
            digit = None
        else:
            raise AssertionError(f"unexpected {char!r} in {words}")
        previous = char
    assert digit is None and section == big == 0
    return Decimal(yuan) + Decimal(fen) / 100


def test_parse_capitals_reads_the_table():
    for amount, words in TABLE:
        expected = Decimal(str(amount).strip()).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert parse_capitals(words) == expected


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100)))
@example(0)
@example(int(MAX_AMOUNT * 100))
@example(10_000_000_001)
def test_amount_in_words_round_trip(fen):
    amount = Decimal(fen).scaleb(-2)
    words = amount_in_words(amount)
    assert parse_capitals(words) == amount
    assert words.endswith("整") == (fen % 100 == 0)
    assert words.endswith(("整", "角", "分"))
    if fen >= 100 and fen % 100 and fen % 100 < 10:
        assert "元零" in words  # 分 without 角
    assert not words.startswith("零") or words == "零元整"


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=4, allow_nan=False, allow_infinity=False))
def test_amount_in_words_rounds_half_up(amount):
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded > MAX_AMOUNT:
        return
    assert parse_capitals(amount_in_words(amount)) == rounded
    assert amount_in_words(str(amount)) == amount_in_words(rounded)


@pytest.mark.parametrize(
    "words", ["拾元整", "壹佰零零壹元整", "壹拾万零元整", "壹元伍角整", "壹佰元伍", "壹拾万元整整"]
)
def test_parse_capitals_rejects_malformed(words):
    with pytest.raises(AssertionError):
        parse_capitals(words)
