"""Expert diagnostics: how lenient or severe each expert is, and how consistent with the others.

The input is the same reviewer-totals matrix as :mod:`scoring.reliability`: one row per
application, one column per expert, NaN where the expert did not review the application.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .reliability import average_ranks, validate_totals

__all__ = [
    "CONSISTENCY_THRESHOLD",
    "LENIENCY_SD_MULTIPLE",
    "ExpertDiagnostic",
    "expert_diagnostics",
]

#: An expert whose Spearman correlation with the others is below this is flagged "inconsistent".
CONSISTENCY_THRESHOLD = 0.3
#: An expert whose leniency is further than this many standard deviations from the panel's mean
#: leniency is flagged "lenient" or "severe".
LENIENCY_SD_MULTIPLE = 2.0
# Fewer common applications than this and a rank correlation says nothing.
_MIN_CONSISTENCY_APPLICATIONS = 3
# Leniencies spread less than this (relative to their size) are equal up to rounding noise.
_RELATIVE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ExpertDiagnostic:
    """Diagnostics of one expert.

    Attributes
    ----------
    expert : str
        The expert's id.
    reviews : int
        Applications the expert reviewed.
    leniency : float or None
        Mean, over the applications the expert reviewed that someone else reviewed too, of the
        expert's total minus the mean of the other reviewers' totals. Positive: scores higher
        than the colleagues. None when no such application exists.
    consistency : float or None
        Spearman correlation of the expert's totals with the other reviewers' means on those same
        applications. None with fewer than 3 such applications or when either side has no
        variation.
    flags : tuple of str
        ``"lenient"`` or ``"severe"``, then ``"inconsistent"``, as they apply.
    """

    expert: str
    reviews: int
    leniency: float | None
    consistency: float | None
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of every field; flags as a list, None stays None."""
        return {
            "expert": self.expert,
            "reviews": self.reviews,
            "leniency": self.leniency,
            "consistency": self.consistency,
            "flags": list(self.flags),
        }


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.size < _MIN_CONSISTENCY_APPLICATIONS:
        return None
    rank_x = average_ranks(x)
    rank_y = average_ranks(y)
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    norm = np.sqrt(np.sum(rank_x**2) * np.sum(rank_y**2))
    if norm == 0:
        return None  # one side is constant: correlation undefined
    # Clip the last ulp so a perfect agreement reads as exactly ±1 at most.
    return float(np.clip(np.sum(rank_x * rank_y) / norm, -1.0, 1.0))


def _leniency_flags(leniencies: list[float | None]) -> list[str | None]:
    """ "lenient"/"severe"/None per expert against the panel's mean and sample SD of leniency."""
    known = np.array([value for value in leniencies if value is not None], dtype=np.float64)
    flags: list[str | None] = [None] * len(leniencies)
    if known.size < 2:
        return flags
    if not np.ptp(known) > _RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(known)))):
        return flags  # every expert equally lenient
    centre = float(known.mean())
    limit = LENIENCY_SD_MULTIPLE * float(known.std(ddof=1))
    for index, value in enumerate(leniencies):
        if value is None:
            continue
        if value - centre > limit:
            flags[index] = "lenient"
        elif centre - value > limit:
            flags[index] = "severe"
    return flags


def expert_diagnostics(totals: ArrayLike, expert_ids: Sequence[str]) -> tuple[ExpertDiagnostic, ...]:
    """Diagnose each expert's leniency and consistency against the rest of the panel.

    Parameters
    ----------
    totals : array_like of float, shape (n_applications, n_experts)
        Each expert's total for each application; NaN where the expert did not review it.
    expert_ids : sequence of str
        The experts' ids, one per column of `totals`, all different.

    Returns
    -------
    tuple of ExpertDiagnostic
        One per expert, in the order of `expert_ids`.

    Raises
    ------
    ValueError
        If `totals` is not a 2-D array of real numbers, holds an infinite value, or its number of
        columns differs from the number of ids; if an id is not a non-empty string or appears
        twice.

    Notes
    -----
    For each expert, only the applications that at least one other expert reviewed count: there
    the expert's total is compared with the mean of the others' totals. *Leniency* is the mean
    difference; *consistency* is the Spearman rank correlation (average ranks for ties).

    Flags:

    - ``"lenient"`` / ``"severe"``: the expert's leniency lies more than 2 standard deviations
      above / below the mean leniency of all experts whose leniency is known. The standard
      deviation is the **sample** SD (``ddof=1``) of those leniencies. No such flag is given with
      fewer than 2 known leniencies or when all are equal. Note that with the sample SD a single
      outlier among n experts can lie at most ``(n − 1) / √n`` SDs from the mean, so these flags
      can appear only on panels of 6 or more experts.
    - ``"inconsistent"``: consistency is known and below 0.3.

    Examples
    --------
    >>> nan = float("nan")
    >>> totals = [[80, 82, 79], [70, 71, 73], [90, 88, 91], [75, 69, 72], [60, 65, nan]]
    >>> for d in expert_diagnostics(totals, ["E1", "E2", "E3"]):
    ...     print(d.expert, d.reviews, d.leniency, round(d.consistency, 3), d.flags)
    E1 5 -0.5 0.9 ()
    E2 5 0.0 0.9 ()
    E3 4 0.625 0.8 ()
    """
    matrix = validate_totals(totals)
    ids = list(expert_ids)
    if isinstance(expert_ids, str) or len(ids) != matrix.shape[1]:
        raise ValueError(
            f"expert_ids must name each of the {matrix.shape[1]} columns of totals, "
            f"got {1 if isinstance(expert_ids, str) else len(ids)} id(s)"
        )
    for expert in ids:
        if not isinstance(expert, str) or not expert:
            raise ValueError(f"expert ids must be non-empty strings, got {expert!r}")
    duplicates = sorted(expert for expert, seen in Counter(ids).items() if seen > 1)
    if duplicates:
        raise ValueError(f"expert ids must be unique; repeated: {', '.join(duplicates)}")

    present = ~np.isnan(matrix)
    filled = np.where(present, matrix, 0.0)
    row_counts = present.sum(axis=1)
    row_sums = filled.sum(axis=1)

    reviews: list[int] = []
    leniencies: list[float | None] = []
    consistencies: list[float | None] = []
    for column in range(matrix.shape[1]):
        own_present = present[:, column]
        compared = own_present & (row_counts >= 2)
        own = matrix[compared, column]
        others_mean = (row_sums[compared] - own) / (row_counts[compared] - 1)
        reviews.append(int(own_present.sum()))
        leniencies.append(float(np.mean(own - others_mean)) if own.size else None)
        consistencies.append(_spearman(own, others_mean))

    leniency_flags = _leniency_flags(leniencies)
    diagnostics = []
    for column, expert in enumerate(ids):
        flags = []
        if leniency_flags[column] is not None:
            flags.append(leniency_flags[column])
        consistency = consistencies[column]
        if consistency is not None and consistency < CONSISTENCY_THRESHOLD:
            flags.append("inconsistent")
        diagnostics.append(
            ExpertDiagnostic(
                expert=expert,
                reviews=reviews[column],
                leniency=leniencies[column],
                consistency=consistency,
                flags=tuple(flags),
            )
        )
    return tuple(diagnostics)
