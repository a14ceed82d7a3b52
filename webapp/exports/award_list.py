"""The award list (支持名单) for finance as XLSX: awards and totals, the criterion breakdown, the publicity register.

A pure function of plain rows returning bytes; the views load the rows and send the file. Rows are streamed, so
20,000 rows cost no more memory than 20. Three sheets:

- 支持名单: title row, header row, one row per award in the given order, a totals row with SUM formulas and the
  total in capitals (大写); frozen below the header, A4 landscape one page wide, header rows repeated on every
  page, page numbers in the footer.
- 评分明细: one row per application and one column per criterion (title and maximum in the header).
- 公示异议登记: the objections recorded during publicity, with their conclusions.

How it is written: xlsxwriter (constant-memory mode) makes the workbook with everything but the data rows of
the first two sheets: styles, title, headers, totals, print setup, frozen panes, and each column's cell format
(``<col style>``). The data rows are then streamed as SpreadsheetML straight into those two sheets while the
package is copied into the returned file, each cell carrying its column's format. xlsxwriter's per-cell
bookkeeping costs about 12 µs a cell, which for 20,000 awards and 20,000 breakdown rows is slower than the
finance office should wait for; the streamed rows cost about a tenth of that and the memory stays flat.

Text from users never becomes a formula: every text cell is an inline string (never a formula), and text
starting with ``= + - @``, tab or carriage return gets a leading apostrophe so that a re-export to CSV or
another spreadsheet program cannot evaluate it either. Account numbers are text, so long digits and leading
zeros stay.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from .rmb import amount_in_words

__all__ = [
    "AWARD_HEADERS",
    "BREAKDOWN_HEADERS",
    "REGISTER_HEADERS",
    "SHEET_AWARDS",
    "SHEET_BREAKDOWN",
    "SHEET_REGISTER",
    "AwardRow",
    "BreakdownRow",
    "RegisterRow",
    "award_list_xlsx",
    "neutralise_formula",
]

SHEET_AWARDS = "支持名单"
SHEET_BREAKDOWN = "评分明细"
SHEET_REGISTER = "公示异议登记"

# (header, column width in characters); a CJK character is about two.
_AWARD_COLUMNS = (
    ("序号", 6),
    ("单位代码", 10),
    ("单位名称", 24),
    ("类别", 11),
    ("项目", 10),
    ("支持方式", 10),
    ("得分", 8),
    ("排名", 6),
    ("金额（元）", 15),
    ("金额大写", 34),
    ("自筹配套资金（元）", 16),
    ("收款单位", 24),
    ("开户银行", 24),
    ("账号", 24),
    ("拨付期限", 12),
    ("备注", 20),
)
AWARD_HEADERS = tuple(header for header, _ in _AWARD_COLUMNS)
_AMOUNT_COL = AWARD_HEADERS.index("金额（元）")
_WORDS_COL = AWARD_HEADERS.index("金额大写")
_MATCHING_COL = AWARD_HEADERS.index("自筹配套资金（元）")
_TITLE_ROW, _HEADER_ROW, _FIRST_AWARD_ROW = 0, 1, 2

_BREAKDOWN_COLUMNS = (("单位代码", 10), ("单位名称", 24), ("项目", 10), ("排名", 6), ("总分", 8))
BREAKDOWN_HEADERS = tuple(header for header, _ in _BREAKDOWN_COLUMNS)
_CRITERION_WIDTH = 12

_REGISTER_COLUMNS = (
    ("受理编号", 12),
    ("提出时间", 17),
    ("姓名", 10),
    ("工作单位", 20),
    ("涉及单位", 18),
    ("异议内容", 40),
    ("结论", 10),
    ("答复", 40),
    ("结论日期", 12),
)
REGISTER_HEADERS = tuple(header for header, _ in _REGISTER_COLUMNS)

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_AWARDS_PART = "xl/worksheets/sheet1.xml"
_BREAKDOWN_PART = "xl/worksheets/sheet2.xml"
_CHUNK_ROWS = 500
_PAPER_A4 = 9
_FOOTER = "&C第 &P 页 共 &N 页"


@dataclass(frozen=True)
class AwardRow:
    """One award as finance pays it."""

    unit_code: str
    unit_name: str
    category: str  # 省级 / 兵团 / 副省级城市
    program: str  # 试点示范 / 后补助
    support_type: str  # e.g. 后补助, 试点示范
    score: Decimal | None
    rank: int | None
    amount: Decimal  # yuan
    matching_funds: Decimal | None
    payee_name: str | None
    bank: str | None
    account: str | None
    payment_due: date | None
    remarks: str = ""


@dataclass(frozen=True)
class BreakdownRow:
    """One application's total and criterion scores."""

    unit_code: str
    unit_name: str
    program: str
    rank: int | None
    total: Decimal | None
    criteria: Mapping[str, Decimal | None]  # criterion key → score


