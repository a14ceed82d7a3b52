"""Shared steps of the browser tests: page helpers, and a scored program built straight in the database."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

UNIT_CODES = [
    "110000",
    "120000",
    "130000",
    "140000",
    "310000",
    "320000",
    "330000",
    "340000",
    "350000",
    "360000",
    "370000",
    "410000",
]
EXPERT_REGIONS = ["440000", "450000", "460000", "500000", "510000", "520000", "530000"]


def path_of(page) -> str:
    return urlsplit(page.url).path


def click_and_load(page, target) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()


def sign_in(page, account) -> None:
    """Fill the login form the page shows (after a redirect it keeps ``next``)."""
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码", exact=True).fill(account.password)
    click_and_load(page, page.get_by_role("button", name="登录", exact=True))


def campaign_of(live_server, program_id: int) -> int:
    from webapp.campaigns.models import Program
    from webapp.core.db import db

    with live_server.app.app_context():
        campaign_id = db.session.get(Program, program_id).campaign_id
        db.session.remove()
    return campaign_id


def build_scored_program(
    live_server,
    program_id: int,
    expert_ids: list[int],
    *,
    at: datetime,
    seed: int,
    quality_floor: float = 0.0,
    payee: Callable[[object], tuple[str, str, str]] | None = None,
) -> dict[str, int]:
    """Put the program in "panel" with 12 passed applications (figures; payee details when ``payee`` gives
    them for a unit) and every expert's submitted review of each; returns the application ids by unit code.

    Each unit's latent quality is ``quality_floor + (1 - quality_floor) × uniform``; scores follow it with
    noise, on each criterion's step.
    """
    from webapp.applications.models import Application, ApplicationStatus, Figure, FigureSource
    from webapp.campaigns.models import Phase, Program
    from webapp.campaigns.rubrics import rubric_of
    from webapp.core.db import db
    from webapp.reviews.models import Assignment, AssignmentStatus, Score
    from webapp.units.models import Unit

    rng = random.Random(seed)
    with live_server.app.app_context():
        program = db.session.get(Program, program_id)
        program.phase = Phase.panel
        rubric = rubric_of(program)
        indicator_keys = {i.key for i in rubric.indicators}
        applications = {}
        for n, code in enumerate(UNIT_CODES):
            unit = db.session.query(Unit).filter(Unit.code == code).one()
            application = Application(
                program_id=program_id,
                unit=unit,
                status=ApplicationStatus.passed,
                created_at=at,
                updated_at=at,
                submitted_at=at - timedelta(days=30, minutes=n),
            )
            if payee is not None:
                application.payee_name, application.bank_name, application.bank_account = payee(unit)
            db.session.add(application)
            regulated = rng.randint(2000, 20000)
            values = {
                "regulated_enterprises": regulated,
                "enterprise_kexie_total": rng.randint(100, regulated // 8),
                "enterprise_kexie_new": rng.randint(10, 60),
                "task_new_kexie": rng.randint(20, 60),
                "liaison_enterprises": rng.randint(50, 300),
                "task_liaison": rng.randint(100, 300),
                "parks_total": 40,
                "parks_with_kexie": rng.randint(5, 30),
                "national_parks_total": 6,
                "national_parks_with_kexie": rng.randint(1, 6),
                "academician_workstations": rng.randint(1, 30),
                "service_stations": rng.randint(1, 30),
                "haizhi_bases": rng.randint(0, 3),
                "matching_funds": rng.choice([0, 150000, 250000]),
            }
            for key, value in values.items():
                if key in indicator_keys:
                    db.session.add(
                        Figure(
                            application=application,
                            indicator=key,
                            value=Decimal(value),
                            source=FigureSource.unit,
                            updated_at=at,
                        )
                    )
            applications[code] = application
        db.session.flush()
        for application in applications.values():
            quality = quality_floor + (1 - quality_floor) * rng.random()
            for expert_id in expert_ids:
                assignment = Assignment(
                    application_id=application.id,
                    expert_id=expert_id,
                    status=AssignmentStatus.submitted,
                    created_at=at,
                    updated_at=at,
                    submitted_at=at,
                    opinion="评审意见" * 6,
                )
                db.session.add(assignment)
                for criterion in rubric.expert_criteria:
                    steps = int(criterion.max / criterion.step)
                    value = max(0, min(steps, round(steps * quality + rng.randint(-3, 3))))
                    db.session.add(
                        Score(assignment=assignment, criterion=criterion.key, score=criterion.step * value)
                    )
        db.session.commit()
        ids = {code: application.id for code, application in applications.items()}
        db.session.remove()
    return ids
