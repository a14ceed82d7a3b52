"""Publicity (§2): at least 5 Chinese working days, real-name objections within the period, a register
that keeps every version, re-publicity after an upheld change, and the final guard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.webapp.results_helpers import build_scored_program
from webapp.auth.models import Role
from webapp.campaigns.models import Phase, Program
from webapp.core.timeutil import beijing_datetime
from webapp.publicity.models import Objection, PublicityRound, RegisterEntry
from webapp.publicity.operations import plan_period
from webapp.results.models import Decision, DecisionKind

# 2025 is a year the calendar knows; 20 November 2025 is a Thursday.
AT = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
CONTACT = "中国科协计划财务部，电话 010-68571894，北京市海淀区复兴路3号"


@pytest.mark.parametrize(
    ("start", "end", "known"),
    [
        (date(2024, 9, 27), date(2024, 10, 9), True),  # across National Day (29 Sep is a 调休 working Sunday)
        (date(2024, 9, 30), date(2024, 10, 11), True),
        (date(2025, 1, 24), date(2025, 2, 6), True),  # across Spring Festival (26 Jan works)
        (date(2014, 12, 15), date(2014, 12, 19), True),
        (date(2099, 12, 7), date(2099, 12, 11), False),  # a year the calendar does not know
    ],
)
def test_plan_period_five_chinese_working_days(start, end, known):
    plan = plan_period(start)
    assert (plan.end, plan.known) == (end, known)


def at_bj(d: date, hour: int = 10) -> datetime:
    return beijing_datetime(d, time(hour, 0))


@pytest.fixture(autouse=True)
def _clock(frozen):
    frozen(AT)


@pytest.fixture
def decided(client, login, make_user, session, make_program, unit):
    """A scored program with decisions adopted from a run, office signed in."""
    program, apps, _experts = build_scored_program(session, make_program, make_user, unit, year=2025)
    login(make_user(Role.office))
    _post(client, f"/programs/{program.id}/results/run", {"bootstrap": "100", "seed": "3"},
          page=f"/programs/{program.id}/results")
    _post(client, f"/programs/{program.id}/decisions", {"action": "adopt"})
    return program, apps


def _post(client, path, data, page=None, **kw):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def open_round(client, program, start: date, confirmed_end: str = ""):
    path = f"/programs/{program.id}/publicity"
    return _post(client, path, {"action": "open", "open-start": start.isoformat(), "open-contact": CONTACT,
                                "open-confirmed_end": confirmed_end})


def test_open_publicity_moves_phase_and_sets_period(client, decided, session):
    program, _apps = decided
    response = open_round(client, program, date(2025, 11, 20))
    assert response.status_code == 302
    round_ = session.scalar(select(PublicityRound))
    assert (round_.start_date, round_.end_date, round_.working_days) == (date(2025, 11, 20), date(2025, 11, 26), 5)
    assert session.get(Program, program.id).phase == Phase.publicity


def test_unknown_year_requires_end_date_by_hand(client, decided, session, frozen):
    program, _apps = decided
    frozen(at_bj(date(2099, 12, 1)))
    _relogin_office(client, session)  # the jump in time ended the session
    response = open_round(client, program, date(2099, 12, 7))
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "日历尚未收录 2099 年的法定节假日和调休安排" in body
    assert session.scalar(select(PublicityRound)) is None
    open_round(client, program, date(2099, 12, 7), confirmed_end="2099-12-14")
    round_ = session.scalar(select(PublicityRound))
    assert round_.end_date == date(2099, 12, 14) and round_.end_confirmed_by_hand


def _object(client, program, **fields):
    path = f"/publicity/{program.id}/object"
    data = {"name": "张三", "organisation": "某市科协", "phone": "010-12345678",
            "content": "该单位上报的新建企业科协数量与实际不符，多家企业科协并未开展活动。", "application_id": "0"}
    data.update(fields)
    return _post(client, path, data)


def test_public_page_lists_proposed_units_without_login(client, decided, session):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    client.delete_cookie("kexie_session")
    body = client.get("/publicity").get_data(as_text=True)
    funded = session.scalars(select(Decision).where(Decision.superseded_at.is_(None),
                                                    Decision.kind == DecisionKind.post_subsidy)).all()
    for decision in funded:
        assert decision.application.unit.name in body
    assert "2025-11-20 至 2025-11-26" in body and CONTACT in body


def test_objection_gets_receipt_and_is_registered(client, decided, session):
    program, apps = decided
    open_round(client, program, date(2025, 11, 20))
    client.delete_cookie("kexie_session")
    response = _object(client, program)
    body = response.get_data(as_text=True)
    objection = session.scalar(select(Objection))
    assert objection.receipt_no in body and objection.name == "张三"


def test_anonymous_objection_refused(client, decided, session):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    client.delete_cookie("kexie_session")
    body = _object(client, program, name="", phone="").get_data(as_text=True)
    assert "异议须实名提出" in body
    assert session.scalar(select(Objection)) is None


def test_late_objection_refused_with_reason(client, decided, session, frozen):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    client.delete_cookie("kexie_session")
    frozen(at_bj(date(2025, 11, 27), 9))
    body = _object(client, program).get_data(as_text=True)
    assert "公示期已于 2025-11-26 结束，逾期提出的异议不予受理。" in body
    assert session.scalar(select(Objection)) is None


def _relogin_office(client, session):
    from webapp.auth.models import User

    office = session.scalar(select(User).where(User.role == Role.office))
    client.delete_cookie("kexie_session")
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": office.username, "password": "Test-Passw0rd!",
                                "csrf_token": csrf_token(page)})


def _entry(client, program, objection, **fields):
    data = {"entry-investigation": "已电话核实", "entry-conclusion": "pending", "entry-reply": "",
            "entry-concluded_on": "", "entry-replied_on": ""}
    data.update(fields)
    return _post(client, f"/objections/{objection.id}/entries", data, page=f"/programs/{program.id}/publicity")


def test_register_keeps_every_version(client, decided, session):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    _object(client, program)
    objection = session.scalar(select(Objection))
    _entry(client, program, objection)
    _entry(client, program, objection, **{"entry-conclusion": "not_upheld", "entry-reply": "经核查，数据属实。",
                                          "entry-concluded_on": "2025-11-24"})
    entries = session.scalars(select(RegisterEntry).order_by(RegisterEntry.version)).all()
    assert [(e.version, e.conclusion.value) for e in entries] == [(1, "pending"), (2, "not_upheld")]
    assert entries[0].investigation == "已电话核实"


def test_conclusion_without_reply_refused(client, decided, session):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    _object(client, program)
    objection = session.scalar(select(Objection))
    response = _entry(client, program, objection, **{"entry-conclusion": "upheld"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "作出结论时须填写答复内容。" in body and "作出结论时须填写结论日期。" in body


def _finalise(client, program):
    return _post(client, f"/programs/{program.id}/publicity", {"action": "finalise"})


def test_final_refused_during_period_and_with_open_objection(client, decided, session, frozen):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    _object(client, program)
    body = client.get(_finalise(client, program).headers["Location"]).get_data(as_text=True)
    assert "第 1 轮公示至 2025-11-26 结束，期满后方可定案。" in body
    frozen(at_bj(date(2025, 11, 27), 9))
    _relogin_office(client, session)
    body = client.get(_finalise(client, program).headers["Location"]).get_data(as_text=True)
    assert "还有 1 件异议没有结论" in body
    objection = session.scalar(select(Objection))
    _entry(client, program, objection, **{"entry-conclusion": "not_upheld", "entry-reply": "经核查，数据属实。",
                                          "entry-concluded_on": "2025-11-27"})
    _finalise(client, program)
    assert session.get(Program, program.id).phase == Phase.final


def test_upheld_change_needs_new_round_before_final(client, decided, session, frozen):
    program, apps = decided
    open_round(client, program, date(2025, 11, 20))
    funded = session.scalar(select(Decision).where(Decision.superseded_at.is_(None),
                                                   Decision.kind == DecisionKind.post_subsidy))
    _object(client, program, application_id=str(funded.application_id))
    objection = session.scalar(select(Objection))
    frozen(at_bj(date(2025, 11, 27), 9))
    _relogin_office(client, session)
    _entry(client, program, objection, **{"entry-conclusion": "upheld", "entry-reply": "经核查，异议属实，取消资助。",
                                          "entry-concluded_on": "2025-11-27", "new_kind": "none"})
    current = session.scalar(select(Decision).where(Decision.application_id == funded.application_id,
                                                    Decision.superseded_at.is_(None)))
    assert current.kind == DecisionKind.none and current.objection_id == objection.id
    body = client.get(_finalise(client, program).headers["Location"]).get_data(as_text=True)
    assert "须就变更部分重新公示" in body
    open_round(client, program, date(2025, 11, 27))
    second = session.scalar(select(PublicityRound).where(PublicityRound.number == 2))
    assert second.scope == f"[{funded.application_id}]"
    frozen(at_bj(date(2025, 12, 4), 9))
    _relogin_office(client, session)
    _finalise(client, program)
    assert session.get(Program, program.id).phase == Phase.final


def test_final_freezes_decisions(client, decided, session, frozen):
    program, _apps = decided
    open_round(client, program, date(2025, 11, 20))
    frozen(at_bj(date(2025, 11, 27), 9))
    _relogin_office(client, session)
    _finalise(client, program)
    target = session.scalar(select(Decision).where(Decision.superseded_at.is_(None)))
    response = _post(client, f"/programs/{program.id}/decisions", {
        "action": "change", "application_id": str(target.application_id), "kind": "criticism", "reason": "x"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "决定不能修改" in body
    assert session.get(Decision, target.id).superseded_at is None


def test_objection_outside_publicity_phase_is_404(client, decided):
    program, _apps = decided
    client.delete_cookie("kexie_session")
    assert client.get(f"/publicity/{program.id}/object").status_code == 404


