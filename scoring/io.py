"""Reading the CSV inputs and writing exact JSON.

CSV files come from Excel as often as from programs: UTF-8 with or without BOM, GB18030/GBK (Excel on
Chinese Windows), CRLF line ends, blank lines. Each data row keeps its line number for messages.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "CsvError",
    "CsvTable",
    "decode_text",
    "dumps_json",
    "loads_json",
    "parse_csv",
    "read_csv",
    "write_atomic",
]

SCORES_COLUMNS = ("application", "expert", "criterion", "score")
INDICATORS_COLUMNS = ("application", "indicator", "value")
APPLICATIONS_COLUMNS = ("application", "name", "group", "submitted_at")


class CsvError(ValueError):
    """A CSV file cannot be used; ``problems`` lists every reason, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class CsvTable:
    """Rows of a CSV file reduced to the wanted columns, with the line number of each row."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    encoding: str


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM optional), else GB18030 (a superset of GBK and GB2312).

    Returns
    -------
    text, encoding : str, str

    Raises
    ------
    UnicodeDecodeError
        If neither encoding fits.
    """
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def parse_csv(raw: bytes, name: str, columns: Sequence[str], *, require_rows: bool = True) -> CsvTable:
    """Parse CSV bytes, keeping ``columns`` (in that order) from a header row that names them.

    Header names are matched ignoring case and surrounding spaces; other columns are ignored; blank
    lines are skipped.

    Raises
    ------
    CsvError
        Empty file, undecodable bytes, missing columns, rows of the wrong width, no data rows.
    """
    try:
        text, encoding = decode_text(raw)
    except UnicodeDecodeError:
        raise CsvError(
            [f"{name}: the file is neither UTF-8 nor GB18030/GBK text; save it as CSV UTF-8"]
        ) from None
    if not text.strip():
        raise CsvError([f"{name}: the file is empty; give a header row ({','.join(columns)}) and data rows"])
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    positions: list[int] = []
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                header_line = start
                missing = [c for c in columns if c not in header]
                if missing:
                    raise CsvError(
                        [
                            f"{name}:{start}: missing column {', '.join(repr(m) for m in missing)}; "
                            f"the header must name {','.join(columns)}"
                        ]
                    )
                positions = [header.index(c) for c in columns]
                continue
            if len(record) != len(header):
                problems.append(
                    f"{name}:{start}: {len(record)} values where the header has {len(header)}; "
                    "check for a stray comma or a missing value (quote text that contains commas)"
                )
                continue
            rows.append(tuple(record[p].strip() for p in positions))
            lines.append(start)
    except csv.Error as exc:
        problems.append(f"{name}:{reader.line_num}: not valid CSV ({exc}); check the quotes on that line")
    if problems:
        raise CsvError(problems)
    if require_rows and not rows:
        raise CsvError([f"{name}:{header_line}: the file has a header but no data rows; add the rows"])
    return CsvTable(name, tuple(columns), tuple(rows), tuple(lines), encoding)


def read_csv(path: str | Path, columns: Sequence[str], *, require_rows: bool = True) -> CsvTable:
    """Read and parse a CSV file (see :func:`parse_csv`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CsvError([f"{p}: cannot be read ({exc.strerror}); check the path"]) from None
    return parse_csv(raw, str(p), columns, require_rows=require_rows)


def _encode(value: Any, indent: int, level: int) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        return format(value, "f")
    if value is None or isinstance(value, (bool, int, float, str)):
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_encode(v, indent, level + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if all(v is None or isinstance(v, (int, float, Decimal)) for v in value):
            return "[" + ", ".join(_encode(v, indent, level + 1) for v in value) + "]"
        return "[\n" + ",\n".join(pad + _encode(v, indent, level + 1) for v in value) + "\n" + end + "]"
    if hasattr(value, "item"):  # numpy scalar
        return _encode(value.item(), indent, level)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps_json(data: Any, indent: int = 2) -> str:
    """JSON text with ``Decimal`` written exactly as a JSON number (``84.10`` stays ``84.10``).

    Chinese text is written as is (UTF-8, not ``\\u`` escapes).

    Examples
    --------
    >>> print(dumps_json({"total": Decimal("84.10"), "单位": "北京"}), end="")
    {
      "total": 84.10,
      "单位": "北京"
    }
    """
    return _encode(data, indent, 0) + "\n"


def loads_json(text: str | bytes) -> Any:
    """Parse JSON keeping decimal numbers exact (as ``Decimal``)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return json.loads(text, parse_float=Decimal)


def write_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text to ``path`` through a temporary file, so a failure leaves no partial file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent if str(p.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
