"""``python -m scoring``: check a rubric, rank, allocate, verify an audit package.

Exit status: 0 success; 1 ``verify`` found a disagreement; 2 bad input (each problem on its own line on
stderr: file, line, what, how to fix) — and then no output file is written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .allocate import allocate, allocation_rule
from .engine import ScoringInputError, rank_applications
from .io import (
    APPLICATIONS_COLUMNS,
    INDICATORS_COLUMNS,
    SCORES_COLUMNS,
    CsvError,
    dumps_json,
    loads_json,
    read_csv,
    write_atomic,
)
from .rubric import RubricError, load_rubric

__all__ = ["main"]

BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # same exit status as every other bad input
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}; see --help", file=sys.stderr)
        raise SystemExit(BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m scoring", description="Scoring engine of the CAST enterprise-association review."
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rubric = sub.add_parser("rubric", help="rubric files")
    rsub = rubric.add_subparsers(dest="rubric_command", required=True, parser_class=_Parser)
    check = rsub.add_parser("check", help="validate a rubric file and explain each problem")
    check.add_argument("file", type=Path)

    rank = sub.add_parser("rank", help="compute result.json from scores and indicators")
    rank.add_argument("--rubric", required=True, type=Path)
    rank.add_argument("--scores", required=True, type=Path, help="CSV: application,expert,criterion,score")
    rank.add_argument("--indicators", required=True, type=Path, help="CSV: application,indicator,value")
    rank.add_argument("--applications", type=Path, help="CSV: application,name,group,submitted_at")
    rank.add_argument(
        "--bootstrap", type=int, default=0, metavar="B", help="bootstrap replicates (default 0)"
    )
    rank.add_argument("--seed", type=int, default=None, metavar="S", help="bootstrap seed")
    rank.add_argument(
        "--budget", type=int, help="budget for the funding cutoff of p_funded (default: the rubric's)"
    )
    rank.add_argument(
        "--count", type=int, help="count for the funding cutoff of p_funded (default: the rubric's)"
    )
    rank.add_argument("--out", required=True, type=Path)

    alloc = sub.add_parser("allocate", help="compute awards.json from result.json")
    alloc.add_argument("--rubric", required=True, type=Path)
    alloc.add_argument("--result", required=True, type=Path)
    alloc.add_argument("--budget", type=int, help="override the rubric's budget (yuan)")
    alloc.add_argument("--count", type=int, help="override the rubric's count")
    alloc.add_argument("--out", required=True, type=Path)

    verify = sub.add_parser("verify", help="recompute an audit package (directory or ZIP)")
    verify.add_argument("package", type=Path)
    return p


def _fail(problems: Sequence[str]) -> int:
    for line in problems:
        print(line, file=sys.stderr)
    return BAD_INPUT


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        rubric = load_rubric(args.file)
    except RubricError as exc:
        return _fail(exc.problems)
    print(
        f"{args.file}: OK: {rubric.id} ({rubric.program}), {len(rubric.indicators)} indicators, "
        f"{len(rubric.expert_criteria)} expert + {len(rubric.formula_criteria)} formula criteria, "
        f"expert maximum {rubric.expert_max}, total maximum {rubric.total_max}"
    )
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    problems: list[str] = []
    rubric = None
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as exc:
        problems += exc.problems
    tables = {}
    for kind, path, columns, need_rows in (
        ("scores", args.scores, SCORES_COLUMNS, True),
        ("indicators", args.indicators, INDICATORS_COLUMNS, False),
        ("applications", args.applications, APPLICATIONS_COLUMNS, True),
    ):
        if path is None:
            continue
        try:
            tables[kind] = read_csv(path, columns, require_rows=need_rows)
        except CsvError as exc:
            problems += exc.problems
    if args.bootstrap < 0:
        problems.append(
            f"--bootstrap {args.bootstrap}: must be 0 or more; give a number of replicates such as 1000"
        )
    if args.seed is not None and args.seed < 0:
        problems.append(f"--seed {args.seed}: must be 0 or more; give a whole number")
    if problems or rubric is None:
        return _fail(problems)
    origins = {kind: (t.name, t.lines) for kind, t in tables.items()}
    try:
        result = rank_applications(
            rubric,
            tables["scores"].rows,
            tables["indicators"].rows,
            tables["applications"].rows if "applications" in tables else None,
            bootstrap=args.bootstrap,
            seed=args.seed,
            budget=args.budget,
            count=args.count,
            origins=origins,
        )
    except ScoringInputError as exc:
        return _fail(exc.problems)
    except ValueError as exc:
        return _fail([f"--budget/--count: {exc}; give positive whole numbers"])
    write_atomic(args.out, dumps_json(result.to_json()))
    ranked = sum(1 for a in result.applications if a.rank is not None)
    print(f"wrote {args.out}: {len(result.applications)} applications, {ranked} ranked")
    return 0


def _cmd_allocate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    rubric = None
    try:
        rubric = load_rubric(args.rubric)
    except RubricError as exc:
        problems += exc.problems
    data = None
    try:
        data = loads_json(args.result.read_bytes())
    except OSError as exc:
        problems.append(f"{args.result}: cannot be read ({exc.strerror}); check the path")
    except ValueError as exc:
        problems.append(f"{args.result}: not valid JSON ({exc}); give the result.json written by 'rank'")
    if rubric is not None:
        try:
            allocation_rule(rubric, args.budget, args.count)
        except ValueError as exc:
            problems.append(f"--budget/--count: {exc}; give positive whole numbers")
    if problems or rubric is None:
        return _fail(problems)
    try:
        awards = allocate(rubric, data, budget=args.budget, count=args.count)
    except ValueError as exc:
        return _fail([f"{args.result}: {exc}; recompute it with 'rank' and this rubric"])
    write_atomic(args.out, dumps_json(awards.to_json()))
    print(f"wrote {args.out}: {len(awards.awards)} awards, total {awards.total_amount} yuan")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .verify import PackageError, verify_package

    try:
        report = verify_package(args.package)
    except PackageError as exc:
        return _fail(exc.problems)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "rubric":
        return _cmd_check(args)
    if args.command == "rank":
        return _cmd_rank(args)
    if args.command == "allocate":
        return _cmd_allocate(args)
    return _cmd_verify(args)
