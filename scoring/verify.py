"""Verify an audit package: check every file's SHA-256 and recompute result.json and awards.json.

A package is a directory or a ZIP holding ``manifest.json`` and the files it lists::

    {
      "files": {"rubric.toml": "<sha256 hex>", "scores.csv": "...", "indicators.csv": "...",
                "applications.csv": "...", "result.json": "...", "awards.json": "..."},
      "inputs": {"rubric": "rubric.toml", "scores": "scores.csv", "indicators": "indicators.csv",
                 "applications": "applications.csv", "result": "result.json", "awards": "awards.json"},
      "rank": {"bootstrap": 1000, "seed": 2014},
      "allocate": {"budget": 1500000, "count": 12}
    }

``files`` may also be a list of ``{"path": ..., "sha256": ...}``. ``inputs`` is optional (the names above
are the defaults; ``applications`` may be absent); ``rank`` and ``allocate`` give the parameters the
results were computed with (default: no bootstrap; the rubric's budget and count). Other listed files
(publicity register, audit-log head) are checked by hash only.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from .allocate import allocate
from .engine import ScoringInputError, rank_applications
from .io import (
    APPLICATIONS_COLUMNS,
    INDICATORS_COLUMNS,
    SCORES_COLUMNS,
    CsvError,
    dumps_json,
    loads_json,
    parse_csv,
)
from .rubric import RubricError, parse_rubric

__all__ = ["PackageError", "VerifyReport", "verify_package"]

DEFAULT_INPUTS = {
    "rubric": "rubric.toml",
    "scores": "scores.csv",
    "indicators": "indicators.csv",
    "applications": "applications.csv",
    "result": "result.json",
    "awards": "awards.json",
}


class PackageError(ValueError):
    """The package cannot be verified at all (no manifest, unreadable, bad inputs)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class VerifyReport:
    """What :func:`verify_package` found.

    Attributes
    ----------
    package : str
    files_checked : int
        Files whose SHA-256 was compared.
    values_compared : int
        Numbers and values of result.json and awards.json compared with the recomputation.
    disagreements : list of str
        One line per disagreement (empty when everything agrees).
    """

    package: str
    files_checked: int = 0
    values_compared: int = 0
    disagreements: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def lines(self) -> list[str]:
        if self.ok:
            return [
                f"{self.package}: OK: {self.files_checked} file hashes match and all "
                f"{self.values_compared} values of result.json and awards.json agree with the recomputation"
            ]
        return [f"{self.package}: DIFFERS: {d}" for d in self.disagreements] + [
            f"{self.package}: {len(self.disagreements)} disagreement(s); "
            f"{self.files_checked} files and {self.values_compared} values checked"
        ]


