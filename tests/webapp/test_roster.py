"""The roster (名册) import: messy spreadsheets built here, each with its exact expected rows and problems."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from webapp.applications.roster import (
    RosterParse,
    RosterProblem,
    RosterRow,
    parse_roster,
    roster_template,
)

TODAY = date(2014, 12, 31)
HEADER = ["序号", "企业科协名称", "所在企业", "成立时间", "批准文号", "会员数", "主席"]


def _xlsx(
    path: Path,
    sheets: dict[str, list[list[Any]]],
    merges: dict[str, list[str]] | None = None,
) -> Path:
    """A workbook with one sheet per entry (rows from row 1), merged ranges per sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for rng in (merges or {}).get(title, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


def _row(row: int, name: str, founded_on: date, **kw: Any) -> RosterRow:
    values = {"enterprise": None, "approval_no": None, "members": None, "chair": None, **kw}
    return RosterRow(row=row, name=name, founded_on=founded_on, **values)


def _file_problem(message: str) -> tuple[RosterProblem, ...]:
    return (RosterProblem(None, None, message),)


# ---------------------------------------------------------------------------------------------------------
# The template


def test_template_round_trip_filled_in_parses_and_example_row_is_ignored(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(roster_template(2014, "河南省科协")))
    ws = wb.active
    ws["A5"], ws["B5"], ws["C5"] = 1, "郑州宇通集团有限公司科学技术协会", "郑州宇通集团有限公司"
    ws["D5"], ws["E5"], ws["F5"], ws["G5"] = datetime(2014, 3, 18), "豫科协发〔2014〕8号", 356, "汤玉祥"
    ws["A6"], ws["B6"], ws["D6"], ws["F6"] = 2, "许继集团有限公司科学技术协会", "2014年7月1日", "1,200"
    ws["A7"] = 3  # a pre-numbered row left empty is a blank row
    path = tmp_path / "filled.xlsx"
    wb.save(path)

    result = parse_roster(path, year=2014, today=TODAY)

    assert result == RosterParse(
        rows=(
            _row(
                5,
                "郑州宇通集团有限公司科学技术协会",
                date(2014, 3, 18),
                enterprise="郑州宇通集团有限公司",
                approval_no="豫科协发〔2014〕8号",
                members=356,
                chair="汤玉祥",
            ),
            _row(6, "许继集团有限公司科学技术协会", date(2014, 7, 1), members=1200),
        ),
        problems=(),
        duplicates=(),
        sheet="新建企业科协名册",
        header_row=3,
    )
    assert result.ok is True


def test_template_layout_title_header_example_validation_and_print_setup() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(roster_template(2014, "河南省科协")))
    ws = wb.active

    assert ws.title == "新建企业科协名册"
    assert ws["A1"].value == "河南省科协2014年新建企业科协名册"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[3]] == [
        "序号",
        "企业科协名称",
        "所在企业",
        "成立时间\n（年-月-日）",
        "批准文号",
        "会员数\n（人）",
        "主席",
        "备注",
    ]
    assert [ws["A4"].value, ws["D4"].value, ws["F4"].value] == ["示例", datetime(2014, 5, 6), 120]
    assert (ws["B4"].font.i, ws["B4"].font.color.rgb) == (True, "FF808080")
    assert ws.freeze_panes == "A4"
    assert (ws.page_setup.orientation, int(ws.page_setup.paperSize)) == ("landscape", 9)
    assert [(dv.type, str(dv.sqref)) for dv in ws.data_validations.dataValidation] == [
        ("date", "D5:D304"),
        ("whole", "F5:F304"),
    ]
    assert ws.column_dimensions["B"].width > ws.column_dimensions["A"].width


def test_template_unfilled_reports_empty_roster() -> None:
    result = parse_roster(io.BytesIO(roster_template(2014, "河南省科协")), year=2014, today=TODAY)

    assert result == RosterParse(
        (),
        _file_problem(
            "名册中没有数据：工作表“新建企业科协名册”第 3 行表头以下没有填写任何企业科协。请至少填写一行后重新上传。"
        ),
        (),
        "新建企业科协名册",
        3,
    )
    assert result.ok is False


