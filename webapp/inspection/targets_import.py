"""Importing per-unit targets (任务分配表) from XLSX or CSV, and the template to fill in.

The office may set each unit's targets from a spreadsheet instead of allocating them
(``allocation.largest_remainder``). One row per unit: the unit code, optionally its name, its number of
regulated industrial enterprises (the allocation basis) and/or its two targets — new enterprise
associations (新建企业科协) and liaison enterprises (科协联系人制度). A row needs the basis, or both
targets, or all three.

What is accepted:

* XLSX (read with openpyxl through pandas) or CSV, decided by the content, not the file name: a zip
  archive is a workbook, anything else is read as CSV text. CSV may be UTF-8 with or without BOM,
  GB18030/GBK (what Excel saves on a Chinese system) or UTF-16 with BOM; CRLF or LF; comma, tab or
  semicolon separated.
* Header variants (after NFKC, without spaces, without a trailing unit such as “（家）”):
  单位代码/代码/行政区划代码, 单位名称 (read and ignored), 规模以上工业企业数/规上工业企业数,
  新建企业科协任务/新建企业科协目标任务, 联系人制度任务/科协联系人制度目标任务. Title rows above the
  header are allowed (the header is looked for in the first ``HEADER_SCAN_ROWS`` rows of each sheet).
* Full-width digits, thousands separators, a trailing 家/个, whole numbers written as 12.0; the unit
  code as a number (110000) or as text.
* Blank rows, a repeated header, totals rows (合计/总计/小计) and note rows (注：/说明) are skipped.

Problems are in the interface language (Chinese by default, the column names quoted as the file has them),
say what is wrong and how to fix it, and carry the row number the spreadsheet shows (``None`` for problems
with the whole file). Any problem means nothing should be saved.

No database and no request needed: messages go through Flask-Babel's ``gettext``, which gives the default
Chinese outside a request.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import xlsxwriter
from flask_babel import gettext as _

from webapp.core.importing import FileProblem, header_columns, header_key

__all__ = [
    "COLUMNS",
    "HEADER_SCAN_ROWS",
    "TargetImport",
    "TargetProblem",
    "TargetRow",
    "parse_targets",
    "targets_template",
]

HEADER_SCAN_ROWS = 15
MAX_ROWS = 2000
MAX_COUNT = 100_000_000  # no unit has more enterprises or tasks than this; bounds what reaches the database
MAX_BYTES = 20 * 1024 * 1024
# A targets workbook is a few kilobytes of XML; these bound what an upload may make us unpack.
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000

# Fields in template order, with the column name used in messages and in the template.
COLUMNS: dict[str, str] = {
    "unit_code": "单位代码",
    "unit_name": "单位名称",
    "basis": "规模以上工业企业数",
    "task_new_kexie": "新建企业科协任务",
    "task_liaison": "联系人制度任务",
}
NUMBER_FIELDS = ("basis", "task_new_kexie", "task_liaison")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "unit_code": ("单位代码", "代码", "行政区划代码"),
    "unit_name": ("单位名称",),
    "basis": ("规模以上工业企业数", "规上工业企业数"),
    "task_new_kexie": ("新建企业科协任务", "新建企业科协目标任务"),
    "task_liaison": ("联系人制度任务", "科协联系人制度目标任务"),
}
_HEADER_LOOKUP = {key: field for field, keys in SYNONYMS.items() for key in keys}

_SKIP_PREFIXES = ("合计", "总计", "小计", "注:", "说明", "填表说明")
_INTEGER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$")
_NUMBER_LIKE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?$")
_CODE = re.compile(r"^[0-9A-Za-z]+$")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class TargetRow:
    row: int  # the spreadsheet row number as Excel shows it (1-based)
    unit_code: str
    basis: int | None  # 规模以上工业企业数 (≥ 0), None when not given
    task_new_kexie: int | None  # 新建企业科协目标任务 (≥ 0), None when not given
    task_liaison: int | None  # 科协联系人制度目标任务 (≥ 0), None when not given


@dataclass(frozen=True)
class TargetProblem:
    row: int | None  # spreadsheet row, None for a problem with the whole file
    message: str  # what is wrong and how to fix it (interface language)


@dataclass(frozen=True)
class TargetImport:
    rows: tuple[TargetRow, ...]  # valid rows only, in file order
    problems: tuple[TargetProblem, ...]  # if any, the import must save nothing

    @property
    def ok(self) -> bool:
        return not self.problems


# --------------------------------------------------------------------------------------------------------
# Text helpers


def _text(value: Any) -> str:
    """A cell as text: NFKC (full-width digits and letters made half-width), no whitespace at all."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer():
            value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).replace("\ufeff", "").replace("\u200b", "")
    return re.sub(r"\s+", "", text)


