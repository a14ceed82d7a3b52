"""Campaigns and the phase workflow (§2): forward only, guarded, audited, the deadline closes by itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from webapp.audit.models import AuditEvent
from webapp.auth.models import Role
from webapp.campaigns.models import Campaign, Phase, Program, ProgramKind
from webapp.campaigns.operations import CampaignError, advance_phase, apply_due_transitions, update_program
from webapp.campaigns.workflow import check_move, next_phase
from webapp.core.timeutil import beijing_datetime

DEADLINE = beijing_datetime(date(2030, 10, 31), time(23, 59, 59))


def phase_events(session, program):
    return session.scalars(
        select(AuditEvent).where(AuditEvent.action == "program.phase", AuditEvent.object_id == str(program.id))
        .order_by(AuditEvent.id)
    ).all()


def test_deadline_default_is_beijing_2359_utc_1559():
    assert DEADLINE == datetime(2030, 10, 31, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phase", "expected"),
    [(Phase.setup, Phase.open), (Phase.open, Phase.formal_check), (Phase.publicity, Phase.final),
     (Phase.final, Phase.paid), (Phase.paid, None)],
)
def test_next_phase_follows_design_order(phase, expected):
    assert next_phase(phase) == expected


def test_advance_phase_refuses_going_back(ctx, make_program, session):
    program = make_program(phase=Phase.review)
    with pytest.raises(CampaignError) as err:
        advance_phase(program, Phase.open)
    assert err.value.problems == ["阶段只能向前推进：当前为“专家评审”，不能回到“申报中”。"]


def test_advance_phase_refuses_skipping(ctx, make_program):
    program = make_program(phase=Phase.setup)
    with pytest.raises(CampaignError) as err:
        advance_phase(program, Phase.review)
    assert err.value.problems == ["不能跳过阶段：“筹备”之后应为“申报中”。"]


def test_open_refused_when_deadline_passed(ctx, make_program, frozen):
    program = make_program(phase=Phase.setup, deadline=DEADLINE)
    frozen(DEADLINE + timedelta(seconds=1))
    decision = check_move(program, Phase.open, DEADLINE + timedelta(seconds=1))
    assert not decision.allowed
    assert "已过" in decision.reason


def test_open_allowed_before_deadline_and_audited(ctx, make_program, frozen, session):
    program = make_program(phase=Phase.setup, deadline=DEADLINE)
    frozen(DEADLINE - timedelta(days=30))
    advance_phase(program, Phase.open, reason="开放申报")
    assert program.phase == Phase.open
    events = phase_events(session, program)
    assert [(e.detail_data["from"], e.detail_data["to"], e.result.value) for e in events] == [
        ("setup", "open", "ok")]


def test_refused_move_is_audited_as_denied(ctx, make_program, frozen, session):
    program = make_program(phase=Phase.open, deadline=DEADLINE)
    frozen(DEADLINE - timedelta(seconds=1))
    with pytest.raises(CampaignError):
        advance_phase(program, Phase.formal_check)
    assert [e.result.value for e in phase_events(session, program)] == ["denied"]


@pytest.mark.parametrize(("offset", "moved"), [(timedelta(seconds=-1), False), (timedelta(0), False),
                                                 (timedelta(microseconds=999999), False),
                                                 (timedelta(seconds=1), True), (timedelta(days=3), True)])
def test_deadline_moves_open_to_formal_check_by_itself(ctx, make_program, frozen, offset, moved):
    program = make_program(phase=Phase.open, deadline=DEADLINE)
    frozen(DEADLINE + offset)
    assert apply_due_transitions(program) is moved
    assert program.phase == (Phase.formal_check if moved else Phase.open)


def test_deadline_move_recorded_as_system_with_effective_time(ctx, make_program, frozen, session):
    program = make_program(phase=Phase.open, deadline=DEADLINE)
    frozen(DEADLINE + timedelta(hours=5))
    apply_due_transitions(program)
    (event,) = phase_events(session, program)
    assert event.actor_name == "系统"
    assert event.detail_data["effective_at"] == "2030-10-31 23:59:59"


def test_update_program_locked_after_setup(ctx, make_program):
    program = make_program(phase=Phase.open)
    with pytest.raises(CampaignError) as err:
        update_program(program, rubric_file=program.rubric_file, submission_deadline=DEADLINE, budget=None)
    assert err.value.problems == ["项目已进入“申报中”阶段，设置已锁定。"]


def test_add_program_refuses_rubric_of_other_kind(ctx, make_program):
    from webapp.campaigns.operations import add_program

    program = make_program(ProgramKind.post_subsidy)
    with pytest.raises(CampaignError) as err:
        add_program(program.campaign, kind=ProgramKind.pilot, rubric_file="cast-2014-post-subsidy.toml",
                    submission_deadline=DEADLINE)
    assert "与项目类型“试点示范”不符" in err.value.problems[0]


def test_program_stores_rubric_snapshot_with_hash(ctx, make_program, app):
    import hashlib
    from pathlib import Path

    program = make_program()
    text = (Path(app.config["CRITERIA_DIR"]) / "cast-2014-post-subsidy.toml").read_text(encoding="utf-8")
    assert program.rubric_toml == text
    assert program.rubric_sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_database_refuses_two_programs_of_one_kind(ctx, make_program, session):
    from sqlalchemy.exc import IntegrityError

    program = make_program()
    duplicate = Program(campaign_id=program.campaign_id, kind=ProgramKind.post_subsidy, phase=Phase.setup,
                        rubric_file="x.toml", rubric_id="x", rubric_toml="", rubric_sha256="0" * 64,
                        submission_deadline=DEADLINE, phase_changed_at=DEADLINE)
    session.add(duplicate)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_office_creates_campaign_through_form(client, make_user, login, session):
    login(make_user(Role.office))
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert 'value="2026-10-31"' in page  # deadline defaults to 31 October of the current year
    response = client.post("/campaigns/new", data={
        "csrf_token": csrf_token(page), "year": "2031", "title": "2031年度评审",
        "corps_conflicts_with_xinjiang": "y",
        "ps-rubric_file": "cast-2014-post-subsidy.toml", "ps-deadline_date": "2031-10-31",
        "ps-deadline_time": "23:59:59", "ps-budget": "1500000",
        "with_pilot": "y", "pilot-rubric_file": "cast-2014-pilot.toml", "pilot-deadline_date": "2031-07-31",
        "pilot-deadline_time": "23:59:59", "pilot-budget": "",
    })
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign).where(Campaign.year == 2031))
    kinds = sorted(p.kind.value for p in campaign.programs)
    assert kinds == ["pilot", "post_subsidy"]
    post = campaign.program(ProgramKind.post_subsidy)
    assert post.submission_deadline == datetime(2031, 10, 31, 15, 59, 59, tzinfo=UTC)
    assert str(post.budget) == "1500000.00"


def test_office_campaign_form_duplicate_year_explained_and_nothing_saved(client, make_user, login, session,
                                                                         make_program):
    existing = make_program()
    login(make_user(Role.office))
    page = client.get("/campaigns/new").get_data(as_text=True)
    response = client.post("/campaigns/new", data={
        "csrf_token": csrf_token(page), "year": str(existing.campaign.year), "title": "重复",
        "ps-rubric_file": "cast-2014-post-subsidy.toml", "ps-deadline_date": "2031-10-31",
        "ps-deadline_time": "23:59:59",
    })
    assert response.status_code == 200
    assert f"{existing.campaign.year} 年度的评审活动已存在" in response.get_data(as_text=True)
    assert session.scalar(select(Campaign).where(Campaign.title == "重复")) is None


def test_campaign_page_shows_why_move_refused(client, make_user, login, make_program, frozen):
    program = make_program(phase=Phase.open, deadline=DEADLINE)
    frozen(DEADLINE - timedelta(days=1))
    login(make_user(Role.office))
    body = client.get(f"/campaigns/{program.campaign_id}").get_data(as_text=True)
    assert "目前不能推进：" in body
    assert "截止前不能结束申报" in body


def test_advance_through_page_moves_and_flashes(client, make_user, login, make_program, frozen, session):
    program = make_program(phase=Phase.setup, deadline=DEADLINE)
    frozen(DEADLINE - timedelta(days=10))
    login(make_user(Role.office))
    page = client.get(f"/campaigns/{program.campaign_id}").get_data(as_text=True)
    response = client.post(f"/programs/{program.id}/advance",
                           data={"csrf_token": csrf_token(page), "target": "open", "note": "开放"},
                           follow_redirects=True)
    assert "已进入“申报中”阶段" in response.get_data(as_text=True)
    assert session.get(Program, program.id).phase == Phase.open


def test_finance_cannot_advance_phase(client, make_user, login, make_program):
    program = make_program(phase=Phase.setup)
    login(make_user(Role.finance))
    page = client.get(f"/campaigns/{program.campaign_id}").get_data(as_text=True)
    response = client.post(f"/programs/{program.id}/advance", data={"csrf_token": csrf_token(page),
                                                                     "target": "open"})
    assert response.status_code == 403
    assert "此功能仅限业务处室使用。" in response.get_data(as_text=True)


@pytest.mark.parametrize("phase", [Phase.panel, Phase.publicity, Phase.final])
def test_generic_advance_refuses_moves_that_have_their_own_operation(client, make_user, login, make_program, session,
                                                                      phase):
    program = make_program(phase=phase)
    login(make_user(Role.office))
    page = client.get(f"/campaigns/{program.campaign_id}").get_data(as_text=True)
    target = next_phase(phase).value
    response = client.post(f"/programs/{program.id}/advance",
                           data={"csrf_token": csrf_token(page), "target": target}, follow_redirects=True)
    assert session.get(Program, program.id).phase == phase
    assert "公示" in response.get_data(as_text=True) or "拨付" in response.get_data(as_text=True)
