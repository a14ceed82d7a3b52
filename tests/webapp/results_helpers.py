"""Build a scored campaign directly in the database (fixture set-up for results and publicity tests)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from webapp.applications.models import Application, ApplicationStatus, Figure, FigureSource
from webapp.auth.models import Role
from webapp.campaigns.models import Phase, ProgramKind
from webapp.reviews.models import Assignment, AssignmentStatus, Score

AT = datetime(2030, 11, 20, 2, 0, tzinfo=UTC)
UNIT_CODES = ["110000", "120000", "130000", "140000", "310000", "320000", "330000", "340000", "350000", "360000",
              "370000", "410000"]
EXPERT_REGIONS = ["440000", "450000", "460000", "500000", "510000", "520000", "530000"]


def build_scored_program(session, make_program, make_user, unit, *, kind=ProgramKind.post_subsidy, year=2030,
                         budget=Decimal("1500000"), seed=7, phase=Phase.panel):
    """A program in ``phase`` with 12 passed applications, figures, and 7 experts' submitted reviews."""
    from webapp.campaigns.rubrics import rubric_of

    rng = random.Random(seed)
    program = make_program(kind, phase=phase, year=year, budget=budget,
                           deadline=datetime(year, 10, 31, 15, 59, 59, tzinfo=UTC))
    rubric = rubric_of(program)
    experts = [make_user(Role.expert, username=f"ex{year}{n}", region=r) for n, r in enumerate(EXPERT_REGIONS)]
    apps = []
    for n, code in enumerate(UNIT_CODES):
        application = Application(program_id=program.id, unit=unit(code), status=ApplicationStatus.passed,
                                  created_at=AT, updated_at=AT, submitted_at=AT - timedelta(days=30, minutes=n))
        session.add(application)
        regulated = rng.randint(2000, 20000)
        values = {
            "regulated_enterprises": regulated, "enterprise_kexie_total": rng.randint(100, regulated // 8),
            "enterprise_kexie_new": rng.randint(10, 60), "task_new_kexie": rng.randint(20, 60),
            "liaison_enterprises": rng.randint(50, 300), "task_liaison": rng.randint(100, 300),
            "parks_total": 40, "parks_with_kexie": rng.randint(5, 30), "national_parks_total": 6,
            "national_parks_with_kexie": rng.randint(1, 6), "academician_workstations": rng.randint(1, 30),
            "service_stations": rng.randint(1, 30), "haizhi_bases": rng.randint(0, 3),
            "matching_funds": rng.choice([0, 150000, 250000]),
        }
        for key, value in values.items():
            if any(i.key == key for i in rubric.indicators):
                session.add(Figure(application=application, indicator=key, value=Decimal(value),
                                   source=FigureSource.unit, updated_at=AT))
        apps.append(application)
    session.flush()
    for application in apps:
        quality = rng.random()
        for expert in experts:
            assignment = Assignment(application_id=application.id, expert_id=expert.id,
                                    status=AssignmentStatus.submitted, created_at=AT, updated_at=AT,
                                    submitted_at=AT, opinion="评审意见" * 6)
            session.add(assignment)
            for criterion in rubric.expert_criteria:
                steps = int(criterion.max / criterion.step)
                value = max(0, min(steps, round(steps * quality + rng.randint(-3, 3))))
                session.add(Score(assignment=assignment, criterion=criterion.key, score=criterion.step * value))
    session.commit()
    return program, apps, experts
