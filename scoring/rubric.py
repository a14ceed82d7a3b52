"""Rubric files (``criteria/*.toml``): loading and validation.

A rubric says what is scored, how reviews are combined and how money is allocated (DESIGN §8).
:func:`parse_rubric` checks everything at once and raises :class:`RubricError` listing every problem,
one line each, so the official who edits next year's file can fix them in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

__all__ = [
    "Aggregation",
    "Allocation",
    "Criterion",
    "Indicator",
    "Rubric",
    "RubricError",
    "Term",
    "load_rubric",
    "parse_rubric",
]

PROGRAMS = ("pilot", "post_subsidy")
METHODS = ("trimmed_mean", "mean", "median")
INDICATOR_KINDS = ("count", "amount")
CRITERION_KINDS = ("expert", "formula")
POLICIES = ("fixed", "linear")
MAX_DECIMALS = 4
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class RubricError(ValueError):
    """A rubric file is invalid.

    Attributes
    ----------
    problems : list of str
        Every problem found, one line each: ``file:line: where: what; how to fix``.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Indicator:
    """A figure the applicant reports (e.g. 规模以上工业企业数)."""

    key: str
    title: str
    unit: str
    kind: str  # "count" (integer >= 0) | "amount" (decimal >= 0)
    help: str | None = None


@dataclass(frozen=True)
class Term:
    """One ratio of a formula criterion: x = numerator / denominator, mapped through ``curve``."""

    weight: Decimal
    numerator: str
    denominator: str | None
    curve: tuple[tuple[Decimal, Decimal], ...]
    title: str | None = None


@dataclass(frozen=True)
class Criterion:
    """A scored criterion: ``expert`` (scored by reviewers) or ``formula`` (computed from indicators)."""

    key: str
    title: str
    kind: str
    max: Decimal
    step: Decimal | None
    guidance: str
    source: str
    terms: tuple[Term, ...] = ()

    @property
    def is_expert(self) -> bool:
        return self.kind == "expert"


@dataclass(frozen=True)
class Aggregation:
    """How reviews are combined (rules 2, 5, 6)."""

    method: str
    min_experts: int
    decimals: int
    trim_min_experts: int | None = None
    tie_break: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allocation:
    """How money is proposed (rule 8). Amounts are whole yuan."""

    policy: str
    amount: int | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    step: int | None = None
    count: int | None = None
    min_score: Decimal | None = None
    budget: int | None = None