# ---------------------------------------------------------------------------------------------------------
# Layout variants


def test_title_rows_merged_title_header_found_below(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "titled.xlsx",
        {
            "Sheet1": [
                ["湖北省科协2014年新建企业科协名册"],
                ["填报单位：湖北省科协", None, None, None, "填报日期：2014年10月20日"],
                [],
                HEADER,
                [
                    1,
                    "武汉钢铁集团科协",
                    "武汉钢铁（集团）公司",
                    date(2014, 4, 2),
                    "鄂科协字〔2014〕3号",
                    800,
                    "邓崎琳",
                ],
            ]
        },
        merges={"Sheet1": ["A1:G1", "A2:D2"]},
    )

    assert parse_roster(path, year=2014, today=TODAY) == RosterParse(
        (
            _row(
                5,
                "武汉钢铁集团科协",
                date(2014, 4, 2),
                enterprise="武汉钢铁（集团）公司",
                approval_no="鄂科协字〔2014〕3号",
                members=800,
                chair="邓崎琳",
            ),
        ),
        (),
        (),
        "Sheet1",
        4,
    )


def test_header_synonyms_with_fullwidth_spaces_line_breaks_and_units(tmp_path: Path) -> None:
    header = [
        " 编号",
        "科　协\n名称",
        "依托单位",
        "批准成立\n时间",
        "批复\u3000文号",
        "会员人数（人）",
        "负责人",
        "备注",
        None,
    ]
    path = _xlsx(
        tmp_path / "synonyms.xlsx",
        {
            "名册": [
                header,
                [
                    1,
                    "  三一重工科协　",
                    "三一重工股份有限公司",
                    date(2014, 6, 1),
                    "湘科协〔2014〕5号",
                    95,
                    "梁稳根",
                    "已备案",
                ],
            ]
        },
    )

    assert parse_roster(path, today=TODAY) == RosterParse(
        (
            _row(
                2,
                "三一重工科协",
                date(2014, 6, 1),
                enterprise="三一重工股份有限公司",
                approval_no="湘科协〔2014〕5号",
                members=95,
                chair="梁稳根",
            ),
        ),
        (),
        (),
        "名册",
        1,
    )


def test_header_variant_names_column_in_problems_as_written_in_file(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "variant.xlsx",
        {"Sheet1": [["名称", "成立\n日期", "会员数量"], ["甲科协", "2014年2月30日", "五十"]]},
    )

    assert parse_roster(path, today=TODAY).problems == (
        RosterProblem(
            2, "成立日期", "第 2 行：成立日期“2014年2月30日”不是有效日期，请填写如 2014-05-06 的日期。"
        ),
        RosterProblem(2, "会员数量", "第 2 行：会员数量“五十”不是数字，请填写整数，如 120。"),
    )


def test_fullwidth_digits_and_spaces_in_values(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "fullwidth.xlsx",
        {
            "Sheet1": [
                HEADER,
                [
                    "１",
                    "ＸＹ电子　科协",
                    None,
                    "２０１４－０５－０６",
                    "科协发〔２０１４〕１２号",
                    "１，２００人",
                    "李　四",
                ],
                ["２", "乙公司科协", None, "２０１４年５月６日", None, "　１２０　", None],
            ]
        },
    )

    assert parse_roster(path, year=2014, today=TODAY).rows == (
        _row(
            2, "XY电子 科协", date(2014, 5, 6), approval_no="科协发〔2014〕12号", members=1200, chair="李 四"
        ),
        _row(3, "乙公司科协", date(2014, 5, 6), members=120),
    )


def test_dates_as_cells_serials_and_five_text_formats_all_read(tmp_path: Path) -> None:
    values = [
        date(2014, 5, 6),
        datetime(2014, 5, 6, 0, 0),
        41765,  # Excel serial of 2014-05-06
        "2014-05-06",
        "2014/5/6",
        "2014.5.6",
        "2014年5月6日",
        "20140506",
        20140506,
    ]
    rows = [HEADER[1:4] + ["备注"]] + [[f"科协{i}", None, v, repr(v)] for i, v in enumerate(values, start=1)]
    path = _xlsx(tmp_path / "dates.xlsx", {"Sheet1": rows})

    result = parse_roster(path, year=2014, today=TODAY)

    assert result.problems == ()
    assert [(r.row, r.founded_on) for r in result.rows] == [(i, date(2014, 5, 6)) for i in range(2, 11)]