def _read_package(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                files[p.relative_to(path).as_posix()] = p.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    files[PurePosixPath(info.filename).as_posix()] = zf.read(info)
    elif path.exists():
        raise PackageError([f"{path}: neither a directory nor a ZIP file; give the audit package"])
    else:
        raise PackageError([f"{path}: does not exist; check the path"])
    # a ZIP made of a folder holds everything under one top-level directory
    if "manifest.json" not in files:
        tops = {name.split("/", 1)[0] for name in files}
        if len(tops) == 1 and f"{next(iter(tops))}/manifest.json" in files:
            prefix = next(iter(tops)) + "/"
            files = {name[len(prefix) :]: data for name, data in files.items()}
    return files


def _manifest_hashes(manifest: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = manifest.get("files")
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for entry in raw:
            if not isinstance(entry, Mapping) or "path" not in entry or "sha256" not in entry:
                raise PackageError(
                    [f"{where}: a 'files' entry lacks path or sha256; list {{path, sha256}} objects"]
                )
            items.append((entry["path"], entry["sha256"]))
    else:
        raise PackageError([f"{where}: no 'files' list of SHA-256 hashes; add one"])
    return {str(k): str(v).lower() for k, v in items}


def verify_package(path: str | Path) -> VerifyReport:
    """Check hashes and recompute an audit package.

    Parameters
    ----------
    path : str or Path
        A directory or a ZIP file with ``manifest.json`` (format in the module docstring).

    Returns
    -------
    VerifyReport
        ``ok`` is True when every hash matches and every value agrees.

    Raises
    ------
    PackageError
        When the package cannot be verified: missing manifest or inputs, invalid rubric or CSV.
    """
    path = Path(path)
    files = _read_package(path)
    report = VerifyReport(package=str(path))
    if "manifest.json" not in files:
        raise PackageError([f"{path}: no manifest.json; the package must list its files with SHA-256 hashes"])
    try:
        manifest = loads_json(files["manifest.json"])
    except ValueError as exc:
        raise PackageError([f"{path}/manifest.json: not valid JSON ({exc}); fix or regenerate it"]) from None
    if not isinstance(manifest, Mapping):
        raise PackageError([f"{path}/manifest.json: must be a JSON object; regenerate it"])
    hashes = _manifest_hashes(manifest, f"{path}/manifest.json")

    for name, expected in hashes.items():
        if name not in files:
            report.disagreements.append(f"{name}: listed in the manifest but not in the package")
            continue
        report.files_checked += 1
        actual = hashlib.sha256(files[name]).hexdigest()
        if actual != expected:
            report.disagreements.append(f"{name}: SHA-256 is {actual}, the manifest says {expected}")
    for name in files:
        if name != "manifest.json" and name not in hashes:
            report.disagreements.append(f"{name}: in the package but not listed in the manifest")

    inputs = dict(DEFAULT_INPUTS)
    inputs.update(manifest.get("inputs") or {})
    needed = ["rubric", "scores", "indicators", "result", "awards"]
    missing = [
        f"{path}/{inputs[k]}: missing; the package must hold the {k} file"
        for k in needed
        if inputs[k] not in files
    ]
    if missing:
        raise PackageError(missing)

    problems: list[str] = []
    rubric = None
    try:
        rubric = parse_rubric(files[inputs["rubric"]].decode("utf-8-sig"), inputs["rubric"])
    except (RubricError, UnicodeDecodeError) as exc:
        problems += getattr(exc, "problems", [f"{inputs['rubric']}: not UTF-8 text; save it as UTF-8"])
    tables = {}
    for kind, columns, need_rows in (
        ("scores", SCORES_COLUMNS, True),
        ("indicators", INDICATORS_COLUMNS, False),
        ("applications", APPLICATIONS_COLUMNS, True),
    ):
        name = inputs.get(kind)
        if not name or name not in files:
            continue
        try:
            tables[kind] = parse_csv(files[name], name, columns, require_rows=need_rows)
        except CsvError as exc:
            problems += exc.problems
    rank_params = manifest.get("rank") or {}
    alloc_params = manifest.get("allocate") or {}
    if problems or rubric is None:
        raise PackageError(problems)
    try:
        result = rank_applications(
            rubric,
            tables["scores"].rows,
            tables["indicators"].rows,
            tables["applications"].rows if "applications" in tables else None,
            bootstrap=int(rank_params.get("bootstrap", 0) or 0),
            seed=None if rank_params.get("seed") is None else int(rank_params["seed"]),
            budget=alloc_params.get("budget"),
            count=alloc_params.get("count"),
            amounts=alloc_params.get("amounts"),
            origins={kind: (t.name, t.lines) for kind, t in tables.items()},
        )
        awards = allocate(
            rubric,
            result,
            budget=alloc_params.get("budget"),
            count=alloc_params.get("count"),
            amounts=alloc_params.get("amounts"),
        )
    except ScoringInputError as exc:
        raise PackageError(exc.problems) from None
    except ValueError as exc:
        raise PackageError([f"{path}/manifest.json: {exc}; fix the parameters"]) from None

    for kind, recomputed in (("result", result.to_json()), ("awards", awards.to_json())):
        name = inputs[kind]
        try:
            stored = loads_json(files[name])
        except ValueError as exc:
            report.disagreements.append(f"{name}: not valid JSON ({exc})")
            continue
        expected = loads_json(dumps_json(recomputed))
        report.values_compared += _compare(stored, expected, name, report.disagreements)
    return report


def _label(item: Any, index: int) -> str:
    if isinstance(item, Mapping):
        for key in ("application", "expert"):
            if isinstance(item.get(key), str):
                return f"[{index + 1}]({item[key]})"
    return f"[{index + 1}]"


def _compare(stored: Any, expected: Any, where: str, out: list[str]) -> int:
    """Compare recursively; append one line per difference; return the number of leaves compared."""
    if isinstance(expected, Mapping):
        if not isinstance(stored, Mapping):
            out.append(f"{where}: the file has {_show(stored)}, recomputed an object")
            return 1
        n = 0
        for key in expected:
            if key not in stored:
                out.append(f"{where}.{key}: missing from the file (recomputed {_show(expected[key])})")
                n += 1
            else:
                n += _compare(stored[key], expected[key], f"{where}.{key}", out)
        for key in stored:
            if key not in expected:
                out.append(f"{where}.{key}: in the file but not recomputed")
        return n
    if isinstance(expected, list):
        if not isinstance(stored, list):
            out.append(f"{where}: the file has {_show(stored)}, recomputed a list")
            return 1
        n = 0
        if len(stored) != len(expected):
            out.append(f"{where}: the file has {len(stored)} entries, recomputed {len(expected)}")
        for i, (s, e) in enumerate(zip(stored, expected, strict=False)):
            n += _compare(s, e, f"{where}{_label(e, i)}", out)
        return n
    # expert diagnostics and reliability are floating-point statistics: another machine's BLAS may
    # differ in the last digits, so they agree within a relative 1e-9; every score, rank and amount
    # must agree exactly
    approximate = ".experts" in where or ".reliability" in where
    if not _same(stored, expected, approximate):
        out.append(f"{where}: the file says {_show(stored)}, recomputed {_show(expected)}")
    return 1


def _same(a: Any, b: Any, approximate: bool = False) -> bool:
    numeric = (int, Decimal)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, numeric) and isinstance(b, numeric):
        if approximate:
            return abs(Decimal(a) - Decimal(b)) <= Decimal("1e-9") * max(abs(Decimal(a)), abs(Decimal(b)), 1)
        return Decimal(a) == Decimal(b)
    return type(a) is type(b) and a == b


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return dumps_json(value, indent=0).replace("\n", "")
    return (
        repr(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
