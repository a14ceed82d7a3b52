"""The roster (名册) of enterprise associations founded this year: reading messy XLSX files, and the template.

Real rosters are filled in by hand by 47 units: title rows above the header, merged cells, Chinese header
variants, full-width digits and spaces, Excel date cells, serial numbers and text dates, blank rows, totals
rows, example rows left in place. ``parse_roster`` reads what it can and says, in the interface language
and with the row number Excel shows, what must be fixed; any problem means the import saves nothing.
``roster_template`` writes the XLSX the applicant downloads, which ``parse_roster`` reads back.

Pure module: no database (Flask-Babel only translates its messages). openpyxl reads the workbook (it keeps
merged cells, which pandas alone loses); the chosen columns are handled as a pandas frame.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import pandas as pd
import xlsxwriter
from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from webapp.core.importing import FileProblem, header_columns, header_key

__all__ = [
    "HEADER_SCAN_ROWS",
    "RosterParse",
    "RosterProblem",
    "RosterRow",
    "parse_roster",
    "roster_template",
]

BEIJING = ZoneInfo("Asia/Shanghai")
HEADER_SCAN_ROWS = 15
MAX_COLUMNS = 256
# A roster is a few kilobytes of XML; these bound what an upload may make us unpack.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 5_000
EARLIEST_FOUNDING = date(1950, 1, 1)
DATE_EXAMPLE = "2014-05-06"

# Fields of a roster row, in template order, with the name used in messages.
FIELDS: dict[str, str] = {
    "name": "企业科协名称",
    "enterprise": "所在企业",
    "founded_on": "成立时间",
    "approval_no": "批准文号",
    "members": "会员数",
    "chair": "主席",
}
DATA_FIELDS = tuple(FIELDS)

# Header synonyms, compared after ``_header_key`` (NFKC, no whitespace, no trailing unit in parentheses).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号", "序"),
    "name": (
        "企业科协名称",
        "企业科协全称",
        "企业科学技术协会名称",
        "科协名称",
        "科协组织名称",
        "组织名称",
        "名称",
        "企业科协",
    ),
    "enterprise": (
        "所在企业",
        "所在企业名称",
        "所属企业",
        "依托单位",
        "依托企业",
        "企业名称",
        "所在单位",
        "单位名称",
    ),
    "founded_on": (
        "成立时间",
        "成立日期",
        "批准成立时间",
        "批准成立日期",
        "成立年月日",
        "建立时间",
        "组建时间",
        "批准时间",
    ),
    "approval_no": ("批准文号", "批复文号", "文号", "批准文件文号", "批复文件文号", "成立批复文号"),
    "members": ("会员数", "会员人数", "会员数量", "会员总数", "会员"),
    "chair": ("主席", "科协主席", "主席姓名", "负责人", "理事长", "科协负责人"),
    "notes": ("备注", "说明"),
}
_HEADER_LOOKUP = {key: field for field, keys in SYNONYMS.items() for key in keys}

_TOTAL_PREFIXES = ("合计", "总计", "小计", "共计")
_FOOTER_PREFIXES = (
    "注:",
    "注：",
    "说明",
    "填表说明",
    "填表人",
    "填报人",
    "制表",
    "审核",
    "联系人",
    "联系电话",
)
_FULLWIDTH_ALNUM = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("a") + i for i in range(26)},
    0x3000: ord(" "),
    0x00A0: ord(" "),
    0x200B: None,
    0xFEFF: None,
}

_TEXT_DATE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_YEAR_MONTH = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*月?$")
_INTEGER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d,]*\.?\d+$")
_COLUMN_NUMBER = re.compile(r"^\(?(\d{1,2})\)?$")


@dataclass(frozen=True)
class RosterRow:
    row: int  # the spreadsheet row number as Excel shows it (1-based)
    name: str  # 企业科协名称
    enterprise: str | None  # 所在企业 / 依托单位
    founded_on: date | None  # 成立时间 (required: always set on a valid row)
    approval_no: str | None  # 批准文号 / 批复文号
    members: int | None  # 会员数 (≥ 0)
    chair: str | None  # 主席 / 负责人


@dataclass(frozen=True)
class RosterProblem:
    row: int | None  # spreadsheet row (None for file-level problems)
    column: str | None  # the Chinese column name as in the file
    message: str  # in the interface language: what is wrong and how to fix it


@dataclass(frozen=True)
class RosterParse:
    rows: tuple[RosterRow, ...]  # valid rows only, in file order
    problems: tuple[RosterProblem, ...]  # errors: if any, the import must save nothing
    duplicates: tuple[tuple[int, ...], ...]  # row-number groups sharing a normalised name (a warning)
    sheet: str  # the sheet read ("" when none was usable)
    header_row: int  # the header's row number (0 when none was found)

    @property
    def ok(self) -> bool:
        return not self.problems


# --------------------------------------------------------------------------------------------------------
# Text helpers


def clean_text(value: Any) -> str:
    """Cell text as shown: full-width digits, letters and spaces made half-width, line breaks and runs of
    spaces collapsed. Chinese punctuation (（）〔〕) is kept as written."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).translate(_FULLWIDTH_ALNUM)
    text = re.sub(r"[\r\n\t]+", "", text)
    return re.sub(r" {2,}", " ", text).strip()


