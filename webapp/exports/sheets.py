"""Expert score sheets (专家评分表) and the panel summary (评分汇总表) as XLSX (§4, §6).

Pure functions returning bytes: no Flask, no database. The views gather the rows and send the result.

- :func:`score_sheets_xlsx` writes one worksheet per expert: the units reviewed, one column per criterion, a
  合计 column that is a spreadsheet ``SUM`` over the criteria cells of its row (so the expert can check it),
  the opinion (评审意见), the submission date and a signature line.
- :func:`panel_summary_xlsx` writes one worksheet: per unit the rank, each expert's total (the engine's
  reviewer total), the final criterion scores and the total of the results run, with signature lines for
  every expert and the panel leader. The 总分 column is the run's value, not a formula: the engine's rounding
  rule is authoritative, and because a total is the exact sum of its rounded criteria a ``SUM`` agrees.

Both are set up for printing: A4 landscape, one page wide, the header rows repeated on every page, gridlines
and borders printed. Text that comes from users (names, opinions, labels) is always written as a string and
never becomes a formula: text starting with ``= + - @``, a tab or a carriage return is prefixed with ``'``.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_range

__all__ = [
    "ExpertReview",
    "ExpertSheet",
    "SheetCriterion",
    "SummaryRow",
    "neutralise",
    "panel_summary_xlsx",
    "score_sheets_xlsx",
    "sheet_names",
]


@dataclass(frozen=True)
class SheetCriterion:
    """One column of scores: the rubric criterion's key, its title and its maximum."""

    key: str
    title: str
    max: Decimal


@dataclass(frozen=True)
class ExpertReview:
    """One expert's review of one unit. ``submitted_on`` is an ISO date, or ``""`` when not submitted."""

    unit_code: str
    unit_name: str
    scores: Mapping[str, Decimal | None]
    opinion: str
    submitted_on: str


@dataclass(frozen=True)
class ExpertSheet:
    """Everything on one expert's score sheet."""

    expert_name: str
    affiliation: str
    reviews: Sequence[ExpertReview]


@dataclass(frozen=True)
class SummaryRow:
    """One unit in the panel summary; ``None`` is missing (not ranked, not reviewed)."""

    rank: int | None
    unit_code: str
    unit_name: str
    reviewer_totals: Mapping[str, Decimal | None]
    criteria: Mapping[str, Decimal | None]
    total: Decimal | None
    flags: str


# --------------------------------------------------------------------------------------------------------------
# Text and names

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_FORBIDDEN = set("[]:*?/\\")
_SHEET_NAME_MAX = 31  # Excel's limit, in UTF-16 units
_RESERVED_SHEET_NAMES = {"history"}  # Excel reserves it
_XLSX_STRING_MAX = 32767


