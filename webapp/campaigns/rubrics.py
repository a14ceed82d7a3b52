"""Rubrics for programs: choosing a file from ``criteria/`` and parsing the stored snapshot.

The web app never interprets rubric TOML itself: ``scoring.rubric`` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from scoring.rubric import RubricError, parse_rubric


@dataclass(frozen=True)
class RubricFile:
    name: str
    rubric_id: str
    title: str
    program: str
    text: str
    sha256: str


def criteria_dir() -> Path:
    return Path(current_app.config["CRITERIA_DIR"])


def available_rubrics(program: str | None = None) -> list[RubricFile]:
    """Every valid rubric file in ``criteria/``, optionally only those for one program kind."""
    found = []
    for path in sorted(criteria_dir().glob("*.toml")):
        try:
            found.append(read_rubric_file(path.name))
        except (ValueError, OSError):
            continue
    return [r for r in found if program is None or r.program == program]


def read_rubric_file(name: str) -> RubricFile:
    """Read and validate ``criteria/<name>``; raises ValueError with every problem."""
    if "/" in name or "\\" in name or not name.endswith(".toml"):
        raise ValueError(_("评分细则文件名无效：%(name)s", name=name))
    path = criteria_dir() / name
    text = path.read_text(encoding="utf-8")
    rubric = _parse(text, name)
    return RubricFile(
        name=name,
        rubric_id=rubric.id,
        title=rubric.title,
        program=rubric.program,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


@lru_cache(maxsize=64)
def _parse_cached(text: str, source: str):
    return parse_rubric(text, source)


def _parse(text: str, source: str):
    try:
        return _parse_cached(text, source)
    except RubricError as exc:
        raise ValueError("；".join(exc.problems)) from exc


def rubric_of(program):
    """The parsed rubric of a program, from its stored snapshot (never from the file, which may change)."""
    return _parse(program.rubric_toml, program.rubric_file)
