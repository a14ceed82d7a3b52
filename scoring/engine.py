"""The scoring engine: from plain rows (scores, figures, applications) to a ranked result (DESIGN §8).

:func:`rank_applications` validates every row at the door (all problems at once, in a
:class:`ScoringInputError`), then runs rules 1–7 vectorised over all applications and returns a
:class:`RankResult` whose :meth:`RankResult.to_json` is the result.json document.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from .aggregate import aggregate_reviews, score_places
from .allocate import allocate_ranked, allocation_rule
from .bootstrap import bootstrap_ranks
from .experts import expert_diagnostics
from .indicators import check_figure, formula_units
from .numbers import round_half_up, to_decimal, units_to_decimal
from .rank import RankKeys, competition_ranks, submission_order
from .reliability import panel_reliability
from .rubric import Allocation as AllocationRule
from .rubric import Rubric

__all__ = ["ApplicationResult", "RankResult", "ScoringInputError", "rank_applications", "parse_submitted_at"]

BEIJING = timezone(timedelta(hours=8))
P_FUNDED_DECIMALS = 4
# From this many applications the formula criteria are computed on a second thread while this one
# combines the reviews: numpy releases the interpreter lock inside most array operations, so on a
# machine with two or more cores the two overlap. Below it, handing work over costs more than it saves.
OVERLAP_MIN_APPLICATIONS = 4096

_helper: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


def _helper_thread() -> ThreadPoolExecutor:
    """One worker thread kept for the life of the process (started on first use)."""
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")
        return _helper


def _forget_helper() -> None:
    """In a forked child: the parent's thread does not exist there, so start a new one on first use."""
    global _helper, _helper_lock
    _helper, _helper_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


class ScoringInputError(ValueError):
    """Input rows are invalid.

    Attributes
    ----------
    problems : list of str
        One line per problem: where (file and line, or row number), what, and how to fix it.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ApplicationResult:
    """One application's outcome (an entry of result.json ``applications``)."""

    application: str
    rank: int | None
    total: Decimal | None
    criteria: Mapping[str, Decimal | None]
    reviews: int
    retained: tuple[str, ...]
    rank_interval: tuple[int, int] | None
    p_funded: Decimal | None
    flags: tuple[str, ...]
    name: str | None = None
    group: str | None = None
    submitted_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "application": self.application,
            "rank": self.rank,
            "total": self.total,
            "criteria": dict(self.criteria),
            "reviews": self.reviews,
            "retained": list(self.retained),
            "rank_interval": None if self.rank_interval is None else list(self.rank_interval),
            "p_funded": self.p_funded,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class RankResult:
    """The outcome of :func:`rank_applications`.

    Attributes
    ----------
    rubric : Rubric
    applications : tuple of ApplicationResult
        Ordered by rank (ties by application id), unranked last (by application id).
    experts : tuple
        Expert diagnostics (``scoring.experts.ExpertDiagnostic``).
    reliability : object
        Panel reliability (``scoring.reliability.Reliability``).
    expert_ids : tuple of str
        Sorted expert ids (the columns of ``reviewer_totals``).
    reviewer_totals : ndarray of float, shape (n_applications, n_experts)
        Reviewer total t per application (in ``applications`` order) and expert; NaN where none.
    bootstrap : int
        Replicates run (0 = none).
    seed : int or None
    cutoff_rank : int or None
        Lowest rank funded by the rubric's allocation on this ranking.
    """

    rubric: Rubric
    applications: tuple[ApplicationResult, ...]
    experts: tuple[Any, ...]
    reliability: Any
    expert_ids: tuple[str, ...]
    reviewer_totals: np.ndarray = field(repr=False)
    bootstrap: int = 0
    seed: int | None = None
    cutoff_rank: int | None = None

    @property
    def method(self) -> str:
        return self.rubric.aggregation.method

    def application(self, key: str) -> ApplicationResult:
        """The result of application ``key``; ``KeyError`` if unknown."""
        for a in self.applications:
            if a.application == key:
                return a
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        """The result.json document. Scores are ``Decimal`` at the rubric's decimals; serialise it with
        :func:`scoring.io.dumps_json` (or ``json.dumps(..., default=float)`` where exact digits do not
        matter)."""
        return {
            "rubric": self.rubric.id,
            "method": self.method,
            "applications": [a.to_json() for a in self.applications],
            "experts": [e.to_dict() for e in self.experts],
            "reliability": self.reliability.to_dict() if self.reliability is not None else None,
        }


