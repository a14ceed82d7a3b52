"""Real-browser fixtures: a live server per backend and a headless Chromium driven by Playwright.

``live_server`` builds the app on a fresh, migrated database (SQLite and PostgreSQL, like the ``app``
fixture of ``tests/conftest.py``) and serves it on 127.0.0.1 from a background thread. Unlike the
rest of the suite nothing is rolled back here: the app commits for real, so every test makes its own
accounts (``live_server.create_user``) with names no other test uses, and its own campaign year
(``live_server.open_program``) when it needs a program.

``browser`` is one Chromium for the session (skipped when the binary is missing, a failure with
``REQUIRE_BROWSER=1``); ``page`` is a fresh context per test (zh-CN, Asia/Shanghai).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, _require, backend_database, make_app, migrate_and_seed_units

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright's default of 30 s would let a hung page eat the whole time budget of the module.
TIMEOUT_MS = 10_000

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is an e2e test (``-m "not e2e"`` leaves the browser out)."""
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# ---------------------------------------------------------------- the live server


@dataclass(frozen=True)
class Account:
    """What a test needs to sign in as a user the server knows (plain values, no ORM object)."""

    id: int
    username: str
    display_name: str
    password: str


class LiveServer:
    """The app served over real HTTP: ``url`` (no trailing slash), ``app`` and account creation."""

    def __init__(self, app, url: str):
        self.app = app
        self.url = url
        self._counter = itertools.count(1)

    def create_user(
        self,
        role,
        *,
        username: str | None = None,
        display_name: str | None = None,
        password: str = PASSWORD,
        unit_code: str = "110000",
        applicant_role=None,
        region: str = "110000",
        must_change_password: bool = False,
    ) -> Account:
        """Create and commit an account through ``webapp.auth.operations.create_user``.

        ``role`` is a ``Role``; applicants belong to ``unit_code`` (clerk unless ``applicant_role``
        says otherwise), experts to ``region``.
        """
        from sqlalchemy import select

        from webapp.auth.models import ApplicantRole, Role
        from webapp.auth.operations import create_user
        from webapp.core.db import db
        from webapp.units.models import Unit

        n = next(self._counter)
        name = username or f"{role.value}{n}"
        with self.app.app_context():

            def unit(code: str) -> Unit:
                return db.session.scalars(select(Unit).where(Unit.code == code)).one()

            is_applicant = role == Role.applicant
            user = create_user(
                username=name,
                display_name=display_name or f"浏览器测试{role.label}{n}",
                password=password,
                role=role,
                unit=unit(unit_code) if is_applicant else None,
                applicant_role=(applicant_role or ApplicantRole.clerk) if is_applicant else None,
                home_region=unit(region) if role == Role.expert else None,
                must_change_password=must_change_password,
                actor="浏览器测试",
            )
            db.session.commit()
            account = Account(user.id, user.username, user.display_name, password)
            db.session.remove()
        return account

    def open_program(self, *, year: int, deadline: datetime, kind=None, budget: str = "1500000") -> int:
        """Create a campaign ``year`` with one program open for applications; returns the program's id.

        ``kind`` is a ``ProgramKind`` (post-subsidy unless told), scored by the 2014 rubric of that kind;
        ``deadline`` is aware. The phase is set directly (set-up, not a workflow move), as in the
        ``make_program`` fixture of ``tests/conftest.py``; freeze the clock first when it matters.
        """
        from decimal import Decimal

        from webapp.campaigns.models import Phase, ProgramKind
        from webapp.campaigns.operations import add_program, create_campaign
        from webapp.core.db import db

        kind = kind or ProgramKind.post_subsidy
        rubric = {
            ProgramKind.post_subsidy: "cast-2014-post-subsidy.toml",
            ProgramKind.pilot: "cast-2014-pilot.toml",
        }[kind]
        with self.app.app_context():
            campaign = create_campaign(year=year, title=f"{year}年度浏览器测试活动")
            program = add_program(
                campaign,
                kind=kind,
                rubric_file=rubric,
                submission_deadline=deadline,
                budget=Decimal(budget),
            )
            program.phase = Phase.open
            db.session.commit()
            program_id = program.id
            db.session.remove()
        return program_id

    def unit_name(self, code: str) -> str:
        from sqlalchemy import select

        from webapp.core.db import db
        from webapp.units.models import Unit

        with self.app.app_context():
            name = db.session.scalars(select(Unit.name).where(Unit.code == code)).one()
            db.session.remove()
        return name


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(request, tmp_path_factory) -> Iterator[LiveServer]:
    """The app on a fresh migrated database with the 47 units, served on 127.0.0.1 (one per backend)."""
    tmp_dir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    url, dispose = backend_database(request.param, tmp_dir)
    try:
        app = make_app(url, tmp_dir)
        migrate_and_seed_units(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name=f"e2e-{request.param}", daemon=True)
        thread.start()
        try:
            yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            from webapp.core.db import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        dispose()


@pytest.fixture
def server_clock(live_server) -> Iterator[Any]:
    """Freeze the server's clock: ``server_clock(aware_datetime)``; the real clock returns afterwards.

    The server thread reads ``FROZEN_NOW`` on every call of ``now()``, so the change is immediate.
    """
    config = live_server.app.config
    previous = config.get("FROZEN_NOW")

    def set_now(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("freeze the server clock with an aware datetime")
        config["FROZEN_NOW"] = moment
        return moment

    yield set_now
    config["FROZEN_NOW"] = previous


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}"
        if _require("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        pytest.fail("Playwright's sync API cannot run inside a running asyncio event loop")

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies), Chinese locale, Beijing time zone."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