def test_blank_rows_column_numbers_totals_and_footer_rows_ignored(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "blanks.xlsx",
        {
            "Sheet1": [
                HEADER + [None, None],
                [1, 2, 3, 4, 5, 6, 7],
                [],
                [1, "甲科协", None, "2014-01-10", None, 30, None],
                [None, None, None, None, None, None, None, "  "],
                [],
                [2, "乙科协", None, "2014-02-20", None, 40, None],
                [3],
                ["合计", None, None, None, None, 70, None],
                ["填表人：王五", None, None, None, "联系电话：0371-12345678"],
                [],
            ]
        },
    )

    assert parse_roster(path, year=2014, today=TODAY) == RosterParse(
        (_row(4, "甲科协", date(2014, 1, 10), members=30), _row(7, "乙科协", date(2014, 2, 20), members=40)),
        (),
        (),
        "Sheet1",
        1,
    )


def test_merged_cells_in_data_area_apply_to_every_covered_row(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "merged.xlsx",
        {
            "Sheet1": [
                ["企业科协汇总"],
                HEADER,
                [
                    1,
                    "中铁一局科协",
                    "中国中铁股份有限公司",
                    date(2014, 9, 1),
                    "陕科协〔2014〕21号",
                    60,
                    "张一",
                ],
                [2, "中铁二局科协", None, None, None, 70, "张二"],
                [3, "中铁三局科协", None, date(2014, 9, 2), "陕科协〔2014〕22号", 80, "张三"],
            ]
        },
        merges={"Sheet1": ["A1:G1", "C3:C5", "D3:D4", "E3:E4"]},
    )

    result = parse_roster(path, year=2014, today=TODAY)

    assert result.rows == (
        _row(
            3,
            "中铁一局科协",
            date(2014, 9, 1),
            enterprise="中国中铁股份有限公司",
            approval_no="陕科协〔2014〕21号",
            members=60,
            chair="张一",
        ),
        _row(
            4,
            "中铁二局科协",
            date(2014, 9, 1),
            enterprise="中国中铁股份有限公司",
            approval_no="陕科协〔2014〕21号",
            members=70,
            chair="张二",
        ),
        _row(
            5,
            "中铁三局科协",
            date(2014, 9, 2),
            enterprise="中国中铁股份有限公司",
            approval_no="陕科协〔2014〕22号",
            members=80,
            chair="张三",
        ),
    )
    assert (result.ok, result.header_row) == (True, 2)


def test_merged_header_over_two_rows_is_not_read_as_data(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "twoline.xlsx",
        {"Sheet1": [HEADER, [], [1, "甲科协", None, "2014-03-03", None, None, None]]},
        merges={"Sheet1": [f"{c}1:{c}2" for c in "ABCDEFG"]},
    )

    result = parse_roster(path, today=TODAY)

    assert (result.rows, result.problems, result.header_row) == (
        (_row(3, "甲科协", date(2014, 3, 3)),),
        (),
        1,
    )


def test_duplicates_flagged_with_row_numbers_and_all_rows_kept(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "dups.xlsx",
        {
            "Sheet1": [
                HEADER,
                [1, "甲公司科协", None, "2014-01-01", None, None, None],
                [2, "ABC科协", None, "2014-01-02", None, None, None],
                [3, "甲公司　科协", None, "2014-01-03", None, None, None],
                [4, "乙公司科协", None, "2014-01-04", None, None, None],
                [5, "ａｂｃ 科协", None, "2014-01-05", None, None, None],
                [6, "甲 公司科协", None, "2014-01-06", None, None, None],
            ]
        },
    )

    result = parse_roster(path, year=2014, today=TODAY)

    assert result.duplicates == ((2, 4, 7), (3, 6))
    assert [r.row for r in result.rows] == [2, 3, 4, 5, 6, 7]
    assert result.ok is True