def _header_key(value: Any) -> str:
    # trailing units and notes: 规模以上工业企业数(家), 新建企业科协任务(个)
    return header_key(_text(value), "家个")


def _header_field(value: Any) -> str | None:
    return _HEADER_LOOKUP.get(_header_key(value))


def _is_blank(value: Any) -> bool:
    return _text(value) == ""


def _shown(value: Any) -> str:
    """A cell value quoted back to the user (as written, full-width made half-width)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).replace("\ufeff", "").replace("\u200b", "").strip()


def _unit_code(value: Any) -> str:
    code = _text(value).lstrip("'")
    if re.fullmatch(r"\d+\.0+", code):  # a number cell written out as text by some tools
        code = code.split(".")[0]
    return code


def _parse_count(value: Any) -> tuple[int | None, str | None]:
    """(count, error kind) for a number cell: kind is "negative", "fraction" or "nan"."""
    if isinstance(value, bool):
        return None, "nan"
    if isinstance(value, int):
        return (value, None) if value >= 0 else (None, "negative")
    if isinstance(value, float):
        if value in (float("inf"), float("-inf")):
            return None, "nan"
        if not value.is_integer():
            return (None, "negative") if value < 0 else (None, "fraction")
        return (int(value), None) if value >= 0 else (None, "negative")
    if not isinstance(value, str):
        return None, "nan"  # dates, times and anything else a workbook cell may hold
    text = _text(value).replace("，", ",")
    text = re.sub(r"(?:家|个)$", "", text)
    if _INTEGER.match(text):
        number = int(text.replace(",", "").split(".")[0])
        if number != 0 and text.startswith("-"):
            return None, "negative"
        return abs(number), None
    if text and _NUMBER_LIKE.match(text) and re.search(r"\d", text):
        return None, "negative" if text.startswith("-") else "fraction"
    return None, "nan"


# --------------------------------------------------------------------------------------------------------
# Reading the file into rows of cells


def _read_bytes(source: Path | BinaryIO) -> bytes:
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    data = source.read(MAX_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data


def _sheets(data: bytes, filename: str) -> list[tuple[str, list[list[Any]]]]:
    """[(sheet name, rows of cell values)], row i being spreadsheet row i + 1."""
    if not data:
        raise FileProblem(_("文件“%(file)s”是空的（0 字节），请重新选择任务分配表。", file=filename))
    if len(data) > MAX_BYTES:
        raise FileProblem(
            _(
                "文件“%(file)s”超过 %(mb)s MB，不像是任务分配表，请核对后重新上传。",
                file=filename,
                mb=MAX_BYTES // 1024 // 1024,
            )
        )
    if data.startswith(_OLE_MAGIC):
        raise FileProblem(
            _(
                "文件“%(file)s”是旧版 Excel（.xls）格式或设置了打开密码，无法读取。"
                "请在 Excel 中“另存为” .xlsx 格式（不加密）或 CSV 后重新上传。",
                file=filename,
            )
        )
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_sheets(data, filename)
    return [("", _csv_rows(data, filename))]


def _xlsx_sheets(data: bytes, filename: str) -> list[tuple[str, list[list[Any]]]]:
    unreadable = _(
        "文件“%(file)s”已损坏或不是有效的 XLSX 工作簿，无法读取。请在 Excel 中重新保存为 .xlsx 后上传。",
        file=filename,
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileProblem(unreadable) from exc
    names = {info.filename for info in members}
    if not any(name.endswith("workbook.xml") for name in names):
        raise FileProblem(
            _(
                "文件“%(file)s”是压缩包但不是 Excel 工作簿（.xlsx），请上传任务分配表的 .xlsx 或 CSV 文件。",
                file=filename,
            )
        )
    if len(members) > MAX_ZIP_MEMBERS or sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
        raise FileProblem(
            _("文件“%(file)s”解压后过大，不像是任务分配表。请只保留任务分配工作表后重新上传。", file=filename)
        )
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it does not keep (extensions, data validation, default styles).
            warnings.simplefilter("ignore")
            frames = pd.read_excel(
                io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine="openpyxl"
            )
    except Exception as exc:  # openpyxl and pandas raise many kinds for damaged files
        raise FileProblem(unreadable) from exc
    sheets = []
    for name, frame in frames.items():
        rows = [[None if _is_missing(v) else v for v in record] for record in frame.itertuples(index=False)]
        sheets.append((str(name), rows))
    return sheets


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _decode(data: bytes, filename: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encodings: Sequence[str] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise FileProblem(
        _(
            "文件“%(file)s”既不是 XLSX 工作簿，也不是可读的 CSV 文本（编码应为 UTF-8 或 GBK），无法读取。"
            "请在 Excel 中“另存为” .xlsx 或 CSV 后重新上传。",
            file=filename,
        )
    )


def _csv_rows(data: bytes, filename: str) -> list[list[Any]]:
    text = _decode(data, filename)
    best: list[list[Any]] | None = None
    for delimiter in (",", "\t", ";"):
        try:
            rows = [list(record) for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
        except csv.Error as exc:
            raise FileProblem(
                _(
                    "文件“%(file)s”不是有效的 CSV 文本（%(error)s），请在 Excel 中重新另存为 CSV 后上传。",
                    file=filename,
                    error=exc,
                )
            ) from exc
        if best is None:
            best = rows
        if _find_header(rows) is not None:
            return rows
    return best or []


# --------------------------------------------------------------------------------------------------------
# The header


@dataclass(frozen=True)
class _Header:
    row: int  # 0-based index into the sheet's rows
    columns: dict[str, int]  # field → 0-based column index
    labels: dict[str, str]  # field → header text as written


def _header_in(values: Sequence[Any], index: int) -> _Header:
    return _Header(index, *header_columns(values, _header_field, _text))


def _find_header(rows: Sequence[Sequence[Any]]) -> _Header | None:
    """The first row (among the first HEADER_SCAN_ROWS) with the code column and a number column."""
    for index, values in enumerate(rows[:HEADER_SCAN_ROWS]):
        header = _header_in(values, index)
        if "unit_code" in header.columns and any(f in header.columns for f in NUMBER_FIELDS):
            return header
    return None


def _expected_columns() -> str:
    return _("、").join(f"“{COLUMNS[f]}”" for f in ("unit_code", *NUMBER_FIELDS))


def _header_problem(sheets: Sequence[tuple[str, list[list[Any]]]], filename: str) -> str:
    for _sheet, rows in sheets:
        for index, values in enumerate(rows[:HEADER_SCAN_ROWS]):
            header = _header_in(values, index)
            if "unit_code" in header.columns:
                return _(
                    "第 %(row)s 行的表头有“%(column)s”列，但没有任务或企业数列。"
                    "表头应包含：%(columns)s（企业数和两项任务至少填一类），请使用下载的模板填写。",
                    row=index + 1,
                    column=header.labels["unit_code"],
                    columns=_expected_columns(),
                )
            if header.columns.keys() & set(NUMBER_FIELDS):
                return _(
                    "第 %(row)s 行的表头缺少“单位代码”列（也可写作“代码”或“行政区划代码”）。"
                    "表头应包含：%(columns)s，请使用下载的模板填写。",
                    row=index + 1,
                    columns=_expected_columns(),
                )
    return _(
        "在文件“%(file)s”的前 %(n)s 行中没有找到任务分配表的表头。"
        "表头应包含以下列：%(columns)s（“单位名称”可有可无），请使用下载的模板填写。",
        file=filename,
        n=HEADER_SCAN_ROWS,
        columns=_expected_columns(),
    )


# --------------------------------------------------------------------------------------------------------
# The parser


def _file_problem(message: str) -> TargetImport:
    return TargetImport((), (TargetProblem(None, message),))


def parse_targets(source: Path | BinaryIO, filename: str, *, known_codes: Collection[str]) -> TargetImport:
    """Read a targets XLSX or CSV. ``filename`` is only quoted in messages (the content decides the format).
    ``known_codes``: the unit codes that may appear. Problems are in Chinese; if any, save nothing."""
    try:
        sheets = _sheets(_read_bytes(source), filename)
    except FileProblem as problem:
        return _file_problem(problem.message)
    except OSError:
        return _file_problem(_("无法读取上传的文件“%(file)s”，请重新上传。", file=filename))

    for _sheet, rows in sheets:
        header = _find_header(rows)
        if header is not None:
            return _parse_rows(rows, header, filename, {_unit_code(c) for c in known_codes})
    if all(_is_blank(v) for _sheet, rows in sheets for values in rows for v in values):
        return _file_problem(
            _("文件“%(file)s”是空的：没有任何内容。请下载任务分配表模板，填写后重新上传。", file=filename)
        )
    return _file_problem(_header_problem(sheets, filename))


def _skipped(values: Sequence[Any], header: _Header) -> bool:
    """Repeated headers, totals and notes: not data, not a problem."""
    if _header_field(values[header.columns["unit_code"]]) == "unit_code":
        return True
    first = next((_text(v) for v in values if not _is_blank(v)), "")
    return first.startswith(_SKIP_PREFIXES)


def _parse_rows(rows: list[list[Any]], header: _Header, filename: str, known: set[str]) -> TargetImport:
    fields = [f for f in ("unit_code", *NUMBER_FIELDS) if f in header.columns]
    result: list[TargetRow] = []
    problems: list[TargetProblem] = []
    seen: dict[str, int] = {}
    data_rows = 0
    for index in range(header.row + 1, len(rows)):
        values = rows[index]
        cells = {f: values[header.columns[f]] if header.columns[f] < len(values) else None for f in fields}
        if all(_is_blank(v) for v in cells.values()) or _skipped(values, header):
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            return _file_problem(_("任务分配表超过 %(n)s 行上限，请核对是否误填。", n=MAX_ROWS))
        r = index + 1
        row, row_problems = _parse_row(r, cells, header, known, seen)
        problems.extend(row_problems)
        if row is not None:
            result.append(row)
    if data_rows == 0:
        return _file_problem(
            _(
                "任务分配表中没有数据：第 %(row)s 行表头以下没有填写任何单位。请至少填写一行后重新上传。",
                row=header.row + 1,
            )
        )
    return TargetImport(tuple(result), tuple(problems))


def _parse_row(
    r: int, cells: dict[str, Any], header: _Header, known: set[str], seen: dict[str, int]
) -> tuple[TargetRow | None, list[TargetProblem]]:
    problems: list[TargetProblem] = []

    def problem(message: str) -> None:
        problems.append(TargetProblem(r, _("第 %(row)s 行：%(message)s", row=r, message=message)))

    def label(field: str) -> str:
        return header.labels.get(field, COLUMNS[field])

    raw_code = cells["unit_code"]
    code = _unit_code(raw_code)
    if not code:
        problem(_("缺少%(column)s，请填写单位的六位代码，如 110000。", column=label("unit_code")))
    elif not _CODE.match(code) or code not in known:
        problem(
            _(
                "%(column)s“%(value)s”不是已登记的单位代码，请核对代码（如北京市为 110000）。",
                column=label("unit_code"),
                value=_shown(raw_code),
            )
        )
    elif code in seen:
        problem(
            _(
                "%(column)s“%(value)s”与第 %(row)s 行重复，每个单位只能填写一行，请删除或合并重复的行。",
                column=label("unit_code"),
                value=code,
                row=seen[code],
            )
        )
    else:
        seen[code] = r

    numbers: dict[str, int | None] = {}
    for field in NUMBER_FIELDS:
        raw = cells.get(field)
        numbers[field] = None
        if _is_blank(raw):
            continue
        value, error = _parse_count(raw)
        shown = _shown(raw)
        if error == "negative":
            problem(
                _("%(column)s“%(value)s”不能为负数，请填写 0 或正整数。", column=label(field), value=shown)
            )
        elif error == "fraction":
            problem(
                _("%(column)s“%(value)s”不是整数，请填写整数，如 120。", column=label(field), value=shown)
            )
        elif error == "nan":
            problem(
                _("%(column)s“%(value)s”不是数字，请填写整数，如 120。", column=label(field), value=shown)
            )
        elif value is not None and value > MAX_COUNT:
            problem(
                _(
                    "%(column)s“%(value)s”过大（超过 %(max)s），请核对后填写。",
                    column=label(field),
                    value=shown,
                    max=f"{MAX_COUNT:,}",
                )
            )
        else:
            numbers[field] = value

    given = {f for f in NUMBER_FIELDS if not _is_blank(cells.get(f))}
    if "basis" not in given and not {"task_new_kexie", "task_liaison"} <= given:
        if "basis" in header.columns:
            problem(
                _(
                    "既没有填写%(column)s，也没有同时填写%(tasks)s。"
                    "请填写企业数（按比例分配任务），或两项任务都填写。",
                    column=label("basis"),
                    tasks=_task_labels(header),
                )
            )
        else:
            problem(_("%(tasks)s必须都填写，请补全后重新上传。", tasks=_task_labels(header)))

    if problems:
        return None, problems
    return TargetRow(r, code, numbers["basis"], numbers["task_new_kexie"], numbers["task_liaison"]), []


def _task_labels(header: _Header) -> str:
    return _(
        "“%(new)s”和“%(liaison)s”",
        new=header.labels.get("task_new_kexie", COLUMNS["task_new_kexie"]),
        liaison=header.labels.get("task_liaison", COLUMNS["task_liaison"]),
    )


# --------------------------------------------------------------------------------------------------------
# The template

TEMPLATE_SHEET = "任务分配表"
TEMPLATE_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("unit_code", "单位代码", 12),
    ("unit_name", "单位名称", 24),
    ("basis", "规模以上工业企业数（家）", 16),
    ("task_new_kexie", "新建企业科协目标任务（个）", 16),
    ("task_liaison", "科协联系人制度目标任务（家）", 18),
)
TEMPLATE_NOTE = (
    "说明：每个单位填写一行。“单位代码”为六位代码（如 110000），“单位名称”仅供核对。"
    "填写“规模以上工业企业数”则由系统按比例分配任务；也可直接填写两项目标任务。"
    "数字填写 0 或正整数。本行导入时忽略。"
)


def targets_template() -> bytes:
    """The XLSX to download: a note row (row 1, ignored on import) and the header (row 2)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": "企业科协组建任务分配表"})
    ws = workbook.add_worksheet(TEMPLATE_SHEET)
    font = {"font_name": "宋体", "font_size": 11}
    note = workbook.add_format({**font, "text_wrap": True, "valign": "vcenter", "font_color": "#595959"})
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
    code = workbook.add_format({**font, "border": 1, "num_format": "@"})
    text = workbook.add_format({**font, "border": 1})
    count = workbook.add_format({**font, "border": 1, "num_format": "0"})
    last_col = len(TEMPLATE_COLUMNS) - 1
    ws.merge_range(0, 0, 0, last_col, TEMPLATE_NOTE, note)
    ws.set_row(0, 48)
    for c, (field, label, width) in enumerate(TEMPLATE_COLUMNS):
        ws.write_string(1, c, label, head)
        fmt = code if field == "unit_code" else text if field == "unit_name" else count
        ws.set_column(c, c, width, fmt)
    ws.set_row(1, 36)
    ws.data_validation(
        2,
        2,
        1000,
        last_col,
        {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "error_title": "数字有误",
            "error_message": "请填写 0 或正整数。",
        },
    )
    ws.freeze_panes(2, 0)
    workbook.close()
    return buffer.getvalue()
