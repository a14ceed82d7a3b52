"""Scoring engine: rubric, aggregation, ranking, reliability and allocation, in numpy only.

The entry points, for the web application and for scripts::

    from scoring import load_rubric, formula_scores, rank_applications, allocate

    rubric = load_rubric("criteria/cast-2014-post-subsidy.toml")
    result = rank_applications(rubric, scores, indicators, applications, bootstrap=1000, seed=2014)
    awards = allocate(rubric, result, budget=1_500_000)
    result.to_json(), awards.to_json()      # result.json and awards.json (DESIGN §8)

The command line (``python -m scoring``) is described in ``criteria/README.md``.
"""

from .allocate import Allocation, Award, allocate
from .engine import ApplicationResult, RankResult, ScoringInputError, rank_applications
from .indicators import FormulaScore, TermScore, formula_scores
from .rubric import Rubric, RubricError, load_rubric, parse_rubric

__all__ = [
    "Allocation",
    "ApplicationResult",
    "Award",
    "FormulaScore",
    "RankResult",
    "Rubric",
    "RubricError",
    "ScoringInputError",
    "TermScore",
    "allocate",
    "formula_scores",
    "load_rubric",
    "parse_rubric",
    "rank_applications",
]