def test_bad_rows_each_reported_in_chinese_with_row_number(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "bad.xlsx",
        {
            "Sheet1": [
                ["2014年新建企业科协名册"],
                HEADER,
                [1, "好科协", None, "2014-05-06", None, 10, None],
                [2, None, "无名企业", "2014-05-06", None, 10, None],
                [3, "缺日期科协", None, None, None, 10, None],
                [4, "负会员科协", None, "2014-05-06", None, -5, None],
                [5, "坏日期科协", None, "2014年13月1日", None, "约一百", None],
                [6, "去年科协", None, date(2013, 12, 31), None, "12.5", None],
                [7, "年月科协", None, "2014年5月", None, 3.0, None],
                [8, "另一个好科协", None, 41765, None, None, None],
            ]
        },
    )

    result = parse_roster(path, year=2014, today=TODAY)

    assert result.problems == (
        RosterProblem(4, "企业科协名称", "第 4 行：缺少企业科协名称，请填写企业科协的全称。"),
        RosterProblem(5, "成立时间", "第 5 行：缺少成立时间，请填写如 2014-05-06 的日期。"),
        RosterProblem(6, "会员数", "第 6 行：会员数“-5”不能为负数，请填写 0 或正整数。"),
        RosterProblem(
            7, "成立时间", "第 7 行：成立时间“2014年13月1日”不是有效日期，请填写如 2014-05-06 的日期。"
        ),
        RosterProblem(7, "会员数", "第 7 行：会员数“约一百”不是数字，请填写整数，如 120。"),
        RosterProblem(
            8,
            "成立时间",
            "第 8 行：成立时间“2013-12-31”不在 2014 年内，名册只填 2014 年新建的企业科协，请核对。",
        ),
        RosterProblem(8, "会员数", "第 8 行：会员数“12.5”不是整数，请填写人数，如 120。"),
        RosterProblem(9, "成立时间", "第 9 行：成立时间“2014年5月”只有年月，请填写完整日期，如 2014-05-06。"),
    )
    assert result.rows == (
        _row(3, "好科协", date(2014, 5, 6), members=10),
        _row(10, "另一个好科协", date(2014, 5, 6)),
    )
    assert result.ok is False


def test_founding_date_after_today_is_refused(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "future.xlsx", {"Sheet1": [HEADER, [1, "未来科协", None, "2014-11-01", None, 5, None]]}
    )

    assert parse_roster(path, year=2014, today=date(2014, 10, 31)).problems == (
        RosterProblem(
            2, "成立时间", "第 2 行：成立时间“2014-11-01”晚于今天（2014-10-31），请核对后填写实际成立日期。"
        ),
    )


def test_example_row_in_a_users_own_file_is_ignored(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "example.xlsx",
        {
            "Sheet1": [
                HEADER,
                [
                    "示例",
                    "示例：××公司科学技术协会",
                    "××公司",
                    "2014-05-06",
                    "×科协发〔2014〕12号",
                    120,
                    "张三",
                ],
                [1, "真实科协", None, "2014-08-08", None, None, None],
            ]
        },
    )

    assert parse_roster(path, today=TODAY).rows == (_row(3, "真实科协", date(2014, 8, 8)),)


# ---------------------------------------------------------------------------------------------------------
# Sheets and files


