"""Helpers shared by the spreadsheet importers (the member roster and the national target table).

Both find their header row among the first rows of a messy sheet, where a column may be titled with a
marker or a trailing unit (``*会员数(人)``, ``规模以上工业企业数/家``). Each importer prepares a cell's text
its own way (what counts as whitespace, which width); what a header cell means is decided here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

__all__ = ["FileProblem", "header_columns", "header_key"]

_MARKERS = "*※★:"


class FileProblem(Exception):
    """The uploaded file as a whole cannot be read (empty, wrong format, damaged, no header row):
    ``message`` says what is wrong and how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@lru_cache(maxsize=16)
def _trailing(units: str) -> re.Pattern[str]:
    unit = "|".join(f"/{re.escape(u)}" for u in units)
    return re.compile(rf"(?:\([^()]*\)|\[[^\[\]]*\]{'|' + unit if unit else ''})$")


def header_key(text: str, units: str = "") -> str:
    """The key a header cell is known by: required-field markers (``* ※ ★ :``) stripped, and trailing
    notes in brackets or a trailing ``/unit`` (each character of ``units`` is one unit) removed, as often
    as they repeat. ``text`` is the cell's text already made half-width and without whitespace.

    Examples
    --------
    >>> header_key("*会员数(人)", "人个")
    '会员数'
    >>> header_key("成立时间(年-月-日)[必填]")
    '成立时间'
    >>> header_key("规模以上工业企业数/家", "家个")
    '规模以上工业企业数'
    """
    key = text.strip(_MARKERS)
    pattern = _trailing(units)
    previous = None
    while previous != key:
        previous = key
        key = pattern.sub("", key).strip(_MARKERS)
    return key


def header_columns(
    values: Iterable[Any], field_of: Callable[[Any], str | None], label_of: Callable[[Any], str]
) -> tuple[dict[str, int], dict[str, str]]:
    """The columns a header row names: ``({field: 0-based column}, {field: header text as written})``.

    ``field_of`` maps a cell to the field it titles (or None); a field titled twice keeps its first
    column."""
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for c, value in enumerate(values):
        field = field_of(value)
        if field is not None and field not in columns:
            columns[field] = c
            labels[field] = label_of(value)
    return columns, labels