@dataclass(frozen=True)
class RegisterRow:
    """One objection of the publicity register."""

    receipt_no: str
    submitted_at: str
    name: str
    organisation: str
    unit: str | None
    content: str
    conclusion: str
    reply: str
    concluded_on: str


def neutralise_formula(text: str) -> str:
    """Return ``text`` with a leading apostrophe if a spreadsheet could read it as a formula.

    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("中国科协")
    '中国科协'
    """
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def award_list_xlsx(
    *,
    title: str,
    awards: Sequence[AwardRow],
    criteria: Sequence[tuple[str, str, Decimal]],
    breakdown: Iterable[BreakdownRow],
    register: Sequence[RegisterRow],
    generated_at: str,
) -> bytes:
    """Return the award list workbook (XLSX) as bytes.

    ``awards`` are written in the given order; ``criteria`` are ``(key, title, maximum)`` in column order and
    ``breakdown`` rows give a score per key (a missing key or ``None`` is an empty cell); ``breakdown`` is read
    once and may be a generator. ``generated_at`` is shown in the title row; when it is an ISO date-time it is
    also the document's creation time, which makes the bytes a function of the arguments alone.
    Raises ``ValueError`` for a negative or non-finite amount or score.
    """
    keys = [key for key, _, _ in criteria]
    skeleton = _skeleton(title, generated_at, awards, criteria, register)
    with zipfile.ZipFile(io.BytesIO(skeleton)) as source, tempfile.TemporaryFile() as breakdown_rows:
        award_styles = _column_styles(source.read(_AWARDS_PART).decode(), len(_AWARD_COLUMNS))
        breakdown_styles = _column_styles(
            source.read(_BREAKDOWN_PART).decode(), len(_BREAKDOWN_COLUMNS) + len(keys)
        )
        # The breakdown may be a generator: its rows go to a temporary file first, to learn how many there are.
        count = _write_chunks(breakdown_rows, _breakdown_rows(breakdown, keys, breakdown_styles))
        breakdown_rows.seek(0)
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                part = zipfile.ZipInfo(info.filename, info.date_time)
                part.compress_type = zipfile.ZIP_DEFLATED
                part.external_attr = info.external_attr
                if info.filename == _AWARDS_PART:
                    head, tail = _split(
                        source.read(info).decode(), f'<row r="{len(awards) + _FIRST_AWARD_ROW + 1}"'
                    )
                    with target.open(part, "w") as stream:
                        stream.write(head.encode())
                        _write_chunks(stream, _award_rows(awards, award_styles))
                        stream.write(tail.encode())
                elif info.filename == _BREAKDOWN_PART:
                    head, tail = _split(source.read(info).decode(), "</sheetData>")
                    last = f"{xl_col_to_name(len(breakdown_styles) - 1)}{count + 1}"
                    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', head, count=1)
                    with target.open(part, "w") as stream:
                        stream.write(head.encode())
                        shutil.copyfileobj(breakdown_rows, stream)
                        stream.write(tail.encode())
                else:
                    target.writestr(part, source.read(info))
    return output.getvalue()


