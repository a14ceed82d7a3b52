"""CSV reading (encodings, line numbers) and exact JSON writing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.io import CsvError, decode_text, dumps_json, loads_json, parse_csv, write_atomic

COLUMNS = ("application", "indicator", "value")


def test_decode_text_utf8_with_and_without_bom():
    assert decode_text("北京".encode()) == ("北京", "utf-8")
    assert decode_text(b"\xef\xbb\xbf" + "北京".encode()) == ("北京", "utf-8")


def test_decode_text_gbk_falls_back_to_gb18030():
    assert decode_text("广东省科协".encode("gbk")) == ("广东省科协", "gb18030")


def test_parse_csv_header_case_spaces_extra_columns_and_blank_lines():
    raw = " Application , VALUE ,indicator,备注\r\n\r\n110000, 12 ,parks_total,无\r\n,,,\r\n"
    table = parse_csv(raw.encode(), "i.csv", COLUMNS)
    assert table.rows == (("110000", "parks_total", "12"),)
    assert table.lines == (3,)


def test_parse_csv_line_numbers_after_quoted_multiline_field():
    raw = 'application,indicator,value\n"A\nB",x,1\nC,y,2\n'
    table = parse_csv(raw.encode(), "i.csv", COLUMNS)
    assert table.lines == (2, 4)


def test_parse_csv_reports_every_bad_row():
    raw = "application,indicator,value\nA,x\nB,y,1\nC,z,1,extra\n"
    with pytest.raises(CsvError) as info:
        parse_csv(raw.encode(), "i.csv", COLUMNS)
    assert [p.split(":")[1] for p in info.value.problems] == ["2", "4"]


def test_parse_csv_header_only_allowed_when_rows_optional():
    table = parse_csv(b"application,indicator,value\n", "i.csv", COLUMNS, require_rows=False)
    assert table.rows == ()


def test_dumps_json_writes_decimals_exactly_and_chinese_as_is():
    text = dumps_json(
        {"total": Decimal("84.10"), "name": "北京市科协", "ranks": [1, 2], "none": None, "x": []}
    )
    assert text == (
        '{\n  "total": 84.10,\n  "name": "北京市科协",\n  "ranks": [1, 2],\n  "none": null,\n  "x": []\n}\n'
    )
    assert loads_json(text)["total"] == Decimal("84.10")


def test_dumps_json_refuses_unknown_types():
    with pytest.raises(TypeError):
        dumps_json({"x": object()})


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text(encoding="utf-8") == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
