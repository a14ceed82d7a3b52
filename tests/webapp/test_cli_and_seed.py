"""``flask`` commands: units, the demo, the first administrator, audit verification."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from webapp.applications.models import Application, ApplicationStatus, AttachmentPurpose, CheckDecision
from webapp.applications.operations import missing_parts, roster_count_check
from webapp.applications.uploads import open_stored
from webapp.audit.models import AuditEvent
from webapp.auth.models import Role, User
from webapp.campaigns.models import Campaign, Phase, Program, ProgramKind
from webapp.units.models import Unit, UnitCategory


def test_seed_units_is_idempotent(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "units"])
    assert result.exit_code == 0
    assert result.output.strip() == "申报单位：新增 0 个，更新 0 个。"
    assert session.scalar(select(func.count()).select_from(Unit)) == 47


def test_units_reference_data_shape(session):
    units = session.scalars(select(Unit)).all()
    by_category = {c: sorted(u.code for u in units if u.category == c) for c in UnitCategory}
    assert len(by_category[UnitCategory.province]) == 31
    assert by_category[UnitCategory.corps] == ["660000"]
    assert len(by_category[UnitCategory.city]) == 15
    cities = {u.region: u.parent.region for u in units if u.category == UnitCategory.city}
    assert cities["大连市"] == "辽宁省"
    assert cities["深圳市"] == "广东省"
    assert cities["宁波市"] == "浙江省"
    assert all(u.code[:2] == u.parent_code[:2] for u in units if u.parent_code)


def test_seed_demo_builds_campaign_and_prints_logins(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "所有演示账户的密码均为：Kexie@2014demo" in result.output
    for username in ("admin", "auditor", "office", "finance", "expert01", "u110000c", "u110000l"):
        assert username in result.output
    campaign = session.scalar(select(Campaign).where(Campaign.year == 2014))
    assert {p.kind for p in campaign.programs} == {ProgramKind.pilot, ProgramKind.post_subsidy}
    # The demo's story runs past both deadlines.
    assert all(p.phase == Phase.formal_check for p in campaign.programs)
    roles = set(session.scalars(select(User.role)))
    assert roles == set(Role)
    assert session.scalar(select(func.count()).select_from(User).where(User.role == Role.applicant)) == 94


def test_seed_demo_twice_refused_cleanly(app, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 1
    assert "演示数据已存在" in again.output


def test_demo_login_works_with_printed_password(app, session, client, login):
    app.test_cli_runner().invoke(args=["seed", "demo"])
    assert login("office", password="Kexie@2014demo").status_code == 302


def test_demo_post_subsidy_past_deadline_moves_to_formal_check_when_seen(app, session, client, login):
    app.test_cli_runner().invoke(args=["seed", "demo"])
    login("office", password="Kexie@2014demo")
    body = client.get("/campaigns").get_data(as_text=True)
    assert "形式审查" in body


def test_create_admin_command_refuses_weak_password(app, session):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "root2", "--password", "short"])
    assert result.exit_code == 1
    assert "密码至少需要 10 个字符" in result.output
    assert session.scalar(select(User).where(User.username == "root2")) is None


def test_create_admin_command_creates_sysadmin(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "root2", "--password", "Strong-Pass-2026"]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "root2"))
    assert user.role == Role.sysadmin and user.must_change_password is False


def test_audit_verify_command_exit_codes(app, session):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "审计链完整" in ok.output
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
    session.execute(
        text("UPDATE audit_events SET actor_name = 'forged' WHERE id = (SELECT min(id) FROM audit_events)")
    )
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "审计链被破坏" in bad.output


# ---------------------------------------------------------------- the demo's story (each test builds it once)


def _demo(app, session) -> tuple[dict[ProgramKind, Program], str]:
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    programs = session.scalars(select(Program)).all()
    return {ProgramKind(p.kind): p for p in programs}, result.output


def _applications(session, program) -> list[Application]:
    return session.scalars(select(Application).where(Application.program_id == program.id)).all()


def test_demo_spread_of_states_per_program_and_audit_chain_intact(app, session):
    programs, output = _demo(app, session)
    pilot, post = programs[ProgramKind.pilot], programs[ProgramKind.post_subsidy]
    assert pilot.phase == Phase.formal_check and post.phase == Phase.formal_check

    pilot_apps = _applications(session, pilot)
    assert Counter(a.status for a in pilot_apps) == {ApplicationStatus.passed: 6}
    assert all(a.nominated_by is not None and a.nominated_by.username == "office" for a in pilot_apps)
    assert all(a.figure_values()["matching_funds"] >= 100000 for a in pilot_apps)

    post_apps = _applications(session, post)
    assert Counter(a.status for a in post_apps) == {
        ApplicationStatus.passed: 25,
        ApplicationStatus.submitted: 9,  # not yet checked, including one resubmitted after a correction
        ApplicationStatus.returned: 1,
        ApplicationStatus.rejected: 1,
        ApplicationStatus.draft: 5,
    }
    assert 47 - len(post_apps) == 6  # never started
    drafts = [a for a in post_apps if a.status == ApplicationStatus.draft]
    assert all(missing_parts(a) for a in drafts)
    assert len({tuple(missing_parts(a)) for a in drafts}) == 5  # each draft lacks something different
    withdrawn = [r for a in post_apps for r in a.receipts if r.withdrawn_at is not None]
    assert len(withdrawn) == 3 and all(r.number.endswith("-01") for r in withdrawn)
    decisions = Counter(c.decision for a in post_apps for c in a.checks)
    assert decisions[CheckDecision.returned] == 2 and decisions[CheckDecision.rejected] == 1
    rejected = next(a for a in post_apps if a.status == ApplicationStatus.rejected)
    assert rejected.checks[-1].note

    assert "演示数据，非真实统计" in output
    assert "后补助" in output and "形式审查通过 25" in output and "未申报 6" in output
    for login in ("u610100l", "u520000c", "u460000c"):
        assert login in output

    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "审计链完整" in verify.output, verify.output
    # The story's events carry their 2014 dates, in order.
    demo_times = session.scalars(
        select(AuditEvent.at).where(AuditEvent.action.like("application.%")).order_by(AuditEvent.id)
    ).all()
    assert demo_times == sorted(demo_times) and demo_times[0].year == demo_times[-1].year == 2014


def test_demo_receipts_files_rosters_deadline_and_pages(app, session, client, login):
    programs, _ = _demo(app, session)
    upload_dir = Path(app.config["UPLOAD_DIR"])
    mismatches = duplicates = 0
    for program in programs.values():
        for application in _applications(session, program):
            count, reported = roster_count_check(application)
            if application.status == ApplicationStatus.draft:
                assert application.current_receipt is None
                continue
            receipt = application.current_receipt
            assert receipt is not None, application.unit.code
            manifest = json.loads(receipt.manifest)
            assert manifest["unit"]["code"] == application.unit.code
            purposes = Counter(f["purpose"] for f in manifest["files"])
            assert purposes[AttachmentPurpose.roster.value] == 1
            assert purposes[AttachmentPurpose.recommendation_letter.value] == 1
            assert purposes[AttachmentPurpose.evidence.value] >= 4
            for listed in manifest["files"]:
                assert open_stored(upload_dir, listed["sha256"]).stat().st_size == listed["size"]
            evidence = next(f for f in manifest["files"] if f["purpose"] == AttachmentPurpose.evidence.value)
            data = open_stored(upload_dir, evidence["sha256"]).read_bytes()
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
            assert "演示数据，非真实统计".encode() in data and application.unit.name.encode() in data
            assert count > 0 and manifest["roster_rows"] == count
            mismatches += Decimal(count) != reported
            duplicates += any(e.duplicate_group for e in application.roster)
            for r in application.receipts:  # before the deadline, or inside a correction window
                on_time = r.submitted_at <= program.submission_deadline
                corrected = any(
                    c.decision == CheckDecision.returned
                    and c.decided_at < r.submitted_at <= c.correction_until
                    for c in application.checks
                )
                assert on_time or corrected, r.number
    assert mismatches == 2 and duplicates == 1

    # The pages a newcomer is pointed to show each state.
    post = programs[ProgramKind.post_subsidy]

    def page_of(code: str) -> str:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        application = session.scalar(
            select(Application).where(Application.program_id == post.id, Application.unit_id == unit.id)
        )
        response = client.get(f"/applications/{application.id}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert login("u610100l", password="Kexie@2014demo").status_code == 302
    assert "退回补正" in page_of("610100")
    login("u130000l", password="Kexie@2014demo")
    assert "2014HB-130000-01" in page_of("130000")
    login("u520000c", password="Kexie@2014demo")
    assert "推荐意见" in page_of("520000")
    login("office", password="Kexie@2014demo")
    listing = client.get(f"/programs/{post.id}/applications")
    assert listing.status_code == 200
    assert "甘肃省" in listing.get_data(as_text=True)