def normalise_name(name: str) -> str:
    """The key two names are duplicates under: NFKC, no whitespace of either width, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def _header_label(value: Any) -> str:
    """A header cell as the file writes it, without whitespace or line breaks (used in messages)."""
    if value is None:
        return ""
    return re.sub(r"\s+", "", str(value).translate(_FULLWIDTH_ALNUM))


def _header_key(value: Any) -> str:
    # trailing units and notes: 会员数(人), 成立时间(年-月-日), 会员数/人
    return header_key(re.sub(r"\s+", "", unicodedata.normalize("NFKC", _header_label(value))), "人个")


def _header_field(value: Any) -> str | None:
    return _HEADER_LOOKUP.get(_header_key(value)) if value is not None else None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


def _shown(value: Any) -> str:
    """A cell value quoted back to the user."""
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M:%S")
            if value.time() != datetime.min.time()
            else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, date):
        return value.isoformat()
    return clean_text(value)


# --------------------------------------------------------------------------------------------------------
# Reading the workbook


def _read_bytes(source: Path | BinaryIO) -> bytes:
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    data = source.read()
    if isinstance(data, str):
        raise FileProblem(_("文件不是 XLSX 格式，请上传用 Excel 保存的 .xlsx 文件。"))
    return data


def _check_container(data: bytes) -> None:
    if not data:
        raise FileProblem(_("文件是空的（0 字节），请重新选择名册文件。"))
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise FileProblem(
            _(
                "文件是旧版 Excel（.xls）格式或设置了打开密码，无法读取。请在 Excel 中“另存为” .xlsx 格式（不加密）后重新上传。"
            )
        )
    if not data.startswith(b"PK\x03\x04"):
        raise FileProblem(
            _(
                "文件不是 XLSX 格式（可能是 CSV、文本或其他文件改了扩展名），无法读取。请下载名册模板，在 Excel 中填写后保存为 .xlsx 上传。"
            )
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {info.filename for info in members}
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileProblem(_("文件已损坏，无法作为 XLSX 打开。请在 Excel 中重新保存为 .xlsx 后上传。")) from exc
    if "xl/workbook.xml" not in names and not any(n.endswith("/workbook.xml") for n in names):
        raise FileProblem(_("文件是压缩包但不是 Excel 工作簿（.xlsx），请上传用 Excel 保存的名册。"))
    if len(members) > MAX_ZIP_MEMBERS or sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
        raise FileProblem(_("文件解压后过大，不像是名册。请只保留名册工作表，另存为 .xlsx 后重新上传。"))


def _load(data: bytes):
    _check_container(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it does not keep (extensions, data validation, default styles);
            # they do not matter for reading values.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\..*)?$")
            return load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise FileProblem(
            _("文件已损坏或不是有效的 XLSX 工作簿，无法读取。请在 Excel 中重新保存为 .xlsx 后上传。")
        ) from exc


class _Sheet:
    """One worksheet's values with merged cells filled from their top-left cell."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.title: str = ws.title
        self.max_row: int = ws.max_row or 0
        self.max_col: int = min(ws.max_column or 0, MAX_COLUMNS)
        self.merged: dict[tuple[int, int], Any] = {}
        for rng in ws.merged_cells.ranges:
            value = ws.cell(rng.min_row, rng.min_col).value
            if value is None:
                continue
            for r in range(rng.min_row, min(rng.max_row, self.max_row) + 1):
                for c in range(rng.min_col, min(rng.max_col, self.max_col) + 1):
                    self.merged[(r, c)] = value

    def rows(self, first: int = 1, last: int | None = None):
        """(row number, values of columns 1..max_col) for each row."""
        if self.max_col == 0:
            return
        last = self.max_row if last is None else min(last, self.max_row)
        if last < first:
            return
        cells = self.ws.iter_rows(min_row=first, max_row=last, max_col=self.max_col, values_only=True)
        for r, values in enumerate(cells, start=first):
            row = list(values)
            if self.merged:
                for c in range(1, self.max_col + 1):
                    if row[c - 1] is None and (r, c) in self.merged:
                        row[c - 1] = self.merged[(r, c)]
            yield r, row

    def is_empty(self) -> bool:
        return all(_is_blank(v) for _unused, row in self.rows() for v in row)