def _skeleton(
    title: str,
    generated_at: str,
    awards: Sequence[AwardRow],
    criteria: Sequence[tuple[str, str, Decimal]],
    register: Sequence[RegisterRow],
) -> bytes:
    """The workbook without the data rows of the award and breakdown sheets."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "in_memory": False,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    properties = {"title": title, "subject": SHEET_AWARDS}
    created = _parse_datetime(generated_at)
    if created is not None:
        properties["created"] = created
    try:  # closing also on error, so that xlsxwriter's temporary files go away
        workbook.set_properties(properties)
        formats = _Formats(workbook)
        _awards_frame(workbook.add_worksheet(SHEET_AWARDS), formats, title, generated_at, awards)
        _breakdown_frame(workbook.add_worksheet(SHEET_BREAKDOWN), formats, criteria)
        _write_register(workbook.add_worksheet(SHEET_REGISTER), formats, register)
    finally:
        workbook.close()
    return output.getvalue()


class _Formats:
    """The cell formats of the workbook, made once."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
        self.title = workbook.add_format(
            {"font_name": "黑体", "font_size": 14, "bold": True, "align": "center"}
        )
        self.header = workbook.add_format(
            base | {"bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"}
        )
        self.text = workbook.add_format(base)
        self.wrapped = workbook.add_format(base | {"text_wrap": True})
        self.centered = workbook.add_format(base | {"align": "center"})
        self.integer = workbook.add_format(base | {"num_format": "0", "align": "center"})
        self.score = workbook.add_format(base | {"num_format": "0.00"})
        self.money = workbook.add_format(base | {"num_format": "#,##0.00"})
        self.date = workbook.add_format(base | {"num_format": "yyyy-mm-dd", "align": "center"})
        self.total_label = workbook.add_format(base | {"bold": True, "align": "center"})
        self.total_money = workbook.add_format(base | {"bold": True, "num_format": "#,##0.00"})
        self.total_text = workbook.add_format(base | {"bold": True, "text_wrap": True})


# How each column of the award sheet is written: (kind, format name); kinds: n number, s text, d date.
_AWARD_CELLS = (
    ("n", "integer"),  # 序号
    ("s", "centered"),  # 单位代码
    ("s", "wrapped"),  # 单位名称
    ("s", "centered"),  # 类别
    ("s", "centered"),  # 项目
    ("s", "centered"),  # 支持方式
    ("n", "score"),  # 得分
    ("n", "integer"),  # 排名
    ("n", "money"),  # 金额（元）
    ("s", "wrapped"),  # 金额大写
    ("n", "money"),  # 自筹配套资金（元）
    ("s", "wrapped"),  # 收款单位
    ("s", "wrapped"),  # 开户银行
    ("s", "text"),  # 账号
    ("d", "date"),  # 拨付期限
    ("s", "wrapped"),  # 备注
)
_BREAKDOWN_CELLS = (("s", "centered"), ("s", "text"), ("s", "centered"), ("n", "integer"), ("n", "score"))
_CRITERION_CELL = ("n", "score")


def _awards_frame(
    sheet, formats: _Formats, title: str, generated_at: str, awards: Sequence[AwardRow]
) -> None:
    """Everything of the award sheet but the data rows, which go between the header and the totals."""
    last_col = len(_AWARD_COLUMNS) - 1
    for col, ((_, width), (_, style)) in enumerate(zip(_AWARD_COLUMNS, _AWARD_CELLS, strict=True)):
        sheet.set_column(col, col, width, getattr(formats, style))
    _print_setup(sheet, header_rows=(_TITLE_ROW, _HEADER_ROW))
    sheet.freeze_panes(_FIRST_AWARD_ROW, 0)

    sheet.set_row(_TITLE_ROW, 30)
    heading = f"{title}（{generated_at}）" if generated_at else title
    sheet.merge_range(_TITLE_ROW, 0, _TITLE_ROW, last_col, "", formats.title)
    sheet.write_string(_TITLE_ROW, 0, neutralise_formula(heading), formats.title)
    _write_headers(sheet, formats, _HEADER_ROW, AWARD_HEADERS)

    # The totals row: SUM formulas (with their values cached for readers that do not calculate).
    total_amount = sum((award.amount for award in awards), Decimal(0))
    total_matching = sum((award.matching_funds or 0 for award in awards), Decimal(0))
    row = _FIRST_AWARD_ROW + len(awards)
    for col in range(last_col + 1):
        sheet.write_blank(row, col, None, formats.total_label)
    sheet.write_string(row, 0, "合计", formats.total_label)
    sheet.write_string(row, 2, f"共 {len(awards)} 个单位", formats.total_label)
    for col, value in ((_AMOUNT_COL, total_amount), (_MATCHING_COL, total_matching)):
        if awards:
            cells = f"{xl_rowcol_to_cell(_FIRST_AWARD_ROW, col)}:{xl_rowcol_to_cell(row - 1, col)}"
            sheet.write_formula(row, col, f"=SUM({cells})", formats.total_money, float(value))
        else:
            sheet.write_number(row, col, 0, formats.total_money)
    sheet.write_string(row, _WORDS_COL, amount_in_words(total_amount), formats.total_text)
    if awards:
        sheet.autofilter(_HEADER_ROW, 0, row - 1, last_col)


