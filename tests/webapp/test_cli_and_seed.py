"""``flask`` commands: units, the demo, the first administrator, audit verification."""

from __future__ import annotations

from sqlalchemy import func, select, text

from webapp.auth.models import Role, User
from webapp.campaigns.models import Campaign, Phase, ProgramKind
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
    assert all(p.phase == Phase.open for p in campaign.programs)
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
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "root2", "--password", "Strong-Pass-2026"])
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
    session.execute(text("UPDATE audit_events SET actor_name = 'forged' WHERE id = (SELECT min(id) FROM audit_events)"))
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "审计链被破坏" in bad.output
