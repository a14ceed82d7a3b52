"""The award list workbook, read back with openpyxl: layout, totals, text safety, print setup and empty input."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest

from webapp.exports.award_list import (
    AWARD_HEADERS,
    BREAKDOWN_HEADERS,
    REGISTER_HEADERS,
    SHEET_AWARDS,
    SHEET_BREAKDOWN,
    SHEET_REGISTER,
    AwardRow,
    BreakdownRow,
    RegisterRow,
    award_list_xlsx,
    neutralise_formula,
)
from webapp.exports.rmb import amount_in_words

CRITERIA = [
    ("organisation", "组织建设", Decimal("20")),
    ("activities", "活动开展", Decimal("12.50")),
    ("innovation", "创新成效", Decimal("30")),
]
HOSTILE = ["=1+1", "+86 10 1234", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def make_award(index: int, **changes) -> AwardRow:
    values = dict(
        unit_code=f"{110000 + index * 10000}",
        unit_name=f"第{index}号单位科学技术协会",
        category="省级",
        program="试点示范",
        support_type="试点示范",
        score=Decimal("91.25") - index,
        rank=index,
        amount=Decimal("150000") + index,
        matching_funds=Decimal("50000.50"),
        payee_name=f"收款单位{index}",
        bank="中国工商银行北京分行",
        account=f"0200{index:016d}",
        payment_due=date(2014, 9, 30),
        remarks="",
    )
    return AwardRow(**(values | changes))


def make_breakdown(index: int) -> BreakdownRow:
    return BreakdownRow(
        unit_code=f"{110000 + index * 10000}",
        unit_name=f"第{index}号单位",
        program="后补助",
        rank=index,
        total=Decimal("80.5"),
        criteria={"organisation": Decimal("18.5"), "activities": None, "innovation": Decimal("25")},
    )


def make_register(index: int, **changes) -> RegisterRow:
    values = dict(
        receipt_no=f"YY-2014-{index:03d}",
        submitted_at="2014-10-01 10:00",
        name="张三",
        organisation="某某大学",
        unit="新疆生产建设兵团",
        content="对得分有异议。",
        conclusion="不成立",
        reply="经复核，评分无误。",
        concluded_on="2014-10-05",
    )
    return RegisterRow(**(values | changes))


def build(awards=(), breakdown=(), register=(), criteria=CRITERIA, title="2014年度试点示范支持名单"):
    return award_list_xlsx(
        title=title,
        awards=list(awards),
        criteria=criteria,
        breakdown=breakdown,
        register=list(register),
        generated_at="2014-10-08 10:00:00",
    )


def load(payload: bytes, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(payload), data_only=data_only)


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_award_list_sheets_and_headers():
    book = load(build([make_award(1)], [make_breakdown(1)], [make_register(1)]))
    assert book.sheetnames == [SHEET_AWARDS, SHEET_BREAKDOWN, SHEET_REGISTER]
    assert rows(book[SHEET_AWARDS])[1] == AWARD_HEADERS
    assert AWARD_HEADERS == (
        "序号",
        "单位代码",
        "单位名称",
        "类别",
        "项目",
        "支持方式",
        "得分",
        "排名",
        "金额（元）",
        "金额大写",
        "自筹配套资金（元）",
        "收款单位",
        "开户银行",
        "账号",
        "拨付期限",
        "备注",
    )
    assert rows(book[SHEET_BREAKDOWN])[0] == BREAKDOWN_HEADERS + (
        "组织建设\n（满分 20）",
        "活动开展\n（满分 12.5）",
        "创新成效\n（满分 30）",
    )
    assert rows(book[SHEET_REGISTER])[0] == REGISTER_HEADERS
    assert REGISTER_HEADERS == (
        "受理编号",
        "提出时间",
        "姓名",
        "工作单位",
        "涉及单位",
        "异议内容",
        "结论",
        "答复",
        "结论日期",
    )


def test_award_list_title_row_merged_and_bold():
    sheet = load(build([make_award(1)]))[SHEET_AWARDS]
    assert sheet["A1"].value == "2014年度试点示范支持名单（2014-10-08 10:00:00）"
    assert sheet["A1"].font.b is True
    assert [str(cells) for cells in sheet.merged_cells.ranges] == ["A1:P1"]


def test_award_list_rows_in_order_with_values():
    awards = [make_award(i) for i in (3, 1, 2)]
    sheet = load(build(awards))[SHEET_AWARDS]
    data = rows(sheet)[2:-1]
    assert len(data) == 3
    assert [row[0] for row in data] == [1, 2, 3]
    assert [row[1] for row in data] == ["140000", "120000", "130000"]
    assert data[0] == (
        1,
        "140000",
        "第3号单位科学技术协会",
        "省级",
        "试点示范",
        "试点示范",
        88.25,
        3,
        150003,
        "壹拾伍万零叁元整",
        50000.5,
        "收款单位3",
        "中国工商银行北京分行",
        "02000000000000000003",
        datetime(2014, 9, 30),
        None,
    )


def test_award_list_totals_row_sums_the_right_ranges():
    awards = [
        make_award(1, amount=Decimal("150000")),
        make_award(2, amount=Decimal("100000.50"), matching_funds=None),
        make_award(3, amount=Decimal("0.07")),
    ]
    payload = build(awards)
    sheet = load(payload)[SHEET_AWARDS]
    assert sheet.max_row == 6
    assert sheet["A6"].value == "合计"
    assert sheet["I6"].value == "=SUM(I3:I5)"
    assert sheet["K6"].value == "=SUM(K3:K5)"
    assert sheet["I6"].data_type == sheet["K6"].data_type == "f"
    assert sheet["J6"].value == amount_in_words(Decimal("250000.57")) == "贰拾伍万元伍角柒分"
    cached = load(payload, data_only=True)[SHEET_AWARDS]
    assert cached["I6"].value == 250000.57
    assert cached["K6"].value == 100001


def test_award_list_words_column_equals_amount_in_words():
    amounts = [
        Decimal("150000"),
        Decimal("200000"),
        Decimal("100000.5"),
        Decimal("1234567.89"),
        Decimal("101.05"),
    ]
    sheet = load(build([make_award(i, amount=a) for i, a in enumerate(amounts, start=1)]))[SHEET_AWARDS]
    for row in range(3, 3 + len(amounts)):
        amount = Decimal(str(sheet.cell(row, 9).value))
        assert sheet.cell(row, 10).value == amount_in_words(amount)
    assert [sheet.cell(row, 10).value for row in range(3, 8)] == [
        "壹拾伍万元整",
        "贰拾万元整",
        "壹拾万元伍角",
        "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分",
        "壹佰零壹元零伍分",
    ]


def test_award_list_account_numbers_are_text_with_leading_zeros():
    accounts = ["0012345678901234567890", "6222020200112233445", "000123"]
    sheet = load(build([make_award(i, account=a) for i, a in enumerate(accounts, start=1)]))[SHEET_AWARDS]
    cells = [sheet.cell(row, 14) for row in range(3, 6)]
    assert [cell.data_type for cell in cells] == ["s", "s", "s"]
    assert [cell.value for cell in cells] == accounts
    assert sheet["B3"].data_type == "s"  # unit codes too


def test_award_list_number_and_date_formats():
    sheet = load(build([make_award(1)]))[SHEET_AWARDS]
    assert sheet["I3"].number_format == "#,##0.00"
    assert sheet["K3"].number_format == "#,##0.00"
    assert sheet["I4"].number_format == "#,##0.00"  # the total
    assert sheet["G3"].number_format == "0.00"
    assert sheet["I3"].data_type == "n"
    assert sheet["O3"].is_date
    assert sheet["O3"].number_format == "yyyy-mm-dd"
    assert sheet["O3"].value == datetime(2014, 9, 30)


def test_award_list_missing_values_are_empty_cells():
    award = make_award(
        1,
        score=None,
        rank=None,
        matching_funds=None,
        payee_name=None,
        bank=None,
        account=None,
        payment_due=None,
    )
    row = rows(load(build([award]))[SHEET_AWARDS])[2]
    assert (row[6], row[7], row[10], row[11], row[12], row[13], row[14]) == (None,) * 7


def test_award_list_frozen_panes_and_print_setup():
    book = load(build([make_award(1)], [make_breakdown(1)], [make_register(1)]))
    awards = book[SHEET_AWARDS]
    assert awards.freeze_panes == "A3"
    assert awards.print_title_rows == "$1:$2"
    assert book[SHEET_BREAKDOWN].freeze_panes == "C2"
    assert book[SHEET_REGISTER].freeze_panes == "A2"
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default and may be left out
        assert sheet.page_setup.fitToHeight == 0
        assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
        assert sheet.page_margins.left == sheet.page_margins.right == 0.4
    assert book[SHEET_BREAKDOWN].print_title_rows == "$1:$1"
    assert book[SHEET_REGISTER].print_title_rows == "$1:$1"


def column_widths(sheet) -> dict[int, float]:
    """Width per column number; openpyxl keeps a run of equal columns under its first letter."""
    return {
        col: dimension.width
        for dimension in sheet.column_dimensions.values()
        for col in range(dimension.min, dimension.max + 1)
    }


def test_award_list_column_widths():
    widths = column_widths(load(build([make_award(1)]))[SHEET_AWARDS])
    assert sorted(widths) == list(range(1, 17))
    assert widths[1] < widths[3] < widths[10]  # 序号 < 单位名称 < 金额大写
    assert widths[14] >= 24  # 账号: 19–22 digits


@pytest.mark.parametrize("text", HOSTILE)
def test_award_list_formula_injection_neutralised(text):
    def read(cell):
        # A carriage return is stored escaped (XML would turn it into a line feed); openpyxl leaves it so.
        return cell.value.replace("_x000D_", "\r")

    award = make_award(1, unit_name=text, payee_name=text, bank=text, remarks=text, account=text)
    register = make_register(1, name=text, organisation=text, unit=text, content=text, reply=text)
    book = load(build([award], [make_breakdown(1)], [register]))
    awards = book[SHEET_AWARDS]
    for cell in (awards["C3"], awards["L3"], awards["M3"], awards["N3"], awards["P3"]):
        assert cell.data_type == "s"
        assert read(cell) == "'" + text
    for cell in book[SHEET_REGISTER][2][2:6] + (book[SHEET_REGISTER]["H2"],):
        assert cell.data_type == "s"
        assert read(cell) == "'" + text
    formulas = [
        (sheet.title, cell.coordinate)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == [(SHEET_AWARDS, "I4"), (SHEET_AWARDS, "K4")]  # only our totals


def test_award_list_hostile_title_and_breakdown_names():
    breakdown = BreakdownRow("110000", '=HYPERLINK("http://x")', "-", None, None, {})
    book = load(build([], [breakdown], title="=1+2"))
    assert book[SHEET_AWARDS]["A1"].value.startswith("'=1+2")
    assert book[SHEET_BREAKDOWN]["B2"].value == '\'=HYPERLINK("http://x")'
    assert book[SHEET_BREAKDOWN]["C2"].value == "'-"
    assert book[SHEET_BREAKDOWN]["B2"].data_type == "s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("中国科协", "中国科协"),
        ("", ""),
    ],
)
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


def test_award_list_breakdown_rows_from_a_generator():
    produced = []

    def generate():
        for index in range(1, 1501):
            produced.append(index)
            yield make_breakdown(index)

    sheet = load(build([], generate()))[SHEET_BREAKDOWN]
    data = rows(sheet)
    assert len(data) == 1 + 1500
    assert len(produced) == 1500
    assert data[1] == ("120000", "第1号单位", "后补助", 1, 80.5, 18.5, None, 25)
    assert data[-1][3] == 1500
    assert sheet["E2"].number_format == sheet["F2"].number_format == "0.00"


def test_award_list_register_wrapped():
    sheet = load(build([], [], [make_register(1), make_register(2)]))[SHEET_REGISTER]
    assert rows(sheet)[1] == (
        "YY-2014-001",
        "2014-10-01 10:00",
        "张三",
        "某某大学",
        "新疆生产建设兵团",
        "对得分有异议。",
        "不成立",
        "经复核，评分无误。",
        "2014-10-05",
    )
    assert sheet.max_row == 3
    assert all(cell.alignment.wrap_text for cell in sheet[2])


def test_award_list_empty_inputs_still_a_workbook():
    book = load(
        award_list_xlsx(title="空名单", awards=[], criteria=[], breakdown=[], register=[], generated_at="")
    )
    awards = book[SHEET_AWARDS]
    assert book.sheetnames == [SHEET_AWARDS, SHEET_BREAKDOWN, SHEET_REGISTER]
    assert awards["A1"].value == "空名单"
    assert rows(awards)[1] == AWARD_HEADERS
    assert rows(awards)[2][:11] == ("合计", None, "共 0 个单位", None, None, None, None, None, 0, "零元整", 0)
    assert awards.max_row == 3
    assert rows(book[SHEET_BREAKDOWN]) == [BREAKDOWN_HEADERS]
    assert rows(book[SHEET_REGISTER]) == [REGISTER_HEADERS]


def test_award_list_chinese_text_intact():
    name = "新疆生产建设兵团科学技术协会（𠮷）"
    award = make_award(1, unit_name=name, category="兵团", remarks="含“引号”、《书名号》及换行\n第二行")
    sheet = load(build([award]))[SHEET_AWARDS]
    assert sheet["C3"].value == name
    assert sheet["D3"].value == "兵团"
    assert sheet["P3"].value == "含“引号”、《书名号》及换行\n第二行"


def test_award_list_bytes_depend_only_on_arguments():
    awards = [make_award(1), make_award(2)]
    assert build(awards, [make_breakdown(1)]) == build(awards, [make_breakdown(1)])
    assert load(build(awards)).properties.created == datetime(2014, 10, 8, 10, 0)


def test_award_list_every_row_formatted_like_its_column():
    sheet = load(build([make_award(i) for i in range(1, 4)]))[SHEET_AWARDS]
    for row in range(3, 6):
        cells = {cell.column_letter: cell for cell in sheet[row]}
        assert {letter: cells[letter].number_format for letter in "AGHIKO"} == {
            "A": "0",
            "G": "0.00",
            "H": "0",
            "I": "#,##0.00",
            "K": "#,##0.00",
            "O": "yyyy-mm-dd",
        }
        assert [letter for letter, cell in cells.items() if cell.alignment.wrap_text] == list("CJLMP")
        assert {cell.border.left.style for cell in cells.values()} == {"thin"}
        assert {cell.font.name for cell in cells.values()} == {"宋体"}
        assert [cells[letter].data_type for letter in "ABIN"] == ["n", "s", "n", "s"]


def test_award_list_markup_and_control_characters_escaped():
    name = "A&B <b>粗</b> ]]> \"q\" 'x'"
    award = make_award(
        1, unit_name=name, remarks="铃\x07声", payee_name="  前后空格  ", bank="第一行\n第二行"
    )
    sheet = load(build([award, award]))[SHEET_AWARDS]
    for row in (3, 4):
        assert sheet.cell(row, 3).value == name
        assert sheet.cell(row, 16).value == "铃_x0007_声"  # Excel's escape; Excel shows the character
        assert sheet.cell(row, 12).value == "  前后空格  "
        assert sheet.cell(row, 13).value == "第一行\n第二行"


def test_award_list_sheet_dimensions_cover_the_streamed_rows():
    payload = build([make_award(i) for i in range(1, 4)], (make_breakdown(i) for i in range(1, 8)))
    with zipfile.ZipFile(io.BytesIO(payload)) as package:
        assert package.testzip() is None
        awards_xml = package.read("xl/worksheets/sheet1.xml").decode()
        breakdown_xml = package.read("xl/worksheets/sheet2.xml").decode()
    ElementTree.fromstring(awards_xml)  # well-formed
    ElementTree.fromstring(breakdown_xml)
    assert '<dimension ref="A1:P6"/>' in awards_xml
    assert '<dimension ref="A1:H8"/>' in breakdown_xml
    assert awards_xml.count("<row ") == 6
    assert breakdown_xml.count("<row ") == 8


@pytest.mark.parametrize(
    "award",
    [
        make_award(1, amount=Decimal("-1")),
        make_award(1, score=Decimal("NaN")),
        make_award(1, matching_funds=Decimal("Infinity")),
    ],
)
def test_award_list_bad_numbers_refused(award):
    with pytest.raises(ValueError):
        build([award])