def _breakdown_frame(sheet, formats: _Formats, criteria: Sequence[tuple[str, str, Decimal]]) -> None:
    """The breakdown sheet's header and columns; the rows are streamed in after it."""
    for col, ((_, width), (_, style)) in enumerate(zip(_BREAKDOWN_COLUMNS, _BREAKDOWN_CELLS, strict=True)):
        sheet.set_column(col, col, width, getattr(formats, style))
    if criteria:
        first = len(_BREAKDOWN_COLUMNS)
        sheet.set_column(
            first, first + len(criteria) - 1, _CRITERION_WIDTH, getattr(formats, _CRITERION_CELL[1])
        )
    _print_setup(sheet, header_rows=(0, 0))
    sheet.freeze_panes(1, 2)
    headers = BREAKDOWN_HEADERS + tuple(
        f"{title}\n（满分 {_plain(maximum)}）" for _, title, maximum in criteria
    )
    sheet.set_row(0, 42)
    _write_headers(sheet, formats, 0, headers)


def _write_register(sheet, formats: _Formats, register: Sequence[RegisterRow]) -> None:
    for col, (_, width) in enumerate(_REGISTER_COLUMNS):
        sheet.set_column(col, col, width, formats.wrapped)
    _print_setup(sheet, header_rows=(0, 0))
    sheet.freeze_panes(1, 0)
    _write_headers(sheet, formats, 0, REGISTER_HEADERS)
    for row, entry in enumerate(register, start=1):
        values = (
            entry.receipt_no,
            entry.submitted_at,
            entry.name,
            entry.organisation,
            entry.unit,
            entry.content,
            entry.conclusion,
            entry.reply,
            entry.concluded_on,
        )
        for col, value in enumerate(values):
            if value:
                sheet.write_string(row, col, neutralise_formula(value), formats.wrapped)
            else:
                sheet.write_blank(row, col, None, formats.wrapped)