@dataclass(frozen=True)
class _Header:
    row: int
    columns: dict[str, int]  # field → 0-based column index
    labels: dict[str, str]  # field → header text as in the file


def _find_header(sheet: _Sheet) -> _Header | None:
    best: _Header | None = None
    for r, values in sheet.rows(1, HEADER_SCAN_ROWS):
        columns, labels = header_columns(values, _header_field, _header_label)
        score = len(columns.keys() & set(DATA_FIELDS))
        if (
            "name" in columns
            and score >= 2
            and (best is None or score > len(best.columns.keys() & set(DATA_FIELDS)))
        ):
            best = _Header(r, columns, labels)
    return best


# --------------------------------------------------------------------------------------------------------
# Values


def _parse_date(value: Any, epoch: datetime) -> date | None:
    """A founding date from a date cell, an Excel serial number or text; None if it is not a valid date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            return _ymd(str(int(value)), _COMPACT_DATE)
        if 1 <= value < 2958466:
            try:
                converted = from_excel(value, epoch=epoch)
            except (ValueError, OverflowError):
                return None
            day = converted.date() if isinstance(converted, datetime) else None
            return day if day is not None and day >= EARLIEST_FOUNDING else None
        return None
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(value))).strip()
    day = _ymd(text, _TEXT_DATE) or _ymd(text, _COMPACT_DATE)
    if day is None and text.isdigit() and len(text) <= 5:
        return _parse_date(int(text), epoch)
    return day


def _ymd(text: str, pattern: re.Pattern[str]) -> date | None:
    match = pattern.match(text)
    if not match:
        return None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _parse_members(value: Any) -> tuple[int | None, str | None]:
    """(count, error kind): kind is "negative", "fraction" or "nan" when the value is unusable."""
    if isinstance(value, bool):
        return None, "nan"
    if isinstance(value, int):
        return (value, None) if value >= 0 else (None, "negative")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, "nan"
        if not value.is_integer():
            return None, "fraction"
        return (int(value), None) if value >= 0 else (None, "negative")
    if isinstance(value, (date, datetime)):
        return None, "nan"
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    text = text.replace("，", ",")
    text = re.sub(r"(?:人|名|个)$", "", text)
    if _INTEGER.match(text):
        number = int(text.replace(",", "").split(".")[0])
        if text.startswith("-") and number != 0:
            return None, "negative"
        return number, None
    if _NUMBER_LIKE.match(text):
        return None, "negative" if text.startswith("-") else "fraction"
    return None, "nan"


# --------------------------------------------------------------------------------------------------------
# Row classification


def _first_text(values: Sequence[Any]) -> str:
    for value in values:
        if not _is_blank(value):
            return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    return ""


def _is_column_number_row(values: Sequence[Any]) -> bool:
    """The row of column numbers (1 2 3 …, or (1) (2) …) many official forms put under the header."""
    numbers = []
    for value in values:
        if _is_blank(value):
            continue
        match = _COLUMN_NUMBER.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))))
        if not match:
            return False
        numbers.append(int(match[1]))
    return len(numbers) >= 3 and all(b - a == 1 for a, b in zip(numbers, numbers[1:], strict=False))


def _is_example_row(values: Sequence[Any], name: Any) -> bool:
    for value in values:
        if isinstance(value, str):
            text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
            if text == "示例" or text.startswith(("示例:", "(示例)", "示例行")):
                return True
    if isinstance(name, str):
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
        return text.startswith("示例") or text.endswith("(示例)")
    return False


def _is_total_row(values: Sequence[Any]) -> bool:
    return _first_text(values).startswith(_TOTAL_PREFIXES)


def _is_footer_row(values: Sequence[Any], date_value: Any) -> bool:
    return _is_blank(date_value) and _first_text(values).startswith(_FOOTER_PREFIXES)


# --------------------------------------------------------------------------------------------------------
# The parser


def _empty_result(problem: str, sheet: str = "", header_row: int = 0) -> RosterParse:
    return RosterParse((), (RosterProblem(None, None, problem),), (), sheet, header_row)


def parse_roster(
    source: Path | BinaryIO,
    *,
    year: int | None = None,
    max_rows: int = 5000,
    today: date | None = None,
) -> RosterParse:
    """Read a roster XLSX. ``year``: founding dates must fall in it. ``today`` (default: today in Beijing):
    later founding dates are refused. Problems are in the interface language; if there are any, nothing
    should be saved."""
    today = today or datetime.now(BEIJING).date()
    try:
        workbook = _load(_read_bytes(source))
    except FileProblem as problem:
        return _empty_result(problem.message)
    except OSError:
        return _empty_result(_("无法读取上传的文件，请重新上传。"))

    try:
        sheets = [_Sheet(ws) for ws in workbook.worksheets]
        chosen: tuple[_Sheet, _Header] | None = None
        for sheet in sheets:
            header = _find_header(sheet)
            if header is not None:
                chosen = (sheet, header)
                break
        if chosen is None:
            if all(sheet.is_empty() for sheet in sheets):
                return _empty_result(_("名册是空的：文件中没有任何内容。请下载名册模板，填写后重新上传。"))
            expected = _("、").join(FIELDS.values())  # the column names stay as the file must write them
            return _empty_result(
                _(
                    "在各工作表的前 %(rows)s 行中没有找到名册表头。表头应包含以下列：%(columns)s"
                    "（至少要有“企业科协名称”和“成立时间”）。请使用下载的名册模板填写。",
                    rows=HEADER_SCAN_ROWS,
                    columns=expected,
                )
            )
        sheet, header = chosen
        if "founded_on" not in header.columns:
            return _empty_result(
                _(
                    "工作表“%(sheet)s”第 %(row)s 行的表头缺少“成立时间”列（也可写作成立日期、批准成立时间），请补上后重新上传。",
                    sheet=sheet.title,
                    row=header.row,
                ),
                sheet.title,
                header.row,
            )
        return _parse_rows(sheet, header, workbook.epoch, year=year, max_rows=max_rows, today=today)
    finally:
        workbook.close()


def _parse_rows(
    sheet: _Sheet, header: _Header, epoch: datetime, *, year: int | None, max_rows: int, today: date
) -> RosterParse:
    fields = [f for f in (*DATA_FIELDS, "seq") if f in header.columns]
    records: list[list[Any]] = []
    numbers: list[int] = []
    for r, values in sheet.rows(header.row + 1):
        cells = {f: values[header.columns[f]] for f in fields}
        data = {f: cells[f] for f in DATA_FIELDS if f in cells}
        if all(_is_blank(v) for v in data.values()):
            continue
        if _header_field(cells["name"]) == "name" or _is_column_number_row(values):
            continue  # a header repeated (e.g. over two merged rows, or on a printed page break)
        if _is_example_row(values, cells["name"]) or _is_total_row(values):
            continue
        if _is_footer_row(values, cells.get("founded_on")):
            continue
        if len(records) >= max_rows:
            return _empty_result(
                _("名册数据超过 %(n)s 行上限，请核对是否误填，或联系管理员。", n=max_rows), sheet.title, header.row
            )
        records.append([cells.get(f) for f in DATA_FIELDS])
        numbers.append(r)

    if not records:
        return _empty_result(
            _(
                "名册中没有数据：工作表“%(sheet)s”第 %(row)s 行表头以下没有填写任何企业科协。请至少填写一行后重新上传。",
                sheet=sheet.title,
                row=header.row,
            ),
            sheet.title,
            header.row,
        )

    frame = pd.DataFrame(records, columns=list(DATA_FIELDS), index=numbers, dtype=object)
    rows: list[RosterRow] = []
    problems: list[RosterProblem] = []
    names: dict[str, list[int]] = {}
    for r, record in zip(frame.index, frame.itertuples(index=False), strict=True):
        row, row_problems = _parse_row(int(r), record._asdict(), header, epoch, year=year, today=today)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
        name = clean_text(record.name)
        if name:
            names.setdefault(normalise_name(name), []).append(int(r))
    duplicates = tuple(tuple(group) for group in names.values() if len(group) > 1)
    return RosterParse(tuple(rows), tuple(problems), duplicates, sheet.title, header.row)


def _parse_row(
    r: int, cells: dict[str, Any], header: _Header, epoch: datetime, *, year: int | None, today: date
) -> tuple[RosterRow | None, list[RosterProblem]]:
    problems: list[RosterProblem] = []

    def label(field: str) -> str:
        return header.labels.get(field, FIELDS[field])

    def problem(field: str, message: str) -> None:
        problems.append(RosterProblem(r, label(field), _("第 %(row)s 行：%(message)s", row=r, message=message)))

    name = clean_text(cells.get("name"))
    if not name:
        problem("name", _("缺少%(column)s，请填写企业科协的全称。", column=label("name")))

    raw_date = cells.get("founded_on")
    founded_on: date | None = None
    if _is_blank(raw_date):
        problem(
            "founded_on",
            _("缺少%(column)s，请填写如 %(example)s 的日期。", column=label("founded_on"), example=DATE_EXAMPLE),
        )
    else:
        founded_on = _parse_date(raw_date, epoch)
        shown = _shown(raw_date)
        col = label("founded_on")
        if founded_on is None:
            if isinstance(raw_date, str) and _YEAR_MONTH.match(
                unicodedata.normalize("NFKC", raw_date).strip()
            ):
                problem(
                    "founded_on",
                    _(
                        "%(column)s“%(value)s”只有年月，请填写完整日期，如 %(example)s。",
                        column=col,
                        value=shown,
                        example=DATE_EXAMPLE,
                    ),
                )
            else:
                problem(
                    "founded_on",
                    _(
                        "%(column)s“%(value)s”不是有效日期，请填写如 %(example)s 的日期。",
                        column=col,
                        value=shown,
                        example=DATE_EXAMPLE,
                    ),
                )
        elif founded_on > today:
            problem(
                "founded_on",
                _(
                    "%(column)s“%(value)s”晚于今天（%(today)s），请核对后填写实际成立日期。",
                    column=col,
                    value=shown,
                    today=today.isoformat(),
                ),
            )
            founded_on = None
        elif year is not None and founded_on.year != year:
            problem(
                "founded_on",
                _(
                    "%(column)s“%(value)s”不在 %(year)s 年内，名册只填 %(year)s 年新建的企业科协，请核对。",
                    column=col,
                    value=shown,
                    year=year,
                ),
            )
            founded_on = None
        elif founded_on < EARLIEST_FOUNDING:
            problem(
                "founded_on",
                _(
                    "%(column)s“%(value)s”早于 %(year)s 年，不像是成立日期，请核对。",
                    column=col,
                    value=shown,
                    year=EARLIEST_FOUNDING.year,
                ),
            )
            founded_on = None

    members: int | None = None
    raw_members = cells.get("members")
    if not _is_blank(raw_members):
        members, error = _parse_members(raw_members)
        col = label("members")
        shown = _shown(raw_members)
        if error == "negative":
            problem("members", _("%(column)s“%(value)s”不能为负数，请填写 0 或正整数。", column=col, value=shown))
        elif error == "fraction":
            problem("members", _("%(column)s“%(value)s”不是整数，请填写人数，如 120。", column=col, value=shown))
        elif error == "nan":
            problem("members", _("%(column)s“%(value)s”不是数字，请填写整数，如 120。", column=col, value=shown))

    if problems:
        return None, problems
    return (
        RosterRow(
            row=r,
            name=name,
            enterprise=clean_text(cells.get("enterprise")) or None,
            founded_on=founded_on,
            approval_no=clean_text(cells.get("approval_no")) or None,
            members=members,
            chair=clean_text(cells.get("chair")) or None,
        ),
        [],
    )


# --------------------------------------------------------------------------------------------------------
# The template

TEMPLATE_SHEET = "新建企业科协名册"
TEMPLATE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号", 6),
    ("企业科协名称", 36),
    ("所在企业", 32),
    ("成立时间\n（年-月-日）", 14),
    ("批准文号", 24),
    ("会员数\n（人）", 10),
    ("主席", 12),
    ("备注", 22),
)
TEMPLATE_HEADER_ROW = 3  # as Excel shows it: title, unit line, header
TEMPLATE_DATA_ROWS = 300  # rows with borders and validation after the example


def roster_template(year: int, unit_name: str) -> bytes:
    """The roster XLSX to download: title, header, a grey example row (ignored on import), validation."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": f"{unit_name}{year}年新建企业科协名册", "author": unit_name})
    ws = workbook.add_worksheet(TEMPLATE_SHEET)
    font = {"font_name": "宋体", "font_size": 11}
    title = workbook.add_format(
        {**font, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
    )
    subtitle = workbook.add_format({**font, "align": "left", "valign": "vcenter"})
    head = workbook.add_format(
        {
            **font,
            "bold": True,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "border": 1,
            "bg_color": "#DDEBF7",
        }
    )
    example = {**font, "italic": True, "font_color": "#808080", "border": 1, "valign": "vcenter"}
    ex_text = workbook.add_format(example)
    ex_center = workbook.add_format({**example, "align": "center"})
    ex_date = workbook.add_format({**example, "align": "center", "num_format": "yyyy-mm-dd"})
    cell = {**font, "border": 1, "valign": "vcenter"}
    text = workbook.add_format({**cell, "text_wrap": True})
    center = workbook.add_format({**cell, "align": "center"})
    day = workbook.add_format({**cell, "align": "center", "num_format": "yyyy-mm-dd"})
    count = workbook.add_format({**cell, "align": "center", "num_format": "0"})
    last_col = len(TEMPLATE_COLUMNS) - 1

    ws.merge_range(0, 0, 0, last_col, f"{unit_name}{year}年新建企业科协名册", title)
    ws.set_row(0, 32)
    ws.merge_range(
        1, 0, 1, last_col, f"填报单位（盖章）：{unit_name}　　　　填报日期：　　年　　月　　日", subtitle
    )
    ws.set_row(1, 22)
    header_index = TEMPLATE_HEADER_ROW - 1
    for c, (label, width) in enumerate(TEMPLATE_COLUMNS):
        ws.write_string(header_index, c, label, head)
        ws.set_column(c, c, width)
    ws.set_row(header_index, 36)

    ex = header_index + 1
    ws.write_string(ex, 0, "示例", ex_center)
    ws.write_string(ex, 1, "示例：××集团有限公司科学技术协会", ex_text)
    ws.write_string(ex, 2, "××集团有限公司", ex_text)
    ws.write_datetime(ex, 3, datetime(year, 5, 6), ex_date)
    ws.write_string(ex, 4, f"×科协发〔{year}〕12号", ex_text)
    ws.write_number(ex, 5, 120, ex_center)
    ws.write_string(ex, 6, "张三", ex_center)
    ws.write_string(ex, 7, "此行为示例，导入时忽略", ex_text)

    first, last = ex + 1, ex + TEMPLATE_DATA_ROWS
    for r in range(first, last + 1):
        ws.write_blank(r, 0, None, center)
        ws.write_blank(r, 1, None, text)
        ws.write_blank(r, 2, None, text)
        ws.write_blank(r, 3, None, day)
        ws.write_blank(r, 4, None, text)
        ws.write_blank(r, 5, None, count)
        ws.write_blank(r, 6, None, center)
        ws.write_blank(r, 7, None, text)
    ws.data_validation(
        first,
        3,
        last,
        3,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": date(year, 1, 1),
            "maximum": date(year, 12, 31),
            "input_title": "成立时间",
            "input_message": f"填写 {year} 年内的日期，如 {year}-05-06",
            "error_title": "成立时间有误",
            "error_message": f"请填写 {year} 年内的有效日期，如 {year}-05-06。",
        },
    )
    ws.data_validation(
        first,
        5,
        last,
        5,
        {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "input_title": "会员数",
            "input_message": "填写整数（人），如 120",
            "error_title": "会员数有误",
            "error_message": "会员数须为 0 或正整数。",
        },
    )
    ws.freeze_panes(TEMPLATE_HEADER_ROW, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.repeat_rows(header_index)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")
    workbook.close()
    return buffer.getvalue()