def parse_submitted_at(value: object) -> datetime | None:
    """ISO 8601 text or datetime → aware UTC datetime; naive times are Beijing time; blank → None.

    Raises
    ------
    ValueError
        If the text is not ISO 8601.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a date-time: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


class _Problems:
    def __init__(self, origins: Mapping[str, tuple[str, Sequence[int]]] | None):
        self.origins = origins or {}
        self.items: list[str] = []

    def where(self, kind: str, row: int) -> str:
        if kind in self.origins:
            name, lines = self.origins[kind]
            return f"{name}:{lines[row]}" if row < len(lines) else name
        return f"{kind} row {row + 1}"

    def add(self, kind: str, row: int, what: str, fix: str) -> None:
        self.items.append(f"{self.where(kind, row)}: {what}; {fix}")


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _rows(data: Iterable[Any] | None, width: int, kind: str, problems: _Problems) -> list[tuple]:
    out = []
    if data is None:
        return out
    for i, row in enumerate(data):
        try:
            row = tuple(row)
        except TypeError:
            row = (row,)
        if len(row) != width:
            problems.add(kind, i, f"expected {width} values, got {len(row)}", "give one value per column")
            out.append(None)
            continue
        out.append(row)
    return out


def rank_applications(
    rubric: Rubric,
    scores: Iterable[tuple[str, str, str, object]],
    indicators: Iterable[tuple[str, str, object]],
    applications: Iterable[tuple[str, str | None, str | None, object]] | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    *,
    budget: int | None = None,
    count: int | None = None,
    amounts: Mapping[str, int | Decimal] | None = None,
    origins: Mapping[str, tuple[str, Sequence[int]]] | None = None,
) -> RankResult:
    """Rank applications by DESIGN §8 rules 1–7.

    Parameters
    ----------
    rubric : Rubric
    scores : iterable of (application, expert, criterion, score)
        One row per expert criterion of each review; score a number (Decimal, int, float or text).
    indicators : iterable of (application, indicator, value)
        Reported figures; a value of None or blank text is missing.
    applications : iterable of (application, name, group, submitted_at), optional
        When given, the complete list of applications (others are refused); ``submitted_at`` is ISO 8601
        text or a datetime (naive = Beijing time), used for rule 6.
    bootstrap : int
        Bootstrap replicates (rule 7); 0 for none.
    seed : int, optional
        Seed of the bootstrap (same seed, same result).
    budget, count, amounts : optional
        Allocation overrides, as for :func:`scoring.allocate.allocate`: the funding cutoff behind
        ``p_funded``, ``boundary`` and ``tie_at_cutoff`` is the one this allocation gives. Pass the same
        values to ``allocate``.
    origins : mapping, optional
        ``{"scores"|"indicators"|"applications": (file name, line number of each row)}`` so that messages
        name file and line.

    Returns
    -------
    RankResult

    Raises
    ------
    ScoringInputError
        Listing every problem in the rows.

    Examples
    --------
    >>> from scoring.rubric import parse_rubric, EXAMPLE_RUBRIC
    >>> r = parse_rubric(EXAMPLE_RUBRIC)
    >>> res = rank_applications(r, [("A", "e1", "work", 50), ("B", "e1", "work", 40)],
    ...                         [("A", "enterprises", 100), ("A", "associations", 12)])
    >>> [(a.application, a.rank, str(a.total)) for a in res.applications]
    [('A', 1, '90.00'), ('B', 2, '40.00')]
    """
    if not isinstance(rubric, Rubric):
        raise TypeError("rubric must be a Rubric (see scoring.rubric.load_rubric)")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a whole number >= 0, got {bootstrap!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    rule = allocation_rule(rubric, budget, count, amounts)
    problems = _Problems(origins)
    campaign = _validate(rubric, scores, indicators, applications, problems)
    if problems.items or campaign is None:
        raise ScoringInputError(problems.items)
    return _rank(rubric, campaign, int(bootstrap), None if seed is None else int(seed), rule)


@dataclass
class _Campaign:
    app_ids: list[str]
    info: dict[str, tuple[str | None, str | None, datetime | None]]
    expert_ids: list[str]
    review_app: np.ndarray
    review_expert: np.ndarray
    units: np.ndarray
    figures: list[dict[str, Decimal | None]]


def _validate(
    rubric: Rubric,
    scores: Iterable[Any],
    indicators: Iterable[Any],
    applications: Iterable[Any] | None,
    problems: _Problems,
) -> _Campaign | None:
    places = score_places(rubric)
    expert_keys = [c.key for c in rubric.expert_criteria]
    expert_index = {k: i for i, k in enumerate(expert_keys)}
    formula_keys = {c.key for c in rubric.formula_criteria}

    info: dict[str, tuple[str | None, str | None, datetime | None]] = {}
    known: set[str] | None = None
    if applications is not None:
        known = set()
        first_line: dict[str, int] = {}
        for i, row in enumerate(_rows(applications, 4, "applications", problems)):
            if row is None:
                continue
            app, name, group, submitted = row
            app_id = _text(app)
            if app_id is None:
                problems.add(
                    "applications", i, "the application id is empty", "fill in the application column"
                )
                continue
            if app_id in first_line:
                problems.add(
                    "applications",
                    i,
                    f"application '{app_id}' is listed twice (first at {problems.where('applications', first_line[app_id])})",
                    "keep one row per application",
                )
                continue
            first_line[app_id] = i
            try:
                when = parse_submitted_at(submitted)
            except ValueError:
                problems.add(
                    "applications",
                    i,
                    f"submitted_at {submitted!r} is not an ISO 8601 date-time",
                    "write it like 2014-10-31T17:30:00+08:00",
                )
                when = None
            known.add(app_id)
            info[app_id] = (_text(name) if isinstance(name, str) else None, _text(group), when)

    seen_apps: set[str] = set(known or ())
    # (application, expert) -> {criterion index: units}, with the first row of each review for messages
    reviews: dict[tuple[str, str], dict[int, int]] = {}
    review_row: dict[tuple[str, str], int] = {}
    score_row: dict[tuple[str, str, str], int] = {}
    for i, row in enumerate(_rows(scores, 4, "scores", problems)):
        if row is None:
            continue
        app, expert, criterion, score = row
        app_id, expert_id, key = _text(app), _text(expert), _text(criterion)
        bad = False
        if app_id is None:
            problems.add("scores", i, "the application id is empty", "fill in the application column")
            bad = True
        elif known is not None and app_id not in known:
            problems.add(
                "scores", i, f"unknown application '{app_id}'", "use an application id listed in applications"
            )
            bad = True
        if expert_id is None:
            problems.add("scores", i, "the expert id is empty", "fill in the expert column")
            bad = True
        if key is None:
            problems.add("scores", i, "the criterion is empty", f"use one of: {', '.join(expert_keys)}")
            continue
        if key in formula_keys:
            problems.add(
                "scores",
                i,
                f"criterion '{key}' is computed from indicators, not scored by experts",
                "remove this row (give the figures in indicators instead)",
            )
            continue
        if key not in expert_index:
            problems.add("scores", i, f"unknown criterion '{key}'", f"use one of: {', '.join(expert_keys)}")
            continue
        crit = rubric.expert_criteria[expert_index[key]]
        value = _score_units(crit, score, places, problems, i)
        if value is None and not bad:
            # the row exists but is wrong: do not also report the review as lacking that criterion
            reviews.setdefault((app_id, expert_id), {})[expert_index[key]] = 0
            review_row.setdefault((app_id, expert_id), i)
        if bad or value is None:
            continue
        assert app_id is not None and expert_id is not None
        dup_key = (app_id, expert_id, key)
        if dup_key in score_row:
            problems.add(
                "scores",
                i,
                f"duplicate score of '{app_id}' by '{expert_id}' for '{key}' "
                f"(first at {problems.where('scores', score_row[dup_key])})",
                "keep one row for each application, expert and criterion",
            )
            continue
        score_row[dup_key] = i
        review = reviews.setdefault((app_id, expert_id), {})
        review_row.setdefault((app_id, expert_id), i)
        review[expert_index[key]] = value
        seen_apps.add(app_id)

    for (app_id, expert_id), review in reviews.items():
        if len(review) != len(expert_keys):
            lacking = [k for j, k in enumerate(expert_keys) if j not in review]
            problems.add(
                "scores",
                review_row[(app_id, expert_id)],
                f"the review of '{app_id}' by '{expert_id}' lacks {', '.join(lacking)}",
                "give a score for every expert criterion of the review",
            )

    figures: dict[str, dict[str, Decimal | None]] = {}
    figure_row: dict[tuple[str, str], int] = {}
    indicator_keys = [ind.key for ind in rubric.indicators]
    for i, row in enumerate(_rows(indicators, 3, "indicators", problems)):
        if row is None:
            continue
        app, key, value = row
        app_id, ind_key = _text(app), _text(key)
        if app_id is None:
            problems.add("indicators", i, "the application id is empty", "fill in the application column")
            continue
        if known is not None and app_id not in known:
            problems.add(
                "indicators",
                i,
                f"unknown application '{app_id}'",
                "use an application id listed in applications",
            )
            continue
        if ind_key is None or ind_key not in indicator_keys:
            problems.add(
                "indicators",
                i,
                f"unknown indicator '{ind_key or ''}'",
                f"use one of: {', '.join(indicator_keys)}",
            )
            continue
        if isinstance(value, str) and not value.strip():
            value = None
        try:
            number = check_figure(rubric, ind_key, value)
        except ValueError as exc:
            problems.add(
                "indicators", i, str(exc), "write a number >= 0 (a whole number for counts), or leave blank"
            )
            continue
        if (app_id, ind_key) in figure_row:
            problems.add(
                "indicators",
                i,
                f"duplicate figure '{ind_key}' for '{app_id}' (first at {problems.where('indicators', figure_row[(app_id, ind_key)])})",
                "keep one row for each application and indicator",
            )
            continue
        figure_row[(app_id, ind_key)] = i
        figures.setdefault(app_id, {})[ind_key] = number
        seen_apps.add(app_id)

    app_ids = sorted(seen_apps)
    if not app_ids and not problems.items:
        problems.items.append(
            "no applications: the scores, indicators and applications are all empty; give some rows"
        )
    if problems.items:
        return None
    app_code = {a: i for i, a in enumerate(app_ids)}
    expert_ids = sorted({e for _, e in reviews})
    expert_code = {e: i for i, e in enumerate(expert_ids)}
    keys = list(reviews)
    n_crit = len(expert_keys)
    units = np.zeros((len(keys), n_crit), dtype=np.int64)
    for r, k in enumerate(keys):
        for j, v in reviews[k].items():
            units[r, j] = v
    return _Campaign(
        app_ids=app_ids,
        info={a: info.get(a, (None, None, None)) for a in app_ids},
        expert_ids=expert_ids,
        review_app=np.array([app_code[a] for a, _ in keys], dtype=np.int64),
        review_expert=np.array([expert_code[e] for _, e in keys], dtype=np.int64),
        units=units,
        figures=[figures.get(a, {}) for a in app_ids],
    )


def _score_units(crit: Any, score: object, places: int, problems: _Problems, i: int) -> int | None:
    if score is None or (isinstance(score, str) and not score.strip()):
        problems.add(
            "scores", i, f"the score for '{crit.key}' is empty", f"write a number from 0 to {crit.max}"
        )
        return None
    try:
        value = to_decimal(score, what="score")
    except ValueError:
        problems.add("scores", i, f"score {score!r} is not a number", f"write a number from 0 to {crit.max}")
        return None
    if value < 0 or value > crit.max:
        problems.add(
            "scores",
            i,
            f"score {value} for '{crit.key}' is outside 0..{crit.max}",
            f"use a score from 0 to {crit.max}",
        )
        return None
    if value % crit.step != 0:
        problems.add(
            "scores",
            i,
            f"score {value} for '{crit.key}' is not a multiple of its step {crit.step}",
            f"use a multiple of {crit.step}",
        )
        return None
    return int(value.scaleb(places))


@dataclass(frozen=True)
class ArrayRanking:
    """Rules 1–6 (and 7 when asked) on arrays, for all applications at once.

    Attributes
    ----------
    agg : ExpertAggregate
        Rules 1–3 per application (reviews, retained rows, rounded expert criteria).
    formula_units : ndarray of int64 (n_applications, n_formula_criteria)
    missing : ndarray of bool (n_applications, n_indicators)
    not_applicable : ndarray of bool (n_applications, n_formula_criteria)
    total_units : ndarray of int64
        Totals in units of ``10**-decimals`` (meaningful where ``agg.ranked``).
    rank : ndarray of int64
        Competition rank, 0 where not ranked.
    order : ndarray of int64
        Ranked application codes, best first (ties by code).
    submission : ndarray of int64
        Dense submission order used for rule 6.
    cutoff_rank : int or None
        Lowest rank funded by the rubric's allocation (computed when bootstrapping).
    tied : tuple of int
        Application codes of a tied group at the cutoff.
    bootstrap : BootstrapResult or None
    """

    agg: Any
    formula_units: np.ndarray
    missing: np.ndarray
    not_applicable: np.ndarray
    total_units: np.ndarray
    rank: np.ndarray
    order: np.ndarray
    submission: np.ndarray
    cutoff_rank: int | None = None
    tied: tuple[int, ...] = ()
    bootstrap: Any = None


def rank_arrays(
    rubric: Rubric,
    review_app: np.ndarray,
    review_expert: np.ndarray,
    units: np.ndarray,
    figures: np.ndarray,
    submission: np.ndarray,
    *,
    n_experts: int,
    exact_figures: list[dict[str, Decimal | None]] | None = None,
    allocation: bool = True,
    rule: AllocationRule | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
) -> ArrayRanking:
    """Rules 1–7 on already validated arrays (the vectorised core of :func:`rank_applications`).

    Parameters
    ----------
    rubric : Rubric
    review_app, review_expert : ndarray of int, shape (n_reviews,)
        Application code (``range(n_applications)``, in application id order) and expert code (in expert
        id order) of each review.
    units : ndarray of int64, shape (n_reviews, n_expert_criteria)
        Scores in units of ``10**-score_places(rubric)``.
    figures : ndarray of float, shape (n_applications, n_indicators)
        Reported figures, NaN where missing. Column-major is fastest.
    submission : ndarray of int, shape (n_applications,)
        Dense submission order (0 earliest, equal times equal; see :func:`scoring.rank.submission_order`).
    n_experts : int
    exact_figures : list of dict, optional
        Exact figures per application for the rare values float arithmetic cannot round with certainty.
    allocation : bool
        Compute the funding cutoff (rule 8 on this ranking); needed for bootstrap's ``p_funded``.
    rule : rubric.Allocation, optional
        Allocation parameters for the cutoff (default: the rubric's).
    bootstrap, seed : int
        Rule 7.
    """
    agg_rule = rubric.aggregation
    decimals = agg_rule.decimals
    places = score_places(rubric)
    n_apps = figures.shape[0]
    if n_apps >= OVERLAP_MIN_APPLICATIONS and (os.cpu_count() or 1) > 1:
        formulas = _helper_thread().submit(formula_units, rubric, figures, exact_figures)
        agg = aggregate_reviews(rubric, review_app, review_expert, units, n_apps, max(n_experts, 1))
        f_units, missing, not_applicable = formulas.result()
    else:
        agg = aggregate_reviews(rubric, review_app, review_expert, units, n_apps, max(n_experts, 1))
        f_units, missing, not_applicable = formula_units(rubric, figures, exact_figures)
    total_units = np.zeros(n_apps, dtype=np.int64)
    for scores in (*agg.criterion_units.T, *f_units.T):  # one contiguous row per criterion
        total_units += scores

    ranked_apps = np.flatnonzero(agg.ranked)
    tie_break = rubric.tie_break_positions
    # the total shifted to start at 0, so that the packed key is as narrow as possible (totals lie far
    # above 0); tie-break scores are taken as they are, from 0
    every = ranked_apps.size == n_apps  # every application ranked: no need to pick them out
    totals = total_units if every else total_units[ranked_apps]
    low = int(totals.min()) if totals.size else 0
    columns, ranges = [totals - low], [int(totals.max(initial=0)) - low + 1]
    for kind, j in tie_break:
        col = agg.criterion_units[:, j] if kind == "expert" else f_units[:, j]
        values = col if every else col[ranked_apps]
        columns.append(values)
        ranges.append(int(values.max(initial=0)) + 1)
    sub = submission if every else submission[ranked_apps]
    sub_range = int(sub.max(initial=0)) + 1
    columns.append(sub_range - 1 - sub)
    ranges.append(sub_range)
    ranks_r, order_r = competition_ranks(RankKeys(tuple(columns), tuple(ranges)))
    if every:
        rank, order = ranks_r, order_r
    else:
        rank = np.zeros(n_apps, dtype=np.int64)
        rank[ranked_apps] = ranks_r
        order = ranked_apps[order_r]

    cutoff = None
    tied: tuple[int, ...] = ()
    if allocation or bootstrap:
        rule = rule or rubric.allocation
        point = allocate_ranked(
            rule,
            [(str(a), int(rank[a]), units_to_decimal(int(total_units[a]), decimals)) for a in order],
        )
        cutoff = point.cutoff_rank
        tied = tuple(int(a) for a in point.tied)

    boot = None
    if bootstrap > 0:
        min_score = (rule or rubric.allocation).min_score
        boot = bootstrap_ranks(
            agg=agg,
            units=units,
            max_units=list(rubric.expert_units[0]),
            method=agg_rule.method,
            trim_min_experts=agg_rule.trim_min_experts,
            places=places,
            decimals=decimals,
            fixed_units=f_units.sum(axis=1),
            tie_break=tie_break,
            formula_units=f_units,
            submission=submission,
            cutoff_rank=cutoff,
            min_score_units=None if min_score is None else _ceil_units(min_score, decimals),
            replicates=bootstrap,
            seed=seed,
        )
    return ArrayRanking(
        agg, f_units, missing, not_applicable, total_units, rank, order, submission, cutoff, tied, boot
    )


def _rank(
    rubric: Rubric, c: _Campaign, replicates: int, seed: int | None, rule: AllocationRule
) -> RankResult:
    decimals = rubric.aggregation.decimals
    places = score_places(rubric)
    n_apps = len(c.app_ids)
    formula_criteria = rubric.formula_criteria
    values = np.full((n_apps, len(rubric.indicators)), np.nan, order="F")  # read by column
    for i, figs in enumerate(c.figures):
        for j, ind in enumerate(rubric.indicators):
            v = figs.get(ind.key)
            if v is not None:
                values[i, j] = float(v)
    submission = submission_order([c.info[a][2] for a in c.app_ids])
    ar = rank_arrays(
        rubric,
        c.review_app,
        c.review_expert,
        c.units,
        values,
        submission,
        n_experts=len(c.expert_ids),
        exact_figures=c.figures,
        rule=rule,
        bootstrap=replicates,
        seed=seed,
    )
    agg, f_units, missing, not_applicable = ar.agg, ar.formula_units, ar.missing, ar.not_applicable
    total_units, rank, boot, cutoff = ar.total_units, ar.rank, ar.bootstrap, ar.cutoff_rank
    tied = {c.app_ids[a] for a in ar.tied}

    retained_by_app: list[list[str]] = [[] for _ in range(n_apps)]
    for r in agg.order:
        if agg.retained[r]:
            retained_by_app[int(c.review_app[r])].append(c.expert_ids[int(c.review_expert[r])])

    results: dict[int, ApplicationResult] = {}
    for a in range(n_apps):
        is_ranked = bool(agg.ranked[a])
        flags: list[str] = []
        if not is_ranked:
            flags.append("insufficient_reviews")
        for j, ind in enumerate(rubric.indicators):
            if missing[a, j]:
                flags.append(f"missing_indicator:{ind.key}")
        for k, cr in enumerate(formula_criteria):
            if not_applicable[a, k]:
                flags.append(f"not_applicable:{cr.key}")
        if agg.high_disagreement[a]:
            flags.append("high_disagreement")
        interval = None
        p_funded = None
        if boot is not None:
            p_funded = round_half_up(Fraction(int(boot.funded[a]), replicates), P_FUNDED_DECIMALS)
            if is_ranked:
                interval = (int(boot.p5[a]), int(boot.p95[a]))
                if cutoff is not None and interval[0] <= cutoff < interval[1]:
                    flags.append("boundary")
        if c.app_ids[a] in tied:
            flags.append("tie_at_cutoff")
        crit_values: dict[str, Decimal | None] = {}
        e_i = f_i = 0
        for cr in rubric.criteria:
            if cr.kind == "expert":
                crit_values[cr.key] = (
                    units_to_decimal(int(agg.criterion_units[a, e_i]), decimals) if is_ranked else None
                )
                e_i += 1
            else:
                crit_values[cr.key] = units_to_decimal(int(f_units[a, f_i]), decimals)
                f_i += 1
        name, group, when = c.info[c.app_ids[a]]
        results[a] = ApplicationResult(
            application=c.app_ids[a],
            rank=int(rank[a]) if is_ranked else None,
            total=units_to_decimal(int(total_units[a]), decimals) if is_ranked else None,
            criteria=crit_values,
            reviews=int(agg.n_reviews[a]),
            retained=tuple(retained_by_app[a]),
            rank_interval=interval,
            p_funded=p_funded,
            flags=tuple(flags),
            name=name,
            group=group,
            submitted_at=when,
        )
    ordered = [results[int(a)] for a in ar.order]
    ordered += [results[a] for a in range(n_apps) if not agg.ranked[a]]

    # reviewer totals in result order, for diagnostics and reliability
    row_of = {r.application: i for i, r in enumerate(ordered)}
    totals = np.full((n_apps, len(c.expert_ids)), np.nan)
    scale = 10.0**-places
    for r in range(c.review_app.shape[0]):
        totals[row_of[c.app_ids[int(c.review_app[r])]], int(c.review_expert[r])] = (
            float(agg.totals[r]) * scale
        )
    experts, reliability = _panel(totals, c.expert_ids)
    return RankResult(
        rubric=rubric,
        applications=tuple(ordered),
        experts=experts,
        reliability=reliability,
        expert_ids=tuple(c.expert_ids),
        reviewer_totals=totals,
        bootstrap=replicates,
        seed=seed,
        cutoff_rank=cutoff,
    )


def _panel(totals: np.ndarray, expert_ids: list[str]) -> tuple[tuple[Any, ...], Any]:
    """Expert diagnostics and reliability on the applications that have at least one review."""

    reviewed = totals[~np.all(np.isnan(totals), axis=1)] if totals.size else totals
    return tuple(expert_diagnostics(reviewed, expert_ids)), panel_reliability(reviewed)


def _ceil_units(value: Decimal, decimals: int) -> int:
    scaled = value.scaleb(decimals)
    return int(scaled.to_integral_value(rounding=ROUND_CEILING))