def _print_setup(sheet, *, header_rows: tuple[int, int]) -> None:
    sheet.set_paper(_PAPER_A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
    sheet.center_horizontally()
    sheet.repeat_rows(*header_rows)
    sheet.set_footer(_FOOTER)


def _write_headers(sheet, formats: _Formats, row: int, headers: Sequence[str]) -> None:
    for col, header in enumerate(headers):
        sheet.write_string(row, col, neutralise_formula(header), formats.header)


# Streaming the data rows as SpreadsheetML.


def _award_rows(awards: Sequence[AwardRow], styles: Sequence[int]) -> Iterator[str]:
    write = _row_writer([kind for kind, _ in _AWARD_CELLS], styles)
    for number, award in enumerate(awards, start=1):
        yield write(
            _FIRST_AWARD_ROW + number,
            (
                number,
                award.unit_code,
                award.unit_name,
                award.category,
                award.program,
                award.support_type,
                award.score,
                award.rank,
                award.amount,
                amount_in_words(award.amount),
                award.matching_funds,
                award.payee_name,
                award.bank,
                award.account,
                award.payment_due,
                award.remarks,
            ),
        )


def _breakdown_rows(
    breakdown: Iterable[BreakdownRow], keys: Sequence[str], styles: Sequence[int]
) -> Iterator[str]:
    kinds = [kind for kind, _ in _BREAKDOWN_CELLS] + [_CRITERION_CELL[0]] * len(keys)
    write = _row_writer(kinds, styles)
    for row, item in enumerate(breakdown, start=2):
        scores = item.criteria
        yield write(
            row,
            (
                item.unit_code,
                item.unit_name,
                item.program,
                item.rank,
                item.total,
                *(scores.get(k) for k in keys),
            ),
        )


def _row_writer(kinds: Sequence[str], styles: Sequence[int]) -> Callable[[int, Sequence[Any]], str]:
    """A function rendering one ``<row>`` from its values, each cell in its column's kind and style."""
    columns = [
        (kind, xl_col_to_name(col), f' s="{style}"' if style else "")
        for col, (kind, style) in enumerate(zip(kinds, styles, strict=True))
    ]

    def write(row: int, values: Sequence[Any]) -> str:
        cells = []
        for (kind, letter, style), value in zip(columns, values, strict=True):
            if value is None or value == "":
                cells.append(f'<c r="{letter}{row}"{style}/>')
            elif kind == "s":
                cells.append(f'<c r="{letter}{row}"{style} t="inlineStr">{_inline_string(value)}</c>')
            elif kind == "n":
                cells.append(f'<c r="{letter}{row}"{style}><v>{_number_text(value)}</v></c>')
            else:
                cells.append(f'<c r="{letter}{row}"{style}><v>{_excel_date(value)}</v></c>')
        return f'<row r="{row}">{"".join(cells)}</row>'

    return write


_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Control characters are not allowed in XML (tab and line feed are); a carriage return would be read back as a
# line feed. Excel's own escape is _xHHHH_.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _inline_string(value: str) -> str:
    text = neutralise_formula(value).translate(_XML_ESCAPES)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    if text[0].isspace() or text[-1].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _number_text(value: Decimal | int | float) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is Decimal and value.is_finite():
        return format(value, "f")
    if kind is float and math.isfinite(value):
        return repr(value)
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):  # an int subclass, e.g. an IntEnum
        return str(int(value))
    raise ValueError(f"not a finite number: {value!r}")


_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial 0 in Excel's 1900 date system (after Feb 1900)
_FIRST_SAFE_DATE = date(1900, 3, 1)


def _excel_date(value: date) -> int:
    if not isinstance(value, date) or value < _FIRST_SAFE_DATE:
        raise ValueError(f"not a date Excel can show: {value!r}")
    return value.toordinal() - _EXCEL_EPOCH


def _write_chunks(stream: IO[bytes], rows: Iterator[str]) -> int:
    """Write ``rows`` to ``stream`` a few hundred at a time; return how many there were."""
    count = 0
    chunk: list[str] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _CHUNK_ROWS:
            stream.write("".join(chunk).encode())
            count += len(chunk)
            chunk.clear()
    stream.write("".join(chunk).encode())
    return count + len(chunk)


def _column_styles(sheet_xml: str, columns: int) -> list[int]:
    """The cell format index of each column, from the ``<col>`` elements xlsxwriter wrote."""
    styles: dict[int, int] = {}
    for element in re.findall(r"<col [^>]*/>", sheet_xml):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', element))
        for col in range(int(attributes["min"]), int(attributes["max"]) + 1):
            styles[col - 1] = int(attributes.get("style", 0))
    missing = [col for col in range(columns) if col not in styles]
    if missing:
        raise RuntimeError(f"columns without a format in the workbook: {missing}")
    return [styles[col] for col in range(columns)]


def _split(sheet_xml: str, marker: str) -> tuple[str, str]:
    """``sheet_xml`` cut before the first ``marker``, where the data rows go."""
    index = sheet_xml.find(marker)
    if index < 0:
        raise RuntimeError(f"{marker!r} not found in the worksheet")
    return sheet_xml[:index], sheet_xml[index:]


def _plain(number: Decimal | int) -> str:
    """``20`` for Decimal('20.00'), ``12.5`` for Decimal('12.50'): the maximum as people write it."""
    return format(Decimal(number).normalize(), "f")


def _parse_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None
