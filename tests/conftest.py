"""Fixtures shared by the whole suite.

Every test that touches the database runs twice: against SQLite and against a real PostgreSQL
(``TEST_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``; a throw-away database
is created beside it). With ``REQUIRE_POSTGRES=1`` an unreachable PostgreSQL is a failure, not a skip.
The schema is built by the Alembic migrations, once per backend; each test runs inside a transaction
that is rolled back, while the app's own commits become savepoints.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask_sqlalchemy.session
import psycopg
import pytest
from flask_migrate import upgrade

from webapp import create_app
from webapp.auth.models import ApplicantRole, Role, User
from webapp.auth.operations import create_user
from webapp.core.db import db
from webapp.units.models import Unit

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Test-Passw0rd!"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _require(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def pg_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)


def postgres_available() -> str | None:
    """None when reachable, else the reason."""
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {pg_admin_url()}: {exc}"


def create_pg_database() -> tuple[str, str]:
    """Create a throw-away database next to TEST_DATABASE_URL; returns (url, name)."""
    name = f"kexie_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_admin_url().rsplit("/", 1)[0] + f"/{name}"
    return url, name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_database(backend: str, tmp_dir: Path) -> tuple[str, callable]:
    """A fresh, empty database URL for ``backend`` and a function that disposes of it."""
    if backend == "sqlite":
        path = tmp_dir / f"test-{uuid.uuid4().hex[:8]}.sqlite"
        return f"sqlite:///{path}", lambda: None
    reason = postgres_available()
    if reason:
        if _require("REQUIRE_POSTGRES"):
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    url, name = create_pg_database()
    return url, lambda: drop_pg_database(name)


def make_app(url: str, tmp_dir: Path, **extra):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",
        "UPLOAD_DIR": str(tmp_dir / "uploads"),
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SERVER_NAME": None,
        # Cheap hashing keeps hundreds of logins fast; production uses the Config defaults.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }
    config.update(extra)
    from webapp.config import normalise_database_url

    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    return create_app(config)


def migrate_and_seed_units(app) -> None:
    from webapp.units.operations import load_units

    with app.app_context():
        upgrade(directory=str(REPO / "webapp" / "migrations"))
        load_units(REPO / "seeds" / "units.csv")
        db.session.commit()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    """The application on a migrated database, one per backend for the whole session."""
    tmp_dir = tmp_path_factory.mktemp(request.param)
    url, dispose = backend_database(request.param, tmp_dir)
    application = make_app(url, tmp_dir)
    migrate_and_seed_units(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    dispose()


class _ConnectionBoundSession(flask_sqlalchemy.session.Session):
    """A session that always uses the test's connection (Flask-SQLAlchemy's picks an engine)."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture
def session(app, monkeypatch, tmp_path) -> Iterator:
    """The database session for one test: everything is rolled back at the end.

    Each test also gets its own upload folder, since files on disk are not part of the rollback.
    """
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    scoped = db._make_scoped_session(
        {
            "bind": connection,
            "class_": _ConnectionBoundSession,
            "join_transaction_mode": "create_savepoint",
            # Objects a test made stay readable after a request ends the session; assertions re-query.
            "expire_on_commit": False,
            "scopefunc": lambda: id(connection),
        }
    )
    monkeypatch.setattr(db, "session", scoped)
    try:
        yield scoped
    finally:
        scoped.remove()
        transaction.rollback()
        connection.close()


@pytest.fixture
def ctx(app, session):
    """An application context for tests that call operations directly (not through the client)."""
    with app.test_request_context():
        yield


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def frozen(app, monkeypatch):
    """Freeze the app's clock: ``frozen(datetime)`` sets it, returns the datetime."""

    def set_now(moment):
        monkeypatch.setitem(app.config, "FROZEN_NOW", moment)
        return moment

    return set_now


# ---------------------------------------------------------------- factories


@pytest.fixture
def unit(session):
    """Look up a unit by its GB/T 2260 code: ``unit("110000")``."""

    def get(code: str) -> Unit:
        return session.query(Unit).filter_by(code=code).one()

    return get


@pytest.fixture
def make_user(app, session, unit):
    """Create an account: ``make_user(Role.office)``, ``make_user(Role.applicant, unit_code="110000")``."""
    counter = {"n": 0}

    def make(role: Role, *, username: str | None = None, unit_code: str | None = None,
             applicant_role: ApplicantRole = ApplicantRole.clerk, region: str = "110000",
             must_change_password: bool = False, password: str = PASSWORD) -> User:
        counter["n"] += 1
        name = username or f"{role.value}{counter['n']}"
        with app.test_request_context():
            user = create_user(
                username=name,
                display_name=f"测试{role.label}{counter['n']}",
                password=password,
                role=role,
                unit=unit(unit_code or "110000") if role == Role.applicant else None,
                applicant_role=applicant_role if role == Role.applicant else None,
                home_region=unit(region) if role == Role.expert else None,
                must_change_password=must_change_password,
                actor="测试",
            )
            session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign in through the real login form: ``login(user)``; returns the response."""

    def do(user: User | str, password: str = PASSWORD, follow: bool = False):
        username = user if isinstance(user, str) else user.username
        client.delete_cookie("kexie_session")  # a fresh browser session, whoever was signed in before
        page = client.get("/login")
        token = csrf_token(page.get_data(as_text=True))
        return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=follow)

    return do


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def post_form(client):
    """POST a form with the CSRF token taken from ``page_url`` (as a browser would)."""

    def do(page_url: str, action_url: str | None = None, data: dict | None = None, follow: bool = False):
        page = client.get(page_url)
        token = csrf_token(page.get_data(as_text=True))
        return client.post(action_url or page_url, data={**(data or {}), "csrf_token": token},
                           follow_redirects=follow)

    return do


@pytest.fixture
def make_program(app, session):
    """Create a campaign year with one program: ``make_program(kind, phase=Phase.open, deadline=...)``.

    The phase is set directly (fixture set-up, not a workflow move); tests of the workflow move it
    through ``advance_phase`` themselves.
    """
    from datetime import UTC, datetime
    from decimal import Decimal

    from webapp.campaigns.models import Campaign, Phase, ProgramKind
    from webapp.campaigns.operations import add_program, create_campaign

    years = iter(range(2030, 2100))

    def make(kind=ProgramKind.post_subsidy, *, phase=Phase.setup, deadline=None, budget=Decimal("1500000"),
             year=None, campaign: Campaign | None = None):
        rubric = {"post_subsidy": "cast-2014-post-subsidy.toml", "pilot": "cast-2014-pilot.toml"}[kind.value]
        with app.test_request_context():
            if campaign is None:
                campaign = create_campaign(year=year or next(years), title="测试年度活动")
            program = add_program(
                campaign, kind=kind, rubric_file=rubric,
                submission_deadline=deadline or datetime(2099, 10, 31, 15, 59, 59, tzinfo=UTC),
                budget=budget,
            )
            program.phase = phase
            session.commit()
        return program

    return make
