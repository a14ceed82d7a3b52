"""Integrity under load (§4): 30 experts submitting at once over real HTTP lose and duplicate nothing,
and a review submitted twice at the same moment gives one result."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD

AT = datetime(2040, 11, 12, 2, 0, tzinfo=UTC)
EXPERTS = 30
SCORES = {"score_leadership": "12.5", "score_planning": "11", "score_quality": "8", "score_services": "9.5",
          "score_timeliness": "6"}
OPINION = "材料完整，企业科协组织建设成效明显，服务企业创新有特色，同意推荐。"


class Browserless:
    """One expert's HTTP session (cookies, CSRF tokens), no browser."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode("utf-8")

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    @staticmethod
    def token(html: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)

    def login(self, username: str) -> None:
        token = self.token(self.get("/login"))
        assert self.post("/login", {"username": username, "password": PASSWORD, "csrf_token": token}) == 200


def _build(live_server):
    """A program in review with two passed applications and 30 experts assigned to both."""
    from webapp.applications.models import Application, ApplicationStatus
    from webapp.auth.models import Role
    from webapp.campaigns.models import Phase, Program
    from webapp.core.db import db
    from webapp.reviews.models import Assignment, AssignmentStatus
    from webapp.units.models import Unit

    program_id = live_server.open_program(year=2040, deadline=datetime(2040, 10, 31, 15, 59, 59, tzinfo=UTC))
    experts = [live_server.create_user(Role.expert, username=f"load{n:02d}", region="440000") for n in range(EXPERTS)]
    with live_server.app.app_context():
        db.session.get(Program, program_id).phase = Phase.review
        units = db.session.query(Unit).filter(Unit.code.in_(["110000", "320000"])).all()
        apps = [Application(program_id=program_id, unit=u, status=ApplicationStatus.passed, created_at=AT,
                            updated_at=AT, submitted_at=AT) for u in units]
        db.session.add_all(apps)
        db.session.flush()
        pairs = {}
        for expert in experts:
            for application in apps:
                assignment = Assignment(application_id=application.id, expert_id=expert.id,
                                        status=AssignmentStatus.assigned, created_at=AT, updated_at=AT)
                db.session.add(assignment)
                db.session.flush()
                pairs.setdefault(expert.username, []).append(assignment.id)
        db.session.commit()
        db.session.remove()
    return pairs


def test_thirty_experts_submit_at_once_nothing_lost_or_duplicated(live_server, server_clock):
    from sqlalchemy import func, select

    from webapp.core.db import db
    from webapp.reviews.models import Assignment, AssignmentStatus, Score

    server_clock(AT)
    pairs = _build(live_server)
    sessions = {}
    for username in pairs:
        sessions[username] = Browserless(live_server.url)
        sessions[username].login(username)
    # Every form is fetched first; then all submissions go at once, the first review of each expert twice.
    jobs = []
    for username, assignment_ids in pairs.items():
        client = sessions[username]
        for n, assignment_id in enumerate(assignment_ids):
            token = client.token(client.get(f"/reviews/{assignment_id}"))
            data = {"csrf_token": token, "action": "submit", "opinion": OPINION, **SCORES}
            jobs.append((client, assignment_id, data))
            if n == 0:
                jobs.append((client, assignment_id, data))
    barrier = threading.Barrier(len(jobs))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(client, assignment_id, data):
        try:
            barrier.wait(timeout=60)
            statuses.append(client.post(f"/reviews/{assignment_id}", data))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(statuses) == len(jobs)
    assert 500 not in statuses
    with live_server.app.app_context():
        submitted = db.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.status == AssignmentStatus.submitted))
        rows = db.session.execute(select(Score.assignment_id, Score.criterion, Score.score)).all()
        db.session.remove()
    assert submitted == EXPERTS * 2
    assert len(rows) == EXPERTS * 2 * len(SCORES)
    assert len({(a, c) for a, c, _ in rows}) == len(rows)
    expected = {k.removeprefix("score_"): Decimal(v) for k, v in SCORES.items()}
    assert all(score == expected[criterion] for _, criterion, score in rows)


@pytest.fixture(autouse=True)
def _no_browser_needed():
    """This module talks HTTP directly; it needs the live server but not Chromium."""
    yield
