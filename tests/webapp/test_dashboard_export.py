"""The national dashboard as XLSX, read back with openpyxl: sheets, formulas, filter, panes, split, safety."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from webapp.inspection.dashboard_charts import Gauge
from webapp.inspection.dashboard_export import UnitProgress, dashboard_xlsx

HEADERS = [
    "单位代码",
    "单位名称",
    "类别",
    "状态",
    "规模以上工业企业数",
    "企业科协总数",
    "企业科协覆盖率",
    "本年新建",
    "新建任务",
    "新建完成率",
    "联系人制度企业",
    "联系人任务",
    "联系人完成率",
    "园区总数",
    "已建园区科协",
    "园区覆盖率",
    "国家级园区",
    "已建国家级园区科协",
    "国家级园区覆盖率",
    "名册核实率",
    "核实后新建数",
    "提示",
]
#: rate column → (numerator column, denominator column), by header.
RATES = {
    "企业科协覆盖率": ("企业科协总数", "规模以上工业企业数"),
    "新建完成率": ("本年新建", "新建任务"),
    "联系人完成率": ("联系人制度企业", "联系人任务"),
    "园区覆盖率": ("已建园区科协", "园区总数"),
    "国家级园区覆盖率": ("已建国家级园区科协", "国家级园区"),
}
HEADER_ROW = 3  # 1-based, as openpyxl counts
UNIT_SHEETS = ["各单位", "省级（含兵团）", "副省级城市"]

GAUGES = [
    Gauge("新建企业科协", Decimal(4213), Decimal(6000), "个"),
    Gauge("科协联系人制度企业", Decimal(16500), Decimal(15000), "家"),
    Gauge("园区科协覆盖率", Decimal("0.183"), Decimal("0.25"), "%"),
    Gauge("国家级园区科协覆盖率", Decimal("0.42"), Decimal("0.4"), "%"),
    Gauge("企业科协覆盖率（起点 6.1%）", Decimal("0.065"), Decimal("0.061"), "%"),
]


def unit(code, name, category, **figures) -> UnitProgress:
    defaults = dict(
        status="已提交",
        regulated=1000,
        kexie_total=80,
        kexie_new=30,
        task_new=40,
        liaison=100,
        task_liaison=200,
        parks=10,
        parks_with=3,
        national_parks=2,
        national_parks_with=1,
        verified_rate=Decimal("0.8"),
        effective_new=24,
        flags="",
    )
    defaults.update(figures)
    return UnitProgress(code=code, name=name, category=category, **defaults)


UNITS = [
    unit("110000", "北京市科协", "省级"),
    unit("660000", "新疆生产建设兵团科协", "兵团", kexie_new=10, flags="新建完成率低于 50%，通报批评候选"),
    unit("210200", "大连市科协", "副省级城市", regulated=0, task_new=None, verified_rate=None),
    unit("120000", "天津市科协", "省级", status="未申报", kexie_total=None, kexie_new=None, liaison=None),
    unit("440300", "深圳市科协", "副省级城市", parks=0, parks_with=0),
]


def workbook(units=UNITS, gauges=GAUGES, **kwargs) -> bytes:
    kwargs.setdefault("title", "2014 年企业科协组织建设全国进度")
    kwargs.setdefault("generated_at", "2014-11-20 09:30")
    return dashboard_xlsx(gauges=gauges, units=units, **kwargs)


def load(data: bytes, *, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


def col(header: str) -> str:
    return get_column_letter(HEADERS.index(header) + 1)


def table(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=len(HEADERS), values_only=True)]


def test_sheets_in_order():
    assert load(workbook()).sheetnames == ["全国进度", *UNIT_SHEETS]


def test_national_sheet_figures_and_rate_formulas():
    ws = load(workbook())["全国进度"]
    assert ws["A1"].value == "2014 年企业科协组织建设全国进度"
    assert "2014-11-20 09:30" in ws["A2"].value
    assert [c.value for c in ws[3]] == ["指标", "完成", "目标", "完成率", "单位"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == [g.label for g in GAUGES]
    assert [r[1] for r in rows] == [4213, 16500, 0.183, 0.42, 0.065]
    assert [r[2] for r in rows] == [6000, 15000, 0.25, 0.4, 0.061]
    assert [r[4] for r in rows] == ["个", "家", "%", "%", "%"]
    for index, row in enumerate(rows, start=4):
        assert row[3] == f'=IF(OR(C{index}="",B{index}="",C{index}=0),"",B{index}/C{index})'
        assert "%" in ws.cell(index, 4).number_format
    assert "%" in ws["B6"].number_format and "%" not in ws["B4"].number_format
    assert ws.freeze_panes == "A4"
    cached = load(workbook(), data_only=True)["全国进度"]
    assert cached["D4"].value == pytest.approx(4213 / 6000)
    assert cached["D6"].value == pytest.approx(0.183 / 0.25)


def test_unit_sheet_headers_and_values():
    ws = load(workbook())["各单位"]
    assert ws["A1"].value.startswith("2014 年企业科协组织建设全国进度")
    assert [c.value for c in ws[HEADER_ROW]] == HEADERS
    rows = table(ws)
    assert [r[0] for r in rows] == [u.code for u in UNITS]
    assert [r[1] for r in rows] == [u.name for u in UNITS]
    first = dict(zip(HEADERS, rows[0], strict=True))
    assert first["规模以上工业企业数"] == 1000 and first["企业科协总数"] == 80
    assert first["名册核实率"] == 0.8 and "%" in ws[f"{col('名册核实率')}{HEADER_ROW + 1}"].number_format
    assert first["核实后新建数"] == 24
    assert dict(zip(HEADERS, rows[1], strict=True))["提示"] == "新建完成率低于 50%，通报批评候选"
    missing = dict(zip(HEADERS, rows[3], strict=True))
    assert missing["状态"] == "未申报" and missing["企业科协总数"] is None and missing["本年新建"] is None


@pytest.mark.parametrize("sheet", UNIT_SHEETS)
def test_rate_columns_are_formulas_over_their_own_row(sheet):
    ws = load(workbook())[sheet]
    assert ws.max_row > HEADER_ROW
    for row in range(HEADER_ROW + 1, ws.max_row + 1):
        for rate, (numerator, denominator) in RATES.items():
            num, den = f"{col(numerator)}{row}", f"{col(denominator)}{row}"
            cell = ws[f"{col(rate)}{row}"]
            assert cell.value == f'=IF(OR({den}="",{num}="",{den}=0),"",{num}/{den})', (sheet, rate, row)
            assert "%" in cell.number_format


def test_rate_formulas_carry_their_values():
    ws = load(workbook(), data_only=True)["各单位"]
    rows = [dict(zip(HEADERS, r, strict=True)) for r in table(ws)]
    assert rows[0]["企业科协覆盖率"] == pytest.approx(0.08)
    assert rows[0]["新建完成率"] == pytest.approx(0.75)
    assert rows[0]["联系人完成率"] == pytest.approx(0.5)
    assert rows[0]["园区覆盖率"] == pytest.approx(0.3)
    assert rows[0]["国家级园区覆盖率"] == pytest.approx(0.5)
    assert rows[1]["新建完成率"] == pytest.approx(0.25)
    assert rows[2]["企业科协覆盖率"] in ("", None)  # 0 regulated enterprises
    assert rows[2]["新建完成率"] in ("", None)  # no task
    assert rows[3]["企业科协覆盖率"] in ("", None)  # no figure
    assert rows[4]["园区覆盖率"] in ("", None)  # no parks


@pytest.mark.parametrize("sheet,count", [("各单位", 5), ("省级（含兵团）", 3), ("副省级城市", 2)])
def test_autofilter_frozen_header_and_print_setup(sheet, count):
    ws = load(workbook())[sheet]
    last = get_column_letter(len(HEADERS))
    assert last == "V"
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:{last}{HEADER_ROW + count}"
    assert ws.freeze_panes == f"C{HEADER_ROW + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["B"].width >= 20
    assert ws.column_dimensions["E"].width >= 8


def test_category_split_keeps_order():
    wb = load(workbook())
    provincial = [r[0] for r in table(wb["省级（含兵团）"])]
    sub_provincial = [r[0] for r in table(wb["副省级城市"])]
    assert provincial == ["110000", "660000", "120000"]
    assert sub_provincial == ["210200", "440300"]
    assert [r[2] for r in table(wb["省级（含兵团）"])] == ["省级", "兵团", "省级"]


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_user_text_never_becomes_a_formula(payload):
    hostile = unit(payload, payload, "省级", status=payload, flags=payload)
    data = workbook(
        units=[hostile],
        gauges=[Gauge(payload, Decimal(1), Decimal(2), "个")],
        title=payload,
        generated_at=payload,
    )
    wb = load(data)
    ws = wb["各单位"]
    row = HEADER_ROW + 1
    for header in ("单位代码", "单位名称", "状态", "提示"):
        cell = ws[f"{col(header)}{row}"]
        assert cell.data_type == "s"
        assert cell.value.startswith("'")
    national = wb["全国进度"]
    assert national["A4"].data_type == "s" and national["A4"].value.startswith("'")
    assert ws["A1"].data_type == "s"
    assert wb["省级（含兵团）"][f"B{row}"].value.startswith("'")
    # Only the rate columns hold formulas.
    formulas = {
        cell.coordinate
        for sheet in wb.worksheets
        for line in sheet.iter_rows()
        for cell in line
        if cell.data_type == "f"
    }
    rate_cols = {col(rate) for rate in RATES}
    assert {re.match(r"[A-Z]+", c).group() for c in formulas} <= rate_cols | {"D"}


def test_empty_inputs_give_a_valid_workbook():
    data = dashboard_xlsx(title="", generated_at="", gauges=[], units=[])
    wb = load(data)
    assert wb.sheetnames == ["全国进度", *UNIT_SHEETS]
    assert [c.value for c in wb["全国进度"][3]] == ["指标", "完成", "目标", "完成率", "单位"]
    assert wb["全国进度"].max_row == 3
    for sheet in UNIT_SHEETS:
        ws = wb[sheet]
        assert [c.value for c in ws[HEADER_ROW]] == HEADERS
        assert ws.auto_filter.ref == f"A{HEADER_ROW}:V{HEADER_ROW + 1}"
        assert table(ws) == [] or all(v is None for r in table(ws) for v in r)


def test_zero_target_and_missing_figures_do_not_break():
    gauges = [
        Gauge("无目标", Decimal(5), Decimal(0), "个"),
        Gauge("小数", Decimal("12.5"), Decimal(100), "个"),
    ]
    wb = load(workbook(gauges=gauges), data_only=True)
    ws = wb["全国进度"]
    assert ws["D4"].value in ("", None)
    assert ws["D5"].value == pytest.approx(0.125)
    assert ws["B5"].value == 12.5


def test_same_input_same_bytes():
    assert workbook() == workbook()