@dataclass(frozen=True)
class Rubric:
    """A validated rubric. Build it with :func:`load_rubric` or :func:`parse_rubric`."""

    id: str
    title: str
    program: str
    source: str
    aggregation: Aggregation
    indicators: tuple[Indicator, ...]
    criteria: tuple[Criterion, ...]
    allocation: Allocation
    path: str | None = field(default=None, compare=False)

    @cached_property
    def expert_criteria(self) -> tuple[Criterion, ...]:
        """Criteria scored by experts, in file order."""
        return tuple(c for c in self.criteria if c.kind == "expert")

    @cached_property
    def formula_criteria(self) -> tuple[Criterion, ...]:
        """Criteria computed from indicators, in file order."""
        return tuple(c for c in self.criteria if c.kind == "formula")

    @cached_property
    def expert_max(self) -> Decimal:
        """Sum of the expert criteria's maxima: the largest reviewer total t."""
        return sum((c.max for c in self.expert_criteria), Decimal(0))

    @cached_property
    def total_max(self) -> Decimal:
        """Sum of all criteria's maxima."""
        return sum((c.max for c in self.criteria), Decimal(0))

    @property
    def decimals(self) -> int:
        return self.aggregation.decimals

    @cached_property
    def score_places(self) -> int:
        """Decimal places needed to hold every expert score exactly (e.g. 1 for step 0.5)."""
        places = 0
        for c in self.expert_criteria:
            for value in (c.step, c.max):
                exponent = value.normalize().as_tuple().exponent
                assert isinstance(exponent, int)
                places = max(places, -exponent)
        return places

    @cached_property
    def expert_units(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Each expert criterion's maximum and step in units of ``10**-score_places`` (exact integers)."""
        places = self.score_places
        return (
            tuple(int(c.max.scaleb(places)) for c in self.expert_criteria),
            tuple(int(c.step.scaleb(places)) for c in self.expert_criteria),
        )

    @cached_property
    def tie_break_positions(self) -> tuple[tuple[str, int], ...]:
        """Each tie-break criterion as ("expert", i) or ("formula", i): its position among the expert or
        the formula criteria."""
        expert_pos = {c.key: i for i, c in enumerate(self.expert_criteria)}
        formula_pos = {c.key: i for i, c in enumerate(self.formula_criteria)}
        return tuple(
            ("expert", expert_pos[k]) if k in expert_pos else ("formula", formula_pos[k])
            for k in self.aggregation.tie_break
        )

    def criterion(self, key: str) -> Criterion:
        """The criterion called ``key``; ``KeyError`` if there is none."""
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(key)

    def indicator(self, key: str) -> Indicator:
        """The indicator called ``key``; ``KeyError`` if there is none."""
        for i in self.indicators:
            if i.key == key:
                return i
        raise KeyError(key)


# --------------------------------------------------------------------------------------------------
# line numbers: tomllib does not report where a value came from, so a light scan of the text maps
# table paths and keys to lines for the messages.


def _locate_lines(text: str) -> dict[tuple, int]:
    where: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    current: tuple = ()
    in_multiline = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        elif in_multiline:
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[\[\s*([A-Za-z0-9_.]+)\s*\]\]", line)
        if m:
            parts = m.group(1).split(".")
            parent = _parent_path(current, parts[:-1])
            base = parent + (parts[-1],)
            index = counters.get(base, 0)
            counters[base] = index + 1
            current = base + (index,)
            where.setdefault(current, lineno)
            continue
        m = re.match(r"^\[\s*([A-Za-z0-9_.]+)\s*\]", line)
        if m:
            current = tuple(m.group(1).split("."))
            where.setdefault(current, lineno)
            continue
        m = re.match(r'^([A-Za-z0-9_\-]+|"[^"]*")\s*=', line)
        if m:
            where.setdefault(current + (m.group(1).strip('"'),), lineno)
    return where


def _parent_path(current: tuple, names: list[str]) -> tuple:
    """Resolve ``[[criteria.terms]]`` to the last ``criteria`` entry opened."""
    path: tuple = ()
    for name in names:
        # find the most recent index of this array under path within current
        if len(current) >= len(path) + 2 and current[: len(path) + 1] == path + (name,):
            path = current[: len(path) + 2]
        else:
            path = path + (name,)
    return path


class _Checker:
    def __init__(self, source: str, text: str):
        self.source = source
        self.lines = _locate_lines(text)
        self._found: list[tuple[int, int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Problems in file order (those without a line last)."""
        return [text for _, _, text in sorted(self._found)]

    def line(self, path: tuple) -> int | None:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            if p + (0,) in self.lines:  # an array of tables: its first entry
                return self.lines[p + (0,)]
            p = p[:-1]
        return None

    def add(self, path: tuple, what: str, fix: str) -> None:
        line = self.line(path)
        loc = f"{self.source}:{line}" if line is not None else self.source
        self._found.append(
            (
                line if line is not None else 1 << 30,
                len(self._found),
                f"{loc}: {_describe(path)}: {what}; {fix}",
            )
        )


def _describe(path: tuple) -> str:
    out = []
    for part in path:
        if isinstance(part, int):
            out[-1] = f"{out[-1]}[{part + 1}]"
        else:
            out.append(str(part))
    return ".".join(out) or "file"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _as_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


class _Table:
    """Reads a table's keys, recording type problems and refusing unknown keys."""

    def __init__(self, chk: _Checker, path: tuple, data: Any, allowed: Iterable[str], label: str):
        self.chk = chk
        self.path = path
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if self.ok else {}
        if not self.ok:
            chk.add(
                path, f"{label} must be a table", f"write it as [{_describe(path)}] with key = value lines"
            )
            return
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                chk.add(
                    path + (key,),
                    f"unknown key '{key}'",
                    f"remove it or use one of: {', '.join(allowed)}",
                )

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required and self.ok:
                self.chk.add(self.path + (key,), f"'{key}' is missing", f'add {key} = "..."')
            return None
        if not isinstance(value, str) or not value.strip():
            self.chk.add(self.path + (key,), f"'{key}' must be non-empty text", f'write {key} = "..."')
            return None
        return value

    def choice(self, key: str, options: tuple[str, ...], required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required and self.ok:
                self.chk.add(
                    self.path + (key,),
                    f"'{key}' is missing",
                    f'add {key} = "{options[0]}" (one of: {", ".join(options)})',
                )
            return None
        if value not in options:
            self.chk.add(self.path + (key,), f"'{key}' is {value!r}", f"use one of: {', '.join(options)}")
            return None
        return value

    def integer(
        self, key: str, minimum: int, required: bool = True, maximum: int | None = None
    ) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required and self.ok:
                self.chk.add(
                    self.path + (key,), f"'{key}' is missing", f"add {key} = <whole number >= {minimum}>"
                )
            return None
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.chk.add(
                self.path + (key,),
                f"'{key}' must be a whole number, got {value!r}",
                f"write {key} = {minimum}",
            )
            return None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            self.chk.add(self.path + (key,), f"'{key}' is {value}", f"use a whole number {bound}")
            return None
        return value

    def number(self, key: str, required: bool = True, positive: bool = False) -> Decimal | None:
        value = self.data.get(key)
        if value is None:
            if required and self.ok:
                self.chk.add(self.path + (key,), f"'{key}' is missing", f"add {key} = <number>")
            return None
        if not _is_number(value):
            self.chk.add(self.path + (key,), f"'{key}' must be a number, got {value!r}", f"write {key} = 10")
            return None
        value = _as_decimal(value)
        if positive and value <= 0:
            self.chk.add(self.path + (key,), f"'{key}' is {value}, it must be > 0", "use a positive number")
            return None
        if not positive and value < 0:
            self.chk.add(self.path + (key,), f"'{key}' is {value}, it must be >= 0", "use a number >= 0")
            return None
        if value.as_tuple().exponent < -6:  # type: ignore[operator]
            self.chk.add(
                self.path + (key,), f"'{key}' has more than 6 decimal places", "round it to 6 places or fewer"
            )
            return None
        return value


def parse_rubric(text: str, source: str = "<rubric>") -> Rubric:
    """Parse and validate a rubric from TOML text.

    Parameters
    ----------
    text : str
        The TOML document.
    source : str
        A name for messages (usually the file path).

    Returns
    -------
    Rubric

    Raises
    ------
    RubricError
        Listing every problem found, one line each.

    Examples
    --------
    >>> r = parse_rubric(EXAMPLE_RUBRIC, "example.toml")
    >>> [c.key for c in r.expert_criteria], r.expert_max
    (['work'], Decimal('60'))
    """
    if not isinstance(text, str):
        raise TypeError("text must be str")
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        loc = f"{source}:{m.group(1)}" if m else source
        raise RubricError([f"{loc}: file: not valid TOML ({exc}); fix the syntax at that line"]) from None

    chk = _Checker(source, text)
    top = _Table(
        chk,
        (),
        data,
        ("id", "title", "program", "source", "aggregation", "indicators", "criteria", "allocation"),
        "the file",
    )
    rid = top.text("id")
    if rid is not None and not re.match(r"^[a-z0-9][a-z0-9_\-]*$", rid):
        chk.add(
            ("id",),
            f"id {rid!r} is not a simple name",
            "use lowercase letters, digits and '-', e.g. cast-2014-pilot",
        )
    title = top.text("title")
    program = top.choice("program", PROGRAMS)
    rsource = top.text("source")

    indicators = _parse_indicators(chk, data.get("indicators"))
    indicator_keys = {i.key for i in indicators}
    criteria = _parse_criteria(chk, data.get("criteria"), indicator_keys)
    criterion_keys = [c.key for c in criteria]
    aggregation = _parse_aggregation(chk, data.get("aggregation"), criterion_keys)
    total_max = sum((c.max for c in criteria), Decimal(0))
    allocation = _parse_allocation(chk, data.get("allocation"), total_max)

    if chk.problems:
        raise RubricError(chk.problems)
    assert rid and title and program and rsource and aggregation and allocation
    return Rubric(
        id=rid,
        title=title,
        program=program,
        source=rsource,
        aggregation=aggregation,
        indicators=tuple(indicators),
        criteria=tuple(criteria),
        allocation=allocation,
        path=source,
    )


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate a rubric file (UTF-8 TOML).

    Raises
    ------
    RubricError
        If the file cannot be read or is invalid (every problem listed).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RubricError([f"{p}: file: cannot be read ({exc.strerror}); check the path"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricError([f"{p}: file: not UTF-8 ({exc.reason}); save the file as UTF-8"]) from None
    return parse_rubric(text, str(p))


def _parse_indicators(chk: _Checker, raw: Any) -> list[Indicator]:
    out: list[Indicator] = []
    if raw is None:
        return out
    if not isinstance(raw, list):
        chk.add(("indicators",), "indicators must be a list of tables", "write each as [[indicators]]")
        return out
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path = ("indicators", i)
        t = _Table(chk, path, item, ("key", "title", "unit", "kind", "help"), "an indicator")
        if not t.ok:
            continue
        key = t.text("key")
        if key is not None:
            if not _KEY_RE.match(key):
                chk.add(
                    path + ("key",),
                    f"key {key!r} is not a simple name",
                    "use lowercase letters, digits and _",
                )
            elif key in seen:
                chk.add(
                    path + ("key",), f"duplicate indicator key '{key}'", "give each indicator its own key"
                )
            seen.add(key)
        title = t.text("title")
        unit = t.data.get("unit", "")
        if not isinstance(unit, str):
            chk.add(path + ("unit",), "'unit' must be text", 'write unit = "家"')
            unit = ""
        kind = t.choice("kind", INDICATOR_KINDS)
        help_text = t.text("help", required=False)
        if key and title and kind:
            out.append(Indicator(key=key, title=title, unit=unit, kind=kind, help=help_text))
    return out


def _parse_criteria(chk: _Checker, raw: Any, indicator_keys: set[str]) -> list[Criterion]:
    out: list[Criterion] = []
    if raw is None:
        chk.add(("criteria",), "there are no criteria", "add at least one [[criteria]] table")
        return out
    if not isinstance(raw, list) or not raw:
        chk.add(("criteria",), "criteria must be a non-empty list of tables", "write each as [[criteria]]")
        return out
    seen: set[str] = set()
    n_expert = 0
    for i, item in enumerate(raw):
        path = ("criteria", i)
        t = _Table(
            chk,
            path,
            item,
            ("key", "title", "kind", "max", "step", "guidance", "source", "terms"),
            "a criterion",
        )
        if not t.ok:
            continue
        key = t.text("key")
        if key is not None:
            if not _KEY_RE.match(key):
                chk.add(
                    path + ("key",),
                    f"key {key!r} is not a simple name",
                    "use lowercase letters, digits and _",
                )
            elif key in seen:
                chk.add(
                    path + ("key",), f"duplicate criterion key '{key}'", "give each criterion its own key"
                )
            seen.add(key)
        title = t.text("title")
        kind = t.choice("kind", CRITERION_KINDS)
        cmax = t.number("max", positive=True)
        csource = t.text("source")
        step = None
        terms: list[Term] = []
        guidance = ""
        if kind == "expert":
            n_expert += 1
            guidance = t.text("guidance") or ""
            step = t.number("step", positive=True)
            if step is not None and cmax is not None and cmax % step != 0:
                chk.add(
                    path + ("step",),
                    f"step {step} does not divide max {cmax}",
                    "choose a step such that max is a whole number of steps (e.g. 0.5 or 1)",
                )
            elif step is not None and cmax is not None and cmax / step > 10000:
                chk.add(
                    path + ("step",), f"step {step} is too fine for max {cmax}", "use at most 10000 steps"
                )
            if "terms" in t.data:
                chk.add(
                    path + ("terms",),
                    "an expert criterion has no terms",
                    'remove the terms or use kind = "formula"',
                )
        elif kind == "formula":
            guidance = t.text("guidance", required=False) or ""
            if "step" in t.data:
                chk.add(
                    path + ("step",),
                    "a formula criterion has no step",
                    "remove step (formula points are computed)",
                )
            terms = _parse_terms(chk, path, t.data.get("terms"), indicator_keys)
        if key and title and kind and cmax is not None and csource:
            out.append(
                Criterion(
                    key=key,
                    title=title,
                    kind=kind,
                    max=cmax,
                    step=step,
                    guidance=guidance,
                    source=csource,
                    terms=tuple(terms),
                )
            )
    if n_expert == 0:
        chk.add(
            ("criteria",), 'no criterion has kind = "expert"', "add at least one criterion scored by experts"
        )
    return out


def _parse_terms(chk: _Checker, cpath: tuple, raw: Any, indicator_keys: set[str]) -> list[Term]:
    out: list[Term] = []
    if not isinstance(raw, list) or not raw:
        chk.add(
            cpath + ("terms",), "a formula criterion needs terms", "add one or more [[criteria.terms]] tables"
        )
        return out
    weights: list[Decimal] = []
    for j, item in enumerate(raw):
        path = cpath + ("terms", j)
        t = _Table(chk, path, item, ("weight", "numerator", "denominator", "curve", "title"), "a term")
        if not t.ok:
            continue
        weight = t.number("weight", positive=True)
        if weight is not None:
            weights.append(weight)
        refs = {}
        for name, required in (("numerator", True), ("denominator", False)):
            ref = t.text(name, required=required)
            if ref is not None and ref not in indicator_keys:
                chk.add(
                    path + (name,),
                    f"{name} '{ref}' is not an indicator",
                    "use the key of an [[indicators]] entry or add that indicator",
                )
                ref = None
            refs[name] = ref
        curve = _parse_curve(chk, path, t.data.get("curve"))
        title = t.text("title", required=False)
        if weight is not None and refs["numerator"] and curve is not None:
            out.append(Term(weight, refs["numerator"], refs["denominator"], curve, title))
    if len(weights) == len(raw) and sum(weights, Decimal(0)) != 1:
        chk.add(
            cpath + ("terms",),
            f"the weights of the terms sum to {sum(weights, Decimal(0))}",
            "make them add up to exactly 1",
        )
    return out


def _parse_curve(chk: _Checker, path: tuple, raw: Any) -> tuple[tuple[Decimal, Decimal], ...] | None:
    cpath = path + ("curve",)
    example = "write curve = [[0, 0], [0.25, 1]]"
    if raw is None:
        chk.add(cpath, "'curve' is missing", example)
        return None
    if not isinstance(raw, list) or len(raw) < 2:
        chk.add(cpath, "a curve needs at least two [x, y] points", example)
        return None
    points = []
    for point in raw:
        if not (isinstance(point, list) and len(point) == 2 and all(_is_number(v) for v in point)):
            chk.add(cpath, f"point {point!r} is not a pair of numbers [x, y]", example)
            return None
        points.append((_as_decimal(point[0]), _as_decimal(point[1])))
    ok = True
    for (x0, _), (x1, _) in zip(points, points[1:], strict=False):
        if x1 <= x0:
            chk.add(
                cpath,
                f"x values must increase strictly ({x0} then {x1})",
                "list the points from low x to high x",
            )
            ok = False
            break
    for _, y in points:
        if not 0 <= y <= 1:
            chk.add(cpath, f"y value {y} is outside [0, 1]", "y is a share of max: use numbers from 0 to 1")
            ok = False
            break
    return tuple(points) if ok else None


def _parse_aggregation(chk: _Checker, raw: Any, criterion_keys: list[str]) -> Aggregation | None:
    path = ("aggregation",)
    if raw is None:
        chk.add(
            path,
            "the [aggregation] table is missing",
            "add [aggregation] with method, min_experts and decimals",
        )
        return None
    t = _Table(
        chk, path, raw, ("method", "trim_min_experts", "min_experts", "decimals", "tie_break"), "aggregation"
    )
    if not t.ok:
        return None
    method = t.choice("method", METHODS)
    min_experts = t.integer("min_experts", 1)
    decimals = t.integer("decimals", 0, maximum=MAX_DECIMALS)
    trim_min = None
    if method == "trimmed_mean":
        trim_min = t.integer("trim_min_experts", 3)
    elif "trim_min_experts" in t.data:
        chk.add(
            path + ("trim_min_experts",),
            f'trim_min_experts only applies to method = "trimmed_mean", not {method!r}',
            "remove it",
        )
    tie_break: list[str] = []
    raw_tb = t.data.get("tie_break", [])
    if not isinstance(raw_tb, list) or not all(isinstance(k, str) for k in raw_tb):
        chk.add(
            path + ("tie_break",),
            "tie_break must be a list of criterion keys",
            'write tie_break = ["coverage"]',
        )
    else:
        for k in raw_tb:
            if k not in criterion_keys:
                chk.add(
                    path + ("tie_break",),
                    f"tie_break names '{k}', which is not a criterion",
                    "use criterion keys",
                )
            elif k in tie_break:
                chk.add(path + ("tie_break",), f"tie_break names '{k}' twice", "list each criterion once")
            else:
                tie_break.append(k)
    if method is None or min_experts is None or decimals is None:
        return None
    if method == "trimmed_mean" and trim_min is None:
        return None
    return Aggregation(method, min_experts, decimals, trim_min, tuple(tie_break))


def _parse_allocation(chk: _Checker, raw: Any, total_max: Decimal) -> Allocation | None:
    path = ("allocation",)
    if raw is None:
        chk.add(
            path, "the [allocation] table is missing", 'add [allocation] with policy = "fixed" or "linear"'
        )
        return None
    t = _Table(
        chk,
        path,
        raw,
        ("policy", "amount", "amount_min", "amount_max", "step", "count", "min_score", "budget"),
        "allocation",
    )
    if not t.ok:
        return None
    policy = t.choice("policy", POLICIES)
    amount = amount_min = amount_max = step = None
    if policy == "fixed":
        amount = t.integer("amount", 1)
        for k in ("amount_min", "amount_max", "step"):
            if k in t.data:
                chk.add(path + (k,), f"'{k}' is for policy = \"linear\"", "remove it or switch the policy")
    elif policy == "linear":
        amount_min = t.integer("amount_min", 1)
        amount_max = t.integer("amount_max", 1)
        step = t.integer("step", 1)
        if "amount" in t.data:
            chk.add(
                path + ("amount",), "'amount' is for policy = \"fixed\"", "remove it or switch the policy"
            )
        if amount_min is not None and amount_max is not None:
            if amount_min > amount_max:
                chk.add(
                    path + ("amount_min",),
                    f"amount_min {amount_min} exceeds amount_max {amount_max}",
                    "swap them",
                )
            elif step is not None and (amount_max - amount_min) % step != 0:
                chk.add(
                    path + ("step",),
                    f"step {step} does not divide amount_max - amount_min = {amount_max - amount_min}",
                    "choose a step so that amount_max is reachable",
                )
    count = t.integer("count", 1, required=False)
    min_score = t.number("min_score", required=False)
    if min_score is not None and total_max and min_score > total_max:
        chk.add(
            path + ("min_score",), f"min_score {min_score} exceeds the total maximum {total_max}", "lower it"
        )
    budget = t.integer("budget", 1, required=False)
    if policy is None:
        return None
    return Allocation(policy, amount, amount_min, amount_max, step, count, min_score, budget)


EXAMPLE_RUBRIC = """
id = "example"
title = "Example"
program = "post_subsidy"
source = "科协计函企字〔2014〕25号"

[aggregation]
method = "mean"
min_experts = 1
decimals = 2

[[indicators]]
key = "enterprises"
title = "规模以上工业企业数"
unit = "家"
kind = "count"

[[indicators]]
key = "associations"
title = "企业科协数"
unit = "个"
kind = "count"

[[criteria]]
key = "work"
title = "工作"
kind = "expert"
max = 60
step = 0.5
guidance = "..."
source = "三（三）1"

[[criteria]]
key = "coverage"
title = "覆盖率"
kind = "formula"
max = 40
source = "三（二）4"
  [[criteria.terms]]
  weight = 1
  numerator = "associations"
  denominator = "enterprises"
  curve = [[0, 0], [0.061, 0.6], [0.12, 1]]

[allocation]
policy = "fixed"
amount = 100000
"""
