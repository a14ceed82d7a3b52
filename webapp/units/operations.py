"""Loading the reference list of units from ``seeds/units.csv``."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from webapp.audit.operations import log_event
from webapp.core.db import db
from webapp.units.models import Unit, UnitCategory


def read_units_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    problems = []
    codes = {r["code"] for r in rows}
    for n, row in enumerate(rows, start=2):
        if row["category"] not in {c.value for c in UnitCategory}:
            problems.append(f"{path.name} 第 {n} 行：未知类别 {row['category']!r}")
        if row["category"] == "city" and row.get("parent_code") not in codes:
            problems.append(f"{path.name} 第 {n} 行：副省级城市的上级省份代码 {row.get('parent_code')!r} 不存在")
    if problems:
        raise ValueError("\n".join(problems))
    return rows


def load_units(path: Path) -> tuple[int, int]:
    """Insert or update every unit of the CSV (idempotent). Returns (created, updated)."""
    rows = read_units_csv(path)
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    created = updated = 0
    # Parents first, so the self-referencing foreign key holds at every flush.
    for row in sorted(rows, key=lambda r: r["category"] == "city"):
        values = {
            "name": row["name"],
            "region": row["region"],
            "category": UnitCategory(row["category"]),
            "parent_code": row.get("parent_code") or None,
        }
        unit = existing.get(row["code"])
        if unit is None:
            db.session.add(Unit(code=row["code"], **values))
            created += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(unit, k, v)
            updated += 1
        db.session.flush()
    log_event("units.load", detail={"file": path.name, "created": created, "updated": updated})
    return created, updated