def test_second_sheet_holds_the_data_and_is_named(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "two_sheets.xlsx",
        {
            "填表说明": [["填表说明"], ["1. 成立时间填写批复日期。"], ["2. 会员数填写人数。"]],
            "名册": [HEADER, [1, "海尔集团科协", "海尔集团公司", "2014/6/18", None, 500, "张瑞敏"]],
        },
    )

    assert parse_roster(path, year=2014, today=TODAY) == RosterParse(
        (_row(2, "海尔集团科协", date(2014, 6, 18), enterprise="海尔集团公司", members=500, chair="张瑞敏"),),
        (),
        (),
        "名册",
        1,
    )


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "序号,企业科协名称,成立时间\n1,甲科协,2014-05-06\n".encode(),
            "文件不是 XLSX 格式（可能是 CSV、文本或其他文件改了扩展名），无法读取。请下载名册模板，在 Excel 中填写后保存为 .xlsx 上传。",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "文件是旧版 Excel（.xls）格式或设置了打开密码，无法读取。请在 Excel 中“另存为” .xlsx 格式（不加密）后重新上传。",
        ),
        (_zip_without_workbook(), "文件是压缩包但不是 Excel 工作簿（.xlsx），请上传用 Excel 保存的名册。"),
        (
            b"PK\x03\x04" + b"\x00" * 40,
            "文件已损坏，无法作为 XLSX 打开。请在 Excel 中重新保存为 .xlsx 后上传。",
        ),
        (b"", "文件是空的（0 字节），请重新选择名册文件。"),
    ],
    ids=["csv", "xls", "zip", "truncated", "zero_bytes"],
)
def test_non_xlsx_file_named_xlsx_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(content)

    assert parse_roster(path) == RosterParse((), _file_problem(message), (), "", 0)


def test_headerless_sheet_says_which_columns_were_expected(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "noheader.xlsx", {"Sheet1": [["甲科协", "2014-05-06", 30], ["乙科协", "2014-06-01", 40]]}
    )

    assert parse_roster(path) == RosterParse(
        (),
        _file_problem(
            "在各工作表的前 15 行中没有找到名册表头。表头应包含以下列：企业科协名称、所在企业、成立时间、批准文号、会员数、主席"
            "（至少要有“企业科协名称”和“成立时间”）。请使用下载的名册模板填写。"
        ),
        (),
        "",
        0,
    )


def test_header_without_founding_date_column_is_refused(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "nodate.xlsx", {"名册": [["企业科协名称", "会员数", "主席"], ["甲科协", 30, "王"]]}
    )

    assert parse_roster(path) == RosterParse(
        (),
        _file_problem(
            "工作表“名册”第 1 行的表头缺少“成立时间”列（也可写作成立日期、批准成立时间），请补上后重新上传。"
        ),
        (),
        "名册",
        1,
    )


def test_empty_sheet_reports_empty_roster(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "empty.xlsx", {"Sheet1": []})

    assert parse_roster(path) == RosterParse(
        (), _file_problem("名册是空的：文件中没有任何内容。请下载名册模板，填写后重新上传。"), (), "", 0
    )


def test_header_only_sheet_reports_no_data(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "header_only.xlsx", {"Sheet1": [HEADER, [], ["合计", None, None, None, None, 0]]})

    assert parse_roster(path).problems == _file_problem(
        "名册中没有数据：工作表“Sheet1”第 1 行表头以下没有填写任何企业科协。请至少填写一行后重新上传。"
    )


def test_too_many_rows_is_a_file_problem(tmp_path: Path) -> None:
    rows = [HEADER] + [[i, f"科协{i}", None, "2014-05-06", None, None, None] for i in range(1, 5)]
    path = _xlsx(tmp_path / "many.xlsx", {"Sheet1": rows})

    assert parse_roster(path, max_rows=3) == RosterParse(
        (), _file_problem("名册数据超过 3 行上限，请核对是否误填，或联系管理员。"), (), "Sheet1", 1
    )
    assert len(parse_roster(path, max_rows=4).rows) == 4


def test_stream_source_reads_like_a_path(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "stream.xlsx", {"Sheet1": [HEADER, [1, "甲科协", None, "2014-05-06", None, None, None]]}
    )

    with path.open("rb") as stream:
        assert parse_roster(stream, today=TODAY) == parse_roster(path, today=TODAY)


def test_openpyxl_extension_warning_does_not_escape(tmp_path: Path) -> None:
    plain = _xlsx(
        tmp_path / "plain.xlsx", {"Sheet1": [HEADER, [1, "甲科协", None, "2014-05-06", None, None, None]]}
    )
    ext = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="0"/></ext></extLst></worksheet>'
    )
    path = tmp_path / "excel_made.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", ext)
            target.writestr(info, data)

    assert parse_roster(path, today=TODAY).rows == (_row(2, "甲科协", date(2014, 5, 6)),)
