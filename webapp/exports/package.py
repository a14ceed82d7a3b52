"""The audit package (§6): everything needed to recompute a results run with ``python -m scoring verify``.

A ZIP with the rubric, scores.csv, indicators.csv, applications.csv, result.json and awards.json exactly as
the run gave them to and received them from the engine, the decisions and the publicity register, and
manifest.json with the SHA-256 of every file, the parameters used and the head of the audit-log chain.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

from scoring.io import APPLICATIONS_COLUMNS, INDICATORS_COLUMNS, SCORES_COLUMNS


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode("utf-8")


def build_audit_package(
    *,
    rubric_toml: str,
    inputs: dict[str, list[list[Any]]],
    result_json: str,
    awards_json: str,
    bootstrap: int,
    seed: int,
    budget: int | None,
    decisions: Sequence[Sequence[Any]],
    register: Sequence[Sequence[Any]],
    chain_head: str | None,
    description: dict[str, Any],
) -> bytes:
    """Return the ZIP bytes. ``inputs`` are the run's stored engine rows; JSON texts are stored verbatim."""
    files: dict[str, bytes] = {
        "rubric.toml": rubric_toml.encode("utf-8"),
        "scores.csv": _csv(SCORES_COLUMNS, inputs["scores"]),
        "indicators.csv": _csv(INDICATORS_COLUMNS, inputs["indicators"]),
        "applications.csv": _csv(APPLICATIONS_COLUMNS, inputs["applications"]),
        "result.json": result_json.encode("utf-8"),
        "awards.json": awards_json.encode("utf-8"),
        "decisions.csv": _csv(
            [
                "application",
                "name",
                "decision",
                "amount",
                "proposed",
                "proposed_amount",
                "reason",
                "decided_at",
            ],
            decisions,
        ),
        "publicity_register.csv": _csv(
            [
                "receipt_no",
                "submitted_at",
                "name",
                "organisation",
                "application",
                "content",
                "version",
                "conclusion",
                "reply",
                "concluded_on",
            ],
            register,
        ),
    }
    manifest = {
        "description": description,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        "inputs": {
            "rubric": "rubric.toml",
            "scores": "scores.csv",
            "indicators": "indicators.csv",
            "applications": "applications.csv",
            "result": "result.json",
            "awards": "awards.json",
        },
        "rank": {"bootstrap": bootstrap, "seed": seed},
        "allocate": {"budget": budget} if budget is not None else {},
        "audit_chain_head": chain_head,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    return buffer.getvalue()