def neutralise(text: str) -> str:
    """Text from users as it goes into a cell: never a formula when opened or re-exported.

    >>> neutralise("=1+1"), neutralise("张三"), neutralise("-")
    ("'=1+1", '张三', "'-")
    """
    text = "" if text is None else str(text)
    if text.startswith(_FORMULA_TRIGGERS):
        text = "'" + text
    # Excel breaks lines on LF alone; a lone CR would not survive a round trip through the XML.
    return text.replace("\r\n", "\n").replace("\r", "\n")[:_XLSX_STRING_MAX]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _clip_utf16(text: str, limit: int) -> str:
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def _clean_sheet_name(name: str, fallback: str) -> str:
    cleaned = "".join(
        "_" if ch in _SHEET_NAME_FORBIDDEN else ch
        for ch in str(name or "")
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    cleaned = " ".join(cleaned.split())  # newlines, tabs and runs of spaces → one space
    cleaned = cleaned.strip("'").strip()
    cleaned = _clip_utf16(cleaned, _SHEET_NAME_MAX).rstrip("'").strip()
    if not cleaned:
        cleaned = fallback
    if cleaned.lower() in _RESERVED_SHEET_NAMES:
        cleaned = cleaned + "_"
    return cleaned


def sheet_names(names: Sequence[str], *, fallback: str = "专家", taken: Sequence[str] = ()) -> list[str]:
    """Valid, unique worksheet names for ``names``, in order.

    Forbidden characters (``[]:*?/\\``) become ``_``, control characters go, the name is cut to 31 UTF-16
    units and may not start or end with ``'``; an empty name becomes ``fallback``. Repeats (compared without
    case, as Excel does) get `` (2)``, `` (3)`` … with the base shortened to keep within 31.

    >>> sheet_names(["张三", "张三", "a/b", ""])
    ['张三', '张三 (2)', 'a_b', '专家']
    """
    used = {t.lower() for t in taken}
    result: list[str] = []
    for name in names:
        base = _clean_sheet_name(name, fallback)
        candidate = base
        n = 1
        while candidate.lower() in used:
            n += 1
            suffix = f" ({n})"
            stem = _clip_utf16(base, _SHEET_NAME_MAX - _utf16_len(suffix)).rstrip("'").rstrip() or fallback
            candidate = stem + suffix
        used.add(candidate.lower())
        result.append(candidate)
    return result


def _display_width(text: str) -> int:
    """Width in Excel column units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _max_line_width(texts: Sequence[str]) -> int:
    return max((_display_width(line) for t in texts for line in str(t or "").split("\n")), default=0)


# --------------------------------------------------------------------------------------------------------------
# Numbers


def _finite(value: Decimal | int | float | None) -> Decimal | None:
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d if d.is_finite() else None


def _places(values) -> int:
    """Decimal places needed to show every value as given (at most 4)."""
    places = 0
    for v in values:
        d = _finite(v)
        if d is not None:
            exponent = d.as_tuple().exponent
            places = max(places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return min(places, 4)


def _num_format(places: int) -> str:
    return "0" if places == 0 else "0." + "0" * places


def _plain(d: Decimal) -> str:
    """``Decimal('20.00')`` → ``'20'``, ``Decimal('2.5')`` → ``'2.5'``."""
    d = _finite(d)
    if d is None:
        return ""
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _max_label(c: SheetCriterion) -> str:
    return f"{c.title}（满分 {_plain(c.max)}）"


# --------------------------------------------------------------------------------------------------------------
# Workbook plumbing

_FONT = "宋体"
_SIGN_ROW_HEIGHT = 30


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10.5, "valign": "vcenter"}
        cell = {**base, "border": 1}
        self.title = wb.add_format({**base, "font_size": 16, "bold": True, "align": "center"})
        self.info = wb.add_format({**base, "align": "left"})
        self.header = wb.add_format(
            {**cell, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"}
        )
        self.text = wb.add_format({**cell, "align": "left"})
        self.center = wb.add_format({**cell, "align": "center"})
        self.wrap = wb.add_format({**cell, "align": "left", "valign": "top", "text_wrap": True})
        self.sign = wb.add_format({**base, "align": "left"})
        self._wb = wb
        self._cell = cell
        self._numbers: dict[tuple[int, bool], object] = {}

    def number(self, places: int, bold: bool = False):
        key = (places, bold)
        if key not in self._numbers:
            self._numbers[key] = self._wb.add_format(
                {**self._cell, "align": "center", "num_format": _num_format(places), "bold": bold}
            )
        return self._numbers[key]


def _new_workbook(buffer: io.BytesIO, *, title: str, printed_on: str) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    properties: dict[str, object] = {"title": neutralise(title)}
    try:  # the same inputs give the same bytes
        properties["created"] = datetime.combine(date.fromisoformat(printed_on), datetime.min.time())
    except (TypeError, ValueError):
        pass
    wb.set_properties(properties)
    return wb


def _print_setup(ws, *, header_first: int, header_last: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    ws.repeat_rows(header_first, header_last)
    ws.hide_gridlines(0)  # show and print gridlines
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")


def _line(ws, row: int, last_col: int, text: str, fmt, *, height: float | None = None) -> None:
    """One line of text across the whole table width."""
    if height is not None:
        ws.set_row(row, height)
    if last_col > 0:
        ws.merge_range(row, 0, row, last_col, "", fmt)
    ws.write_string(row, 0, neutralise(text), fmt)


def _fit(low: int, high: int, texts: Sequence[str]) -> int:
    """A column width between ``low`` and ``high`` that fits ``texts`` if it can."""
    return max(low, min(high, _max_line_width(texts) + 2))


def _criterion_width(c: SheetCriterion) -> int:
    return max(10, min(16, _display_width(c.title) // 2 + 2))


def _set_widths(ws, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)


def _header_height(headers: Sequence[str], widths: Sequence[float]) -> float:
    """Row height (points) that shows every wrapped header in full."""
    lines = max(
        (-(-_display_width(h) // max(1, int(w) - 1)) for h, w in zip(headers, widths, strict=True)),
        default=1,
    )
    return max(30, 14 * lines + 6)


def _write_text(ws, row: int, col: int, text: str, fmt) -> None:
    text = neutralise(text)
    if text:
        ws.write_string(row, col, text, fmt)
    else:
        ws.write_blank(row, col, None, fmt)


def _write_number(ws, row: int, col: int, value, fmt) -> None:
    d = _finite(value)
    if d is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(d), fmt)


# --------------------------------------------------------------------------------------------------------------
# Expert score sheets

SCORE_SHEET_SIGNATURE = "专家签名：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日"


def score_sheets_xlsx(
    *,
    title: str,
    criteria: Sequence[SheetCriterion],
    sheets: Sequence[ExpertSheet],
    printed_on: str,
) -> bytes:
    """One printable score sheet (专家评分表) per expert, as XLSX bytes.

    Each worksheet: the title, the expert's name, affiliation and the print date, then a table (序号, 单位代码,
    申报单位, one column per criterion, 合计 as ``=SUM(...)`` over that row's criteria, 评审意见, 提交日期),
    two blank rows and the signature line. With no sheets the workbook holds one empty sheet with the title.
    """
    buffer = io.BytesIO()
    wb = _new_workbook(buffer, title=title, printed_on=printed_on)
    fmt = _Formats(wb)
    criteria = list(criteria)
    names = sheet_names([s.expert_name for s in sheets])
    if not sheets:
        _score_sheet(wb, fmt, "专家评分表", title, criteria, ExpertSheet("", "", ()), printed_on)
    for name, sheet in zip(names, sheets, strict=True):
        _score_sheet(wb, fmt, name, title, criteria, sheet, printed_on)
    wb.close()
    return buffer.getvalue()


def _score_sheet(wb, fmt: _Formats, name, title, criteria, sheet: ExpertSheet, printed_on) -> None:
    ws = wb.add_worksheet(name)
    n_crit = len(criteria)
    col_first_crit = 3
    col_total = col_first_crit + n_crit
    col_opinion = col_total + 1
    col_date = col_total + 2
    last_col = col_date
    header_row, first_row = 2, 3

    _line(ws, 0, last_col, f"{title} 专家评分表", fmt.title, height=30)
    _line(
        ws,
        1,
        last_col,
        f"评审专家：{sheet.expert_name}　工作单位：{sheet.affiliation}　打印日期：{printed_on}",
        fmt.info,
        height=22,
    )

    headers = [
        "序号",
        "单位代码",
        "申报单位",
        *(_max_label(c) for c in criteria),
        "合计",
        "评审意见",
        "提交日期",
    ]
    widths = [
        6,
        _fit(10, 14, [r.unit_code for r in sheet.reviews]),
        _fit(16, 36, [r.unit_name for r in sheet.reviews]),
        *(_criterion_width(c) for c in criteria),
        9,
        48,
        12,
    ]
    _set_widths(ws, widths)
    ws.set_row(header_row, _header_height(headers, widths))
    for col, text in enumerate(headers):
        _write_text(ws, header_row, col, text, fmt.header)

    crit_places = [_places([c.max, *(r.scores.get(c.key) for r in sheet.reviews)]) for c in criteria]
    total_fmt = fmt.number(max(crit_places, default=0), bold=True)
    for i, review in enumerate(sheet.reviews):
        row = first_row + i
        ws.write_number(row, 0, i + 1, fmt.center)
        _write_text(ws, row, 1, review.unit_code, fmt.center)
        _write_text(ws, row, 2, review.unit_name, fmt.text)
        cached = Decimal(0)
        for j, c in enumerate(criteria):
            value = _finite(review.scores.get(c.key))
            cached += value or 0
            _write_number(ws, row, col_first_crit + j, value, fmt.number(crit_places[j]))
        if n_crit:
            cells = xl_range(row, col_first_crit, row, col_total - 1)
            ws.write_formula(row, col_total, f"=SUM({cells})", total_fmt, float(cached))
        else:
            ws.write_blank(row, col_total, None, total_fmt)
        _write_text(ws, row, col_opinion, review.opinion, fmt.wrap)
        _write_text(ws, row, col_date, review.submitted_on, fmt.center)

    sign_row = first_row + len(sheet.reviews) + 2  # two blank rows
    _line(ws, sign_row, last_col, SCORE_SHEET_SIGNATURE, fmt.sign, height=_SIGN_ROW_HEIGHT)

    ws.freeze_panes(first_row, 3)
    _print_setup(ws, header_first=header_row, header_last=header_row)


# --------------------------------------------------------------------------------------------------------------
# Panel summary

SUMMARY_SHEET_NAME = "评分汇总表"
EXPERTS_SIGNATURE = "评审专家签名："
LEADER_SIGNATURE = "专家组组长签名：＿＿＿＿＿＿　日期：＿＿＿＿年＿＿月＿＿日"
EXPERTS_GROUP = "专家评分（合计）"
CRITERIA_GROUP = "各项得分"
_SIGN_BOXES_PER_ROW = 4


def panel_summary_xlsx(
    *,
    title: str,
    criteria: Sequence[SheetCriterion],
    experts: Sequence[str],
    rows: Sequence[SummaryRow],
    run_label: str,
    printed_on: str,
) -> bytes:
    """The panel summary (评分汇总表) of one results run, as XLSX bytes.

    One worksheet: the title, the run it follows and the print date; a two-row header (排名, 单位代码,
    单位名称, under 专家评分（合计） one column per expert, under 各项得分 one column per criterion, 总分,
    提示); the rows in the order given; then the experts' signature boxes ("<name>：＿＿＿＿＿＿", several to a
    row) and the panel leader's signature line. 总分 is the run's value, not a formula.
    """
    buffer = io.BytesIO()
    wb = _new_workbook(buffer, title=title, printed_on=printed_on)
    fmt = _Formats(wb)
    criteria = list(criteria)
    experts = list(experts)
    ws = wb.add_worksheet(SUMMARY_SHEET_NAME)

    n_exp, n_crit = len(experts), len(criteria)
    col_first_exp = 3
    col_first_crit = col_first_exp + n_exp
    col_total = col_first_crit + n_crit
    col_flags = col_total + 1
    last_col = col_flags
    group_row, header_row, first_row = 2, 3, 4

    _line(ws, 0, last_col, f"{title} 评分汇总表", fmt.title, height=30)
    _line(ws, 1, last_col, f"依据：{run_label}　打印日期：{printed_on}", fmt.info, height=22)

    # Header: single columns span both rows; experts and criteria have a group label above their names.
    widths = [
        6,
        _fit(10, 14, [r.unit_code for r in rows]),
        _fit(16, 36, [r.unit_name for r in rows]),
        *(_fit(9, 14, [label]) for label in experts),
        *(_criterion_width(c) for c in criteria),
        9,
        24,
    ]
    _set_widths(ws, widths)
    ws.set_row(group_row, 22)
    ws.set_row(
        header_row,
        _header_height([""] * 3 + experts + [_max_label(c) for c in criteria] + ["", ""], widths),
    )
    for col, text in (
        (0, "排名"),
        (1, "单位代码"),
        (2, "单位名称"),
        (col_total, "总分"),
        (col_flags, "提示"),
    ):
        ws.merge_range(group_row, col, header_row, col, "", fmt.header)
        _write_text(ws, group_row, col, text, fmt.header)
    for first, count, text in (
        (col_first_exp, n_exp, EXPERTS_GROUP),
        (col_first_crit, n_crit, CRITERIA_GROUP),
    ):
        if count > 1:
            ws.merge_range(group_row, first, group_row, first + count - 1, "", fmt.header)
        if count:
            _write_text(ws, group_row, first, text, fmt.header)
    for k, label in enumerate(experts):
        _write_text(ws, header_row, col_first_exp + k, label, fmt.header)
    for j, c in enumerate(criteria):
        _write_text(ws, header_row, col_first_crit + j, _max_label(c), fmt.header)

    exp_fmt = fmt.number(_places(v for r in rows for v in r.reviewer_totals.values()))
    final_places = _places([*(v for r in rows for v in r.criteria.values()), *(r.total for r in rows)])
    crit_fmt = fmt.number(final_places)
    total_fmt = fmt.number(final_places, bold=True)
    for i, r in enumerate(rows):
        row = first_row + i
        if r.rank is None:
            ws.write_blank(row, 0, None, fmt.center)
        else:
            ws.write_number(row, 0, int(r.rank), fmt.center)
        _write_text(ws, row, 1, r.unit_code, fmt.center)
        _write_text(ws, row, 2, r.unit_name, fmt.text)
        for k, label in enumerate(experts):
            _write_number(ws, row, col_first_exp + k, r.reviewer_totals.get(label), exp_fmt)
        for j, c in enumerate(criteria):
            _write_number(ws, row, col_first_crit + j, r.criteria.get(c.key), crit_fmt)
        _write_number(ws, row, col_total, r.total, total_fmt)
        _write_text(ws, row, col_flags, r.flags, fmt.wrap)

    # Signatures: a line, the experts' boxes several to a row, a blank row, the leader's line.
    row = first_row + len(rows) + 2  # two blank rows
    _line(ws, row, last_col, EXPERTS_SIGNATURE, fmt.sign, height=_SIGN_ROW_HEIGHT)
    if experts:
        per_row = max(1, min(_SIGN_BOXES_PER_ROW, n_exp, (last_col + 1) // 2))
        span = (last_col + 1) // per_row
        for k, label in enumerate(experts):
            box_row = row + 1 + k // per_row
            col = (k % per_row) * span
            if k % per_row == 0:
                ws.set_row(box_row, _SIGN_ROW_HEIGHT)
            if span > 1:
                ws.merge_range(box_row, col, box_row, col + span - 1, "", fmt.sign)
            _write_text(ws, box_row, col, f"{label}：＿＿＿＿＿＿", fmt.sign)
        row += (n_exp + per_row - 1) // per_row
    row += 2
    _line(ws, row, last_col, LEADER_SIGNATURE, fmt.sign, height=_SIGN_ROW_HEIGHT)

    ws.freeze_panes(first_row, 3)
    _print_setup(ws, header_first=group_row, header_last=header_row)

    wb.close()
    return buffer.getvalue()
