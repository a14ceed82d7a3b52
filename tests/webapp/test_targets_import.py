"""Importing per-unit targets from XLSX/CSV: formats, encodings, header variants, per-row problems."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from webapp.inspection.targets_import import (
    TargetImport,
    TargetProblem,
    TargetRow,
    parse_targets,
    targets_template,
)

KNOWN = {"110000", "120000", "310000", "210200", "330200"}
HEADER = "单位代码,单位名称,规模以上工业企业数,新建企业科协任务,联系人制度任务"


def _csv(lines: list[str], encoding: str = "utf-8", newline: str = "\r\n") -> io.BytesIO:
    return io.BytesIO((newline.join(lines) + newline).encode(encoding))


def _xlsx(rows: list[list[object]]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _parse(source, filename: str = "targets.csv") -> TargetImport:
    return parse_targets(source, filename, known_codes=KNOWN)


def _messages(result: TargetImport) -> list[tuple[int | None, str]]:
    return [(p.row, p.message) for p in result.problems]


def test_xlsx_with_title_rows_numeric_codes_full_width_digits_and_blank_rows():
    source = _xlsx(
        [
            ["2014年企业科协组建任务分配表"],
            ["填报单位：中国科协计划财务部"],
            [None],
            [
                "单位代码",
                "单位名称",
                "规模以上工业企业数（家）",
                "新建企业科协目标任务",
                "科协联系人制度目标任务",
            ],
            [110000, "北京市科协", 3712, 120, 300],
            [None, None, None, None, None],
            ["３１００００", "上海市科协", "１２，３４５", None, None],
            ["210200", "大连市科协", None, "４０", 95.0],
        ]
    )
    result = _parse(source, "任务分配.xlsx")
    assert result.ok and result.problems == ()
    assert result.rows == (
        TargetRow(5, "110000", 3712, 120, 300),
        TargetRow(7, "310000", 12345, None, None),
        TargetRow(8, "210200", None, 40, 95),
    )


def test_csv_utf8_with_bom_and_crlf():
    source = _csv([HEADER, "110000,北京市科协,3712,,", "120000,天津市科协,2100,80,200"], "utf-8-sig")
    result = _parse(source)
    assert result.ok
    assert result.rows == (TargetRow(2, "110000", 3712, None, None), TargetRow(3, "120000", 2100, 80, 200))


def test_csv_utf8_without_bom_and_lf():
    result = _parse(_csv([HEADER, "330200,宁波市科协,1800,,"], "utf-8", "\n"))
    assert result.rows == (TargetRow(2, "330200", 1800, None, None),)


def test_csv_gbk_with_header_variants_and_a_title_row():
    lines = [
        "各单位企业科协组建任务,,,",
        "行政区划代码,规上工业企业数,新建企业科协目标任务,科协联系人制度目标任务",
        "110000,3712,120,300",
        '310000,"8,001",210,520',
    ]
    for encoding in ("gbk", "gb18030"):
        result = _parse(_csv(lines, encoding), "分配.csv")
        assert result.ok, result.problems
        assert result.rows == (TargetRow(3, "110000", 3712, 120, 300), TargetRow(4, "310000", 8001, 210, 520))


def test_content_decides_the_format_not_the_name():
    xlsx = _xlsx([["代码", "规模以上工业企业数"], [120000, 2100]])
    assert _parse(xlsx, "targets.csv").rows == (TargetRow(2, "120000", 2100, None, None),)
    csv_text = _csv(["代码,规模以上工业企业数", "120000,2100"])
    assert _parse(csv_text, "targets.xlsx").rows == (TargetRow(2, "120000", 2100, None, None),)


def test_tab_separated_utf16_as_excel_unicode_text():
    source = _csv(["单位代码\t单位名称\t规模以上工业企业数", "210200\t大连市科协\t1500"], "utf-16")
    assert _parse(source, "targets.txt").rows == (TargetRow(2, "210200", 1500, None, None),)


def test_path_source(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_bytes(_csv([HEADER, "110000,北京,10,1,2"]).getvalue())
    assert _parse(path).rows == (TargetRow(2, "110000", 10, 1, 2),)


def test_bad_numbers_with_exact_messages_and_row_numbers():
    source = _csv(
        [
            "2014年任务分配",
            HEADER,
            "110000,北京市科协,-5,,",
            "120000,天津市科协,12.5,,",
            "",
            "310000,上海市科协,很多,,",
            "210200,大连市科协,,40,",
            "330200,宁波市科协,100,10,-1",
        ],
        "utf-8-sig",
    )
    result = _parse(source)
    assert not result.ok
    assert _messages(result) == [
        (3, "第 3 行：规模以上工业企业数“-5”不能为负数，请填写 0 或正整数。"),
        (4, "第 4 行：规模以上工业企业数“12.5”不是整数，请填写整数，如 120。"),
        (6, "第 6 行：规模以上工业企业数“很多”不是数字，请填写整数，如 120。"),
        (
            7,
            "第 7 行：既没有填写规模以上工业企业数，也没有同时填写“新建企业科协任务”和“联系人制度任务”。"
            "请填写企业数（按比例分配任务），或两项任务都填写。",
        ),
        (8, "第 8 行：联系人制度任务“-1”不能为负数，请填写 0 或正整数。"),
    ]
    assert result.rows == ()


def test_xlsx_bad_cells_use_the_header_as_written():
    source = _xlsx(
        [["代码", "规上工业企业数(家)"], [110000, -3], [120000, 2.5], [310000, "x"], [210200, 1e12]]
    )
    result = _parse(source, "t.xlsx")
    assert _messages(result) == [
        (2, "第 2 行：规上工业企业数(家)“-3”不能为负数，请填写 0 或正整数。"),
        (3, "第 3 行：规上工业企业数(家)“2.5”不是整数，请填写整数，如 120。"),
        (4, "第 4 行：规上工业企业数(家)“x”不是数字，请填写整数，如 120。"),
        (5, "第 5 行：规上工业企业数(家)“1000000000000”过大（超过 100,000,000），请核对后填写。"),
    ]


def test_duplicate_codes():
    source = _csv([HEADER, "110000,北京,10,,", "120000,天津,20,,", "１１００００,北京（重复）,30,,"])
    result = _parse(source)
    assert _messages(result) == [
        (4, "第 4 行：单位代码“110000”与第 2 行重复，每个单位只能填写一行，请删除或合并重复的行。")
    ]
    assert [row.row for row in result.rows] == [2, 3]
    assert not result.ok


def test_unknown_and_missing_codes():
    source = _csv([HEADER, "999999,不存在,10,,", ",无代码,20,,", "北京,北京市科协,30,,", "110000,北京,40,,"])
    result = _parse(source)
    assert _messages(result) == [
        (2, "第 2 行：单位代码“999999”不是已登记的单位代码，请核对代码（如北京市为 110000）。"),
        (3, "第 3 行：缺少单位代码，请填写单位的六位代码，如 110000。"),
        (4, "第 4 行：单位代码“北京”不是已登记的单位代码，请核对代码（如北京市为 110000）。"),
    ]
    assert result.rows == (TargetRow(5, "110000", 40, None, None),)


def test_known_codes_may_be_any_collection_of_text():
    source = _csv(["单位代码,规模以上工业企业数", "110000,1"])
    assert parse_targets(source, "t.csv", known_codes=["110000"]).ok
    source.seek(0)
    assert not parse_targets(source, "t.csv", known_codes=()).ok


def test_tasks_only_file_needs_both_tasks():
    source = _csv(["单位代码,新建企业科协任务,联系人制度任务", "110000,120,300", "120000,80,"])
    result = _parse(source)
    assert result.rows == (TargetRow(2, "110000", None, 120, 300),)
    assert _messages(result) == [
        (3, "第 3 行：“新建企业科协任务”和“联系人制度任务”必须都填写，请补全后重新上传。")
    ]


def test_totals_notes_and_repeated_header_are_skipped():
    source = _csv(
        [HEADER, "110000,北京,10,1,2", HEADER, "合计,,10,1,2", "注：本表由计划财务部填写,,,,"], "gb18030"
    )
    result = _parse(source)
    assert result.ok and result.rows == (TargetRow(2, "110000", 10, 1, 2),)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "t.xlsx", "文件“t.xlsx”是空的（0 字节），请重新选择任务分配表。"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "t.xls",
            "文件“t.xls”是旧版 Excel（.xls）格式或设置了打开密码，无法读取。"
            "请在 Excel 中“另存为” .xlsx 格式（不加密）或 CSV 后重新上传。",
        ),
        (
            b"PK\x03\x04broken",
            "t.xlsx",
            "文件“t.xlsx”已损坏或不是有效的 XLSX 工作簿，无法读取。请在 Excel 中重新保存为 .xlsx 后上传。",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe",
            "t.csv",
            "文件“t.csv”既不是 XLSX 工作簿，也不是可读的 CSV 文本（编码应为 UTF-8 或 GBK），无法读取。"
            "请在 Excel 中“另存为” .xlsx 或 CSV 后重新上传。",
        ),
        (
            b"\r\n,,\r\n   \r\n",
            "t.csv",
            "文件“t.csv”是空的：没有任何内容。请下载任务分配表模板，填写后重新上传。",
        ),
        (
            "单位,企业数\r\n北京,10\r\n".encode(),
            "t.csv",
            "在文件“t.csv”的前 15 行中没有找到任务分配表的表头。表头应包含以下列：“单位代码”、"
            "“规模以上工业企业数”、“新建企业科协任务”、“联系人制度任务”（“单位名称”可有可无），请使用下载的模板填写。",
        ),
        (
            "标题\r\n单位代码,单位名称\r\n110000,北京\r\n".encode(),
            "t.csv",
            "第 2 行的表头有“单位代码”列，但没有任务或企业数列。表头应包含：“单位代码”、“规模以上工业企业数”、"
            "“新建企业科协任务”、“联系人制度任务”（企业数和两项任务至少填一类），请使用下载的模板填写。",
        ),
        (
            "单位名称,规模以上工业企业数\r\n北京,10\r\n".encode(),
            "t.csv",
            "第 1 行的表头缺少“单位代码”列（也可写作“代码”或“行政区划代码”）。表头应包含：“单位代码”、"
            "“规模以上工业企业数”、“新建企业科协任务”、“联系人制度任务”，请使用下载的模板填写。",
        ),
        (
            f"{HEADER}\r\n,,,,\r\n".encode(),
            "t.csv",
            "任务分配表中没有数据：第 1 行表头以下没有填写任何单位。请至少填写一行后重新上传。",
        ),
    ],
)
def test_file_level_problems(data, filename, message):
    result = parse_targets(io.BytesIO(data), filename, known_codes=KNOWN)
    assert result == TargetImport((), (TargetProblem(None, message),))
    assert not result.ok


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    result = parse_targets(io.BytesIO(buffer.getvalue()), "t.zip", known_codes=KNOWN)
    assert _messages(result) == [
        (None, "文件“t.zip”是压缩包但不是 Excel 工作簿（.xlsx），请上传任务分配表的 .xlsx 或 CSV 文件。")
    ]


def test_template_has_note_and_header_and_reads_back():
    data = targets_template()
    sheet = load_workbook(io.BytesIO(data)).active
    assert str(sheet["A1"].value).startswith("说明：")
    assert [cell.value for cell in sheet[2]] == [
        "单位代码",
        "单位名称",
        "规模以上工业企业数（家）",
        "新建企业科协目标任务（个）",
        "科协联系人制度目标任务（家）",
    ]
    empty = _parse(io.BytesIO(data), "模板.xlsx")
    assert _messages(empty) == [
        (None, "任务分配表中没有数据：第 2 行表头以下没有填写任何单位。请至少填写一行后重新上传。")
    ]

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    sheet.append(["110000", "北京市科协", 3712, None, None])
    sheet.append(["120000", "天津市科协", None, 80, 200])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    result = _parse(buffer, "模板.xlsx")
    assert result.ok
    assert result.rows == (TargetRow(3, "110000", 3712, None, None), TargetRow(4, "120000", None, 80, 200))
