"""Expert score sheets and the panel summary, read back with openpyxl."""

from __future__ import annotations

import io
import time
from decimal import Decimal as D

import openpyxl
import pytest

from webapp.exports.sheets import (
    ExpertReview,
    ExpertSheet,
    SheetCriterion,
    SummaryRow,
    neutralise,
    panel_summary_xlsx,
    score_sheets_xlsx,
    sheet_names,
)

TITLE = "2014年企业科协组织建设试点示范"
PRINTED_ON = "2014-11-21"
CRITERIA = [
    SheetCriterion("org", "组织建设", D("30")),
    SheetCriterion("svc", "服务创新", D("40")),
    SheetCriterion("eff", "工作成效", D("30")),
]
SIGNATURE = "专家签名：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日"
LEADER = "专家组组长签名：＿＿＿＿＿＿　日期：＿＿＿＿年＿＿月＿＿日"


def load(data: bytes, *, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


def values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def review(code="110000", name="北京市科学技术协会", org="25", svc="33.5", eff="27", opinion="材料翔实。"):
    scores = {"org": D(org) if org else None, "svc": D(svc) if svc else None, "eff": D(eff) if eff else None}
    return ExpertReview(code, name, scores, opinion, "2014-11-20")


def one_sheet(**kwargs) -> bytes:
    sheet = ExpertSheet(kwargs.pop("expert_name", "王建国"), "清华大学", kwargs.pop("reviews", [review()]))
    return score_sheets_xlsx(title=TITLE, criteria=CRITERIA, sheets=[sheet], printed_on=PRINTED_ON)


def summary(rows=None, experts=("王建国", "李红")) -> bytes:
    if rows is None:
        rows = [
            SummaryRow(
                1,
                "310000",
                "上海市科学技术协会",
                {"王建国": D("88.5"), "李红": D("86")},
                {"org": D("26.33"), "svc": D("34.17"), "eff": D("26.75")},
                D("87.25"),
                "",
            ),
            SummaryRow(
                2,
                "110000",
                "北京市科学技术协会",
                {"王建国": D("84"), "李红": D("84.25")},
                {"org": D("25.13"), "svc": D("33.38"), "eff": D("25.63")},
                D("84.14"),
                "临界",
            ),
            SummaryRow(
                None, "660000", "新疆生产建设兵团科学技术协会", {"王建国": None}, {}, None, "评审不足"
            ),
        ]
    return panel_summary_xlsx(
        title=TITLE,
        criteria=CRITERIA,
        experts=list(experts),
        rows=rows,
        run_label="评审结果 #3",
        printed_on=PRINTED_ON,
    )


# -- sheet names ------------------------------------------------------------------------------------------------


def test_sheet_names_forbidden_characters_replaced():
    assert sheet_names(["张[三]", "a:b*c?d/e\\f", "'引号'"]) == ["张_三_", "a_b_c_d_e_f", "引号"]


def test_sheet_names_repeats_numbered_without_case():
    assert sheet_names(["张三", "张三", "Li Ming", "li ming", "张三"]) == [
        "张三",
        "张三 (2)",
        "Li Ming",
        "li ming (2)",
        "张三 (3)",
    ]


def test_sheet_names_long_names_cut_to_31_and_unique():
    long = "中国科学院" * 10
    names = sheet_names([long, long, long])
    assert [len(n) for n in names] == [31, 31, 31]
    assert len({n.lower() for n in names}) == 3
    assert names[1].endswith(" (2)")


def test_sheet_names_empty_control_and_reserved():
    assert sheet_names(["", "\t\n", "History", "  "]) == ["专家", "专家 (2)", "History_", "专家 (3)"]


def test_score_sheets_names_sanitised_in_workbook():
    sheets = [ExpertSheet(n, "单位", [review()]) for n in ["张三", "张三", "王/五", "赵" * 40]]
    wb = load(score_sheets_xlsx(title=TITLE, criteria=CRITERIA, sheets=sheets, printed_on=PRINTED_ON))
    assert wb.sheetnames == ["张三", "张三 (2)", "王_五", "赵" * 31]


# -- score sheets -----------------------------------------------------------------------------------------------


def test_score_sheet_title_line_and_headers():
    ws = load(one_sheet()).active
    assert ws["A1"].value == f"{TITLE} 专家评分表"
    assert "A1:I1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "评审专家：王建国　工作单位：清华大学　打印日期：2014-11-21"
    assert values(ws)[2] == [
        "序号",
        "单位代码",
        "申报单位",
        "组织建设（满分 30）",
        "服务创新（满分 40）",
        "工作成效（满分 30）",
        "合计",
        "评审意见",
        "提交日期",
    ]


def test_score_sheet_rows_and_sum_formulas():
    reviews = [review(), review("120000", "天津市科学技术协会", "20", "30", "")]
    data = one_sheet(reviews=reviews)
    ws = load(data).active
    assert values(ws)[3] == [
        1,
        "110000",
        "北京市科学技术协会",
        25,
        33.5,
        27,
        "=SUM(D4:F4)",
        "材料翔实。",
        "2014-11-20",
    ]
    assert values(ws)[4][:7] == [2, "120000", "天津市科学技术协会", 20, 30, None, "=SUM(D5:F5)"]
    cached = load(data, data_only=True).active
    assert [cached["G4"].value, cached["G5"].value] == [85.5, 50]


def test_score_sheet_signature_after_two_blank_rows():
    ws = load(one_sheet(reviews=[review(), review()])).active
    rows = values(ws)
    assert rows[5] == [None] * 9
    assert rows[6] == [None] * 9
    assert rows[7][0] == SIGNATURE
    assert ws.max_row == 8


def test_score_sheet_opinion_kept_with_newlines_and_wrapped():
    opinion = "一、组织健全。\n二、服务有特色；\n三、建议加强会员发展。"
    ws = load(one_sheet(reviews=[review(opinion=opinion)])).active
    assert ws["H4"].value == opinion
    assert ws["H4"].alignment.wrap_text is True


def test_score_sheet_crlf_opinion_becomes_lf():
    ws = load(one_sheet(reviews=[review(opinion="第一段\r\n第二段")])).active
    assert ws["H4"].value == "第一段\n第二段"


def test_score_sheet_table_has_borders_and_widths():
    ws = load(one_sheet()).active
    for ref in ("A3", "I3", "A4", "G4", "I4"):
        assert ws[ref].border.left.style == "thin", ref
        assert ws[ref].border.bottom.style == "thin", ref
    assert ws.column_dimensions["C"].width >= 16
    assert ws.column_dimensions["H"].width >= 40


@pytest.mark.parametrize("make", [lambda: load(one_sheet()).active, lambda: load(summary()).active])
def test_print_setup_a4_landscape_one_page_wide(make):
    ws = make()
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is written only when it differs from the file format's default, which is 1.
    assert (ws.page_setup.fitToWidth or 1) == 1
    assert int(ws.page_setup.fitToHeight) == 0
    assert ws.print_options.gridLines is True


def test_score_sheet_repeats_header_row():
    assert load(one_sheet()).active.print_title_rows == "$3:$3"


def test_score_sheet_without_criteria_has_no_formula():
    sheet = ExpertSheet("王建国", "清华大学", [review()])
    ws = load(score_sheets_xlsx(title=TITLE, criteria=[], sheets=[sheet], printed_on=PRINTED_ON)).active
    assert values(ws)[2] == ["序号", "单位代码", "申报单位", "合计", "评审意见", "提交日期"]
    assert values(ws)[3] == [1, "110000", "北京市科学技术协会", None, "材料翔实。", "2014-11-20"]


def test_score_sheets_empty_inputs_valid():
    wb = load(score_sheets_xlsx(title="", criteria=[], sheets=[], printed_on=""))
    assert wb.sheetnames == ["专家评分表"]
    assert wb.active["A1"].value == " 专家评分表"
    ws = load(one_sheet(reviews=[])).active
    assert ws.max_row == 6
    assert ws["A6"].value == SIGNATURE


def test_score_sheets_same_input_same_bytes():
    assert one_sheet() == one_sheet()


# -- formula injection ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\n=1"),
        ("张三=1", "张三=1"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_formula_triggers(text, written):
    assert neutralise(text) == written


def test_score_sheet_user_text_never_formula():
    bad = "=cmd|' /C calc'!A0"
    sheet = ExpertSheet(bad, "+单位", [ExpertReview("-1", "@单位", {"org": D(1)}, "=1+1\n第二行", "")])
    data = score_sheets_xlsx(title=TITLE, criteria=CRITERIA, sheets=[sheet], printed_on=PRINTED_ON)
    ws = load(data).active
    assert ws.title == "=cmd|' _C calc'!A0"
    assert ws["B4"].value == "'-1"
    assert ws["C4"].value == "'@单位"
    assert ws["H4"].value == "'=1+1\n第二行"
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == ["G4"]


def test_summary_user_text_never_formula():
    rows = [SummaryRow(1, "=1", "+单位", {"=expert": D(1)}, {}, None, "-flag")]
    ws = load(summary(rows=rows, experts=["=expert"])).active
    assert [ws["B5"].value, ws["C5"].value, ws["D4"].value, ws["I5"].value] == [
        "'=1",
        "'+单位",
        "'=expert",
        "'-flag",
    ]
    assert "'=expert：＿＿＿＿＿＿" in {c.value for row in ws.iter_rows() for c in row}
    assert [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"] == []


# -- panel summary ----------------------------------------------------------------------------------------------


def test_summary_title_basis_and_headers():
    ws = load(summary()).active
    assert ws.title == "评分汇总表"
    assert ws["A1"].value == f"{TITLE} 评分汇总表"
    assert ws["A2"].value == "依据：评审结果 #3　打印日期：2014-11-21"
    rows = values(ws)
    assert rows[2] == [
        "排名",
        "单位代码",
        "单位名称",
        "专家评分（合计）",
        None,
        "各项得分",
        None,
        None,
        "总分",
        "提示",
    ]
    assert rows[3] == [
        None,
        None,
        None,
        "王建国",
        "李红",
        "组织建设（满分 30）",
        "服务创新（满分 40）",
        "工作成效（满分 30）",
        None,
        None,
    ]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:H3", "I3:I4", "J3:J4"} <= merged
    assert ws.print_title_rows == "$3:$4"


def test_summary_rows_values_not_formulas():
    ws = load(summary()).active
    rows = values(ws)
    assert rows[4] == [1, "310000", "上海市科学技术协会", 88.5, 86, 26.33, 34.17, 26.75, 87.25, None]
    assert rows[5] == [2, "110000", "北京市科学技术协会", 84, 84.25, 25.13, 33.38, 25.63, 84.14, "临界"]
    assert rows[6] == [
        None,
        "660000",
        "新疆生产建设兵团科学技术协会",
        None,
        None,
        None,
        None,
        None,
        None,
        "评审不足",
    ]
    assert ws["I5"].data_type == "n"


def test_summary_criteria_sum_to_total():
    ws = load(summary()).active
    for row in ws.iter_rows(min_row=5, max_row=6):
        criteria = [D(str(c.value)) for c in row[5:8]]
        assert sum(criteria) == D(str(row[8].value))


def test_summary_number_formats_show_two_places():
    ws = load(summary()).active
    assert ws["F5"].number_format == "0.00"
    assert ws["I5"].number_format == "0.00"
    assert ws["D5"].number_format == "0.00"


def test_summary_signature_boxes_for_every_expert_and_leader():
    experts = [f"专家{i:02d}" for i in range(1, 11)]
    rows = [SummaryRow(1, "110000", "北京", {e: D(80) for e in experts}, {"org": D(80)}, D(80), "")]
    ws = load(summary(rows=rows, experts=experts)).active
    cells = {c.value: c.row for row in ws.iter_rows() for c in row if c.value}
    assert cells["评审专家签名："] == 8  # data ends at row 5, then two blank rows
    boxes = [f"{e}：＿＿＿＿＿＿" for e in experts]
    assert all(b in cells for b in boxes)
    assert [cells[b] for b in boxes] == [9] * 4 + [10] * 4 + [11] * 2
    assert cells[LEADER] == 13
    assert ws.max_row == 13


def test_summary_empty_inputs_valid():
    data = panel_summary_xlsx(title="", criteria=[], experts=[], rows=[], run_label="", printed_on="")
    ws = load(data).active
    rows = values(ws)
    assert rows[2] == ["排名", "单位代码", "单位名称", "总分", "提示"]
    assert rows[6][0] == "评审专家签名："
    assert rows[8][0] == LEADER


# -- scale ------------------------------------------------------------------------------------------------------


def test_twenty_experts_fifty_rows_fast():
    experts = [f"专家{i:02d}" for i in range(20)]
    reviews = [review(f"{110000 + i * 10000}", f"单位{i}", opinion="意见" * 100) for i in range(50)]
    sheets = [ExpertSheet(e, "单位", reviews) for e in experts]
    rows = [
        SummaryRow(i + 1, f"{i}", f"单位{i}", {e: D("85.5") for e in experts}, {"org": D(25)}, D(25), "")
        for i in range(50)
    ]
    start = time.perf_counter()
    sheets_data = score_sheets_xlsx(title=TITLE, criteria=CRITERIA, sheets=sheets, printed_on=PRINTED_ON)
    summary_data = summary(rows=rows, experts=experts)
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    wb = load(sheets_data)
    assert len(wb.sheetnames) == 20
    assert wb[experts[-1]]["G53"].value == "=SUM(D53:F53)"
    assert load(summary_data).active.max_column == 3 + 20 + 3 + 2
