"""The header helpers shared by the roster and target-table importers."""

from __future__ import annotations

import doctest

import pytest

from webapp.core import importing
from webapp.core.importing import header_columns, header_key


def test_doctests():
    result = doctest.testmod(importing)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("text", "units", "key"),
    [
        ("会员数", "人个", "会员数"),
        ("*会员数(人)", "人个", "会员数"),
        ("※会员数/人:", "人个", "会员数"),
        ("会员数(人)/个", "人个", "会员数"),  # notes repeat
        ("会员数/家", "人个", "会员数/家"),  # not a unit of this table
        ("规模以上工业企业数/家", "家个", "规模以上工业企业数"),
        ("(备注)", "", ""),
    ],
)
def test_header_key_strips_markers_and_trailing_units(text, units, key):
    assert header_key(text, units) == key


def test_header_columns_keep_the_first_column_of_a_field():
    fields = {"名称": "name", "会员数": "members"}
    columns, labels = header_columns(
        ["序号", "名称", " 会员数 ", "名称"], lambda v: fields.get(v.strip()), lambda v: v.strip()
    )
    assert columns == {"name": 1, "members": 2}
    assert labels == {"name": "名称", "members": "会员数"}
