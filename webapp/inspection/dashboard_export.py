"""The national progress dashboard as XLSX (seed 002): national figures and a per-unit table.

A pure function returning bytes: no Flask, no database. The views gather the figures and send the result.

:func:`dashboard_xlsx` writes

- "全国进度": one row per national indicator (指标, 完成, 目标, 完成率, 单位); 完成率 is the spreadsheet formula
  ``=IF(C=0,"",B/C)`` of its row, in percent format; ratios ("%" indicators) are shown as percentages;
- "各单位": one row per unit with the figures and rates; every rate is a formula over the cells of its row
  (``=IF(OR(den="",num="",den=0),"",num/den)``: empty when a figure is missing or the denominator is 0), so
  the workbook stays right when someone corrects a figure; the table has an autofilter (sortable and
  filterable in the spreadsheet), a frozen header and the code and name columns frozen;
- "省级（含兵团）" (categories 省级 and 兵团) and "副省级城市": the same table for those units only.

Each formula carries its value as computed here, so a reader that does not recalculate shows the numbers.
Every sheet is set up for printing: A4 landscape, one page wide, the header rows repeated on every page.
Text that comes from users (names, statuses, hints, the title) is written with ``write_string`` and never
becomes a formula: text starting with ``= + - @``, a tab or a carriage return is prefixed with ``'``.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from webapp.exports.sheets import neutralise

if TYPE_CHECKING:
    from webapp.inspection.dashboard_charts import Gauge

__all__ = [
    "CATEGORY_SHEETS",
    "NATIONAL_HEADERS",
    "NATIONAL_SHEET",
    "UNIT_COLUMNS",
    "UNIT_HEADER_ROW",
    "UNIT_SHEET",
    "UnitProgress",
    "dashboard_xlsx",
]


@dataclass(frozen=True)
class UnitProgress:
    """One unit's row of the dashboard; ``None`` is a figure not reported (an empty cell).

    ``category`` is 省级 / 兵团 / 副省级城市; ``status`` the application's status label or "未申报";
    ``verified_rate`` the roster verified rate (0..1); ``effective_new`` the new associations after
    verification; ``flags`` the hints shown to the office (e.g. criticism candidate).
    """

    code: str
    name: str
    category: str
    status: str
    regulated: int | None
    kexie_total: int | None
    kexie_new: int | None
    task_new: int | None
    liaison: int | None
    task_liaison: int | None
    parks: int | None
    parks_with: int | None
    national_parks: int | None
    national_parks_with: int | None
    verified_rate: Decimal | None
    effective_new: int | None
    flags: str


NATIONAL_SHEET = "全国进度"
UNIT_SHEET = "各单位"
#: The category sheets: name → the categories on it.
CATEGORY_SHEETS: dict[str, frozenset[str]] = {
    "省级（含兵团）": frozenset({"省级", "兵团"}),
    "副省级城市": frozenset({"副省级城市"}),
}
NATIONAL_HEADERS = ("指标", "完成", "目标", "完成率", "单位")

# Column kinds of the unit table.
_TEXT, _COUNT, _RATE, _RATIO = "text", "count", "rate", "ratio"


@dataclass(frozen=True)
class _Column:
    header: str
    kind: str
    width: float
    field: str | None = None  # the UnitProgress attribute (text, count, ratio)
    ratio: tuple[str, str] | None = None  # (numerator header, denominator header) of a rate


_COLUMNS: tuple[_Column, ...] = (
    _Column("单位代码", _TEXT, 10, field="code"),
    _Column("单位名称", _TEXT, 22, field="name"),
    _Column("类别", _TEXT, 10, field="category"),
    _Column("状态", _TEXT, 10, field="status"),
    _Column("规模以上工业企业数", _COUNT, 11, field="regulated"),
    _Column("企业科协总数", _COUNT, 9, field="kexie_total"),
    _Column("企业科协覆盖率", _RATE, 9, ratio=("企业科协总数", "规模以上工业企业数")),
    _Column("本年新建", _COUNT, 8, field="kexie_new"),
    _Column("新建任务", _COUNT, 8, field="task_new"),
    _Column("新建完成率", _RATE, 9, ratio=("本年新建", "新建任务")),
    _Column("联系人制度企业", _COUNT, 9, field="liaison"),
    _Column("联系人任务", _COUNT, 8, field="task_liaison"),
    _Column("联系人完成率", _RATE, 9, ratio=("联系人制度企业", "联系人任务")),
    _Column("园区总数", _COUNT, 8, field="parks"),
    _Column("已建园区科协", _COUNT, 9, field="parks_with"),
    _Column("园区覆盖率", _RATE, 9, ratio=("已建园区科协", "园区总数")),
    _Column("国家级园区", _COUNT, 8, field="national_parks"),
    _Column("已建国家级园区科协", _COUNT, 10, field="national_parks_with"),
    _Column("国家级园区覆盖率", _RATE, 10, ratio=("已建国家级园区科协", "国家级园区")),
    _Column("名册核实率", _RATIO, 9, field="verified_rate"),
    _Column("核实后新建数", _COUNT, 9, field="effective_new"),
    _Column("提示", _TEXT, 28, field="flags"),
)
#: The headers of the unit tables, in order (A, B, C …).
UNIT_COLUMNS: tuple[str, ...] = tuple(column.header for column in _COLUMNS)
_INDEX = {column.header: index for index, column in enumerate(_COLUMNS)}
_LAST_COL = len(_COLUMNS) - 1
#: Row (0-based) of the header of the unit tables: the title and the generation time are above it.
UNIT_HEADER_ROW = 2

_NATIONAL_HEADER_ROW = 2
_FONT = "宋体"
_XLSX_PAGE_HEADER_MAX = 200


# ---------------------------------------------------------------------------------------------------------
# Workbook plumbing


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10.5, "valign": "vcenter"}
        cell = {**base, "border": 1}
        self.title = wb.add_format({**base, "font_size": 16, "bold": True, "align": "left"})
        self.info = wb.add_format({**base, "align": "left"})
        self.header = wb.add_format(
            {**cell, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"}
        )
        self.text = wb.add_format({**cell, "align": "left"})
        self.wrap = wb.add_format({**cell, "align": "left", "text_wrap": True})
        self.center = wb.add_format({**cell, "align": "center"})
        self.count = wb.add_format({**cell, "align": "right", "num_format": "#,##0"})
        self.decimal = wb.add_format({**cell, "align": "right", "num_format": "#,##0.0#"})
        self.percent = wb.add_format({**cell, "align": "right", "num_format": "0.0%"})


def _finite(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return d if d.is_finite() else None


def _write_text(ws, row: int, col: int, text: Any, fmt) -> None:
    text = neutralise("" if text is None else str(text))
    if text:
        ws.write_string(row, col, text, fmt)
    else:
        ws.write_blank(row, col, None, fmt)


def _write_number(ws, row: int, col: int, value: Any, fmt) -> None:
    d = _finite(value)
    if d is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(d), fmt)


def _write_rate(ws, row: int, col: int, num_col: int, den_col: int, num: Any, den: Any, fmt) -> None:
    """``=IF(OR(den="",num="",den=0),"",num/den)`` with its value computed here."""
    num_cell, den_cell = xl_rowcol_to_cell(row, num_col), xl_rowcol_to_cell(row, den_col)
    formula = f'=IF(OR({den_cell}="",{num_cell}="",{den_cell}=0),"",{num_cell}/{den_cell})'
    n, d = _finite(num), _finite(den)
    cached: float | str = "" if n is None or d is None or d == 0 else float(n / d)
    ws.write_formula(row, col, formula, fmt, cached)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _page_header(title: str) -> str:
    """The printed page header: the title with ``&`` doubled (header codes) and cut to a safe length."""
    text = " ".join(str(title or "").split())[:_XLSX_PAGE_HEADER_MAX]
    return "&C" + text.replace("&", "&&") if text else ""


def _print_setup(ws, *, title: str, header_row: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    ws.repeat_rows(header_row, header_row)
    ws.hide_gridlines(0)  # show and print gridlines
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
    ws.center_horizontally()
    header = _page_header(title)
    if header:
        ws.set_header(header)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _heading(ws, fmt: _Formats, title: str, generated_at: str, last_col: int) -> None:
    ws.set_row(0, 28)
    ws.merge_range(0, 0, 0, last_col, "", fmt.title)
    _write_text(ws, 0, 0, title, fmt.title)
    ws.merge_range(1, 0, 1, last_col, "", fmt.info)
    _write_text(ws, 1, 0, f"生成时间：{generated_at}" if generated_at else "", fmt.info)


# ---------------------------------------------------------------------------------------------------------
# The sheets


def _national_sheet(wb, fmt: _Formats, title: str, generated_at: str, gauges: Sequence[Gauge]) -> None:
    ws = wb.add_worksheet(NATIONAL_SHEET)
    last_col = len(NATIONAL_HEADERS) - 1
    _heading(ws, fmt, title, generated_at, last_col)
    labels = [str(g.label) for g in gauges]
    label_width = max(16, min(40, max((_display_width(t) for t in labels), default=0) + 2))
    for col, width in enumerate((label_width, 14, 14, 10, 8)):
        ws.set_column(col, col, width)
    header = _NATIONAL_HEADER_ROW
    ws.set_row(header, 22)
    for col, text in enumerate(NATIONAL_HEADERS):
        ws.write_string(header, col, text, fmt.header)
    for index, gauge in enumerate(gauges):
        row = header + 1 + index
        ratio = str(gauge.unit) == "%"
        value, target = _finite(gauge.value), _finite(gauge.target)
        if ratio:
            figure_fmt = fmt.percent
        elif all(d is None or d == d.to_integral_value() for d in (value, target)):
            figure_fmt = fmt.count
        else:
            figure_fmt = fmt.decimal
        _write_text(ws, row, 0, gauge.label, fmt.text)
        _write_number(ws, row, 1, value, figure_fmt)
        _write_number(ws, row, 2, target, figure_fmt)
        _write_rate(ws, row, 3, 1, 2, value, target, fmt.percent)
        _write_text(ws, row, 4, gauge.unit, fmt.center)
    ws.freeze_panes(header + 1, 0)
    _print_setup(ws, title=title, header_row=header)


def _unit_sheet(
    wb, fmt: _Formats, name: str, title: str, generated_at: str, units: Sequence[UnitProgress]
) -> None:
    ws = wb.add_worksheet(name)
    _heading(ws, fmt, f"{title}（{name}）" if title else name, generated_at, _LAST_COL)
    header = UNIT_HEADER_ROW
    for col, column in enumerate(_COLUMNS):
        width = column.width
        if column.field in ("name", "flags"):
            texts = [str(getattr(u, column.field) or "") for u in units]
            width = max(width, min(48, max((_display_width(t) for t in texts), default=0) + 2))
        ws.set_column(col, col, width)
    ws.set_row(header, 44)
    for col, column in enumerate(_COLUMNS):
        ws.write_string(header, col, column.header, fmt.header)

    text_formats: dict[str, Any] = {"name": fmt.text, "flags": fmt.wrap}
    for index, unit in enumerate(units):
        row = header + 1 + index
        for col, column in enumerate(_COLUMNS):
            if column.kind == _TEXT:
                _write_text(
                    ws, row, col, getattr(unit, column.field), text_formats.get(column.field, fmt.center)
                )
            elif column.kind == _COUNT:
                _write_number(ws, row, col, getattr(unit, column.field), fmt.count)
            elif column.kind == _RATIO:
                _write_number(ws, row, col, getattr(unit, column.field), fmt.percent)
            else:
                num_header, den_header = column.ratio
                num_col, den_col = _INDEX[num_header], _INDEX[den_header]
                _write_rate(
                    ws,
                    row,
                    col,
                    num_col,
                    den_col,
                    getattr(unit, _COLUMNS[num_col].field),
                    getattr(unit, _COLUMNS[den_col].field),
                    fmt.percent,
                )
    ws.autofilter(header, 0, header + max(len(units), 1), _LAST_COL)
    ws.freeze_panes(header + 1, 2)
    _print_setup(ws, title=title, header_row=header)


def dashboard_xlsx(
    *, title: str, generated_at: str, gauges: Sequence[Gauge], units: Sequence[UnitProgress]
) -> bytes:
    """The national dashboard as XLSX bytes.

    Parameters
    ----------
    title : str
        Shown on top of every sheet, in the printed page header and as the workbook's title.
    generated_at : str
        When the figures were taken, as it should read ("2014-11-20 09:30").
    gauges : sequence of Gauge
        The national indicators, in order (sheet "全国进度").
    units : sequence of UnitProgress
        The units, in order (sheet "各单位"; the category sheets keep that order).

    Empty inputs give a valid workbook with the headers only.
    """
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    properties: dict[str, object] = {"title": neutralise(str(title or ""))}
    try:  # the same inputs give the same bytes
        properties["created"] = datetime.fromisoformat(str(generated_at).strip())
    except ValueError:
        pass
    wb.set_properties(properties)
    fmt = _Formats(wb)
    _national_sheet(wb, fmt, title, generated_at, list(gauges))
    units = list(units)
    _unit_sheet(wb, fmt, UNIT_SHEET, title, generated_at, units)
    for name, categories in CATEGORY_SHEETS.items():
        _unit_sheet(wb, fmt, name, title, generated_at, [u for u in units if u.category in categories])
    wb.close()
    return buffer.getvalue()
