"""Results runs, decisions, money (§5): stored snapshots equal the engine, proposals within the budget,
overrides need a reason, the what-if saves nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from scoring.allocate import allocate
from scoring.engine import rank_applications
from scoring.io import dumps_json
from tests.conftest import csrf_token
from tests.webapp.results_helpers import AT, build_scored_program
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.results.models import Decision, DecisionKind, ResultRun
from webapp.reviews.models import Score


@pytest.fixture(autouse=True)
def _clock(frozen):
    """Every test of this module runs on 20 November 2030 (before anyone signs in)."""
    frozen(AT)


@pytest.fixture
def scored(session, make_program, make_user, unit):
    return build_scored_program(session, make_program, make_user, unit)


@pytest.fixture
def office(client, login, make_user):
    user = make_user(Role.office)
    login(user)
    return user


def _post(client, path, data, page=None):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def run_once(client, program, seed=11, bootstrap=200):
    response = _post(client, f"/programs/{program.id}/results/run", {"bootstrap": str(bootstrap), "seed": str(seed)},
                     page=f"/programs/{program.id}/results")
    assert response.status_code == 302


def test_run_stores_inputs_and_engine_output_exactly(client, office, scored, session):
    program, apps, _experts = scored
    run_once(client, program)
    run = session.scalar(select(ResultRun))
    inputs = run.inputs_data()
    assert len(inputs["scores"]) == 12 * 7 * 5
    rubric = rubric_of(session.get(Program, program.id))
    again = rank_applications(rubric, [tuple(r) for r in inputs["scores"]], [tuple(r) for r in inputs["indicators"]],
                              [tuple(r) for r in inputs["applications"]], bootstrap=200, seed=11, budget=1500000)
    assert run.result == dumps_json(again.to_json())
    assert run.awards == dumps_json(allocate(rubric, again, budget=1500000).to_json())


def test_results_page_shows_the_stored_numbers(client, office, scored, session):
    program, _apps, _experts = scored
    run_once(client, program)
    run = session.scalar(select(ResultRun))
    body = client.get(f"/programs/{program.id}/results").get_data(as_text=True)
    for row in run.result_data()["applications"]:
        assert f"<strong>{row['total']}</strong>" in body
    assert "专家组信度" in body and "ICC(A,1)" in body and "<svg" in body


def test_page_keeps_old_numbers_and_warns_when_inputs_change(client, office, scored, session):
    program, _apps, _experts = scored
    run_once(client, program)
    before = session.scalar(select(ResultRun)).result
    score = session.scalar(select(Score).order_by(Score.id).limit(1))
    score.score = Decimal(0) if score.score else Decimal("0.5")
    session.commit()
    body = client.get(f"/programs/{program.id}/results").get_data(as_text=True)
    assert "评分或数据有变化" in body
    assert session.scalar(select(ResultRun)).result == before


def test_explain_page_shows_retained_and_dropped_reviews(client, office, scored, session):
    program, apps, _experts = scored
    run_once(client, program)
    run = session.scalar(select(ResultRun))
    row = run.result_data()["applications"][0]
    body = client.get(f"/programs/{program.id}/results/{run.number}/{row['application']}").get_data(as_text=True)
    assert body.count(">去掉<") == 2  # trimmed mean with 7 reviews drops the lowest and the highest
    assert body.count(">采用<") == 5
    assert "各项得分与满分" in body and body.count('class="score"') == len(row["criteria"])


def adopt(client, program):
    return _post(client, f"/programs/{program.id}/decisions", {"action": "adopt"})


def test_adopted_proposals_follow_allocation_and_stay_in_budget(client, office, scored, session):
    program, _apps, _experts = scored
    run_once(client, program)
    adopt(client, program)
    run = session.scalar(select(ResultRun))
    awards = {a["application"]: Decimal(str(a["amount"])) for a in run.awards_data()["awards"]}
    decisions = session.scalars(select(Decision).where(Decision.superseded_at.is_(None))).all()
    funded = {d.application.unit.code: d.amount for d in decisions if d.kind == DecisionKind.post_subsidy}
    assert funded == awards
    assert sum(funded.values()) <= Decimal("1500000")
    assert all(Decimal(100000) <= a <= Decimal(150000) and a % 10000 == 0 for a in funded.values())


def _change(client, program, application, kind, amount="", reason=""):
    return _post(client, f"/programs/{program.id}/decisions", {
        "action": "change", "application_id": str(application.id), "kind": kind, "amount": amount,
        "reason": reason})


def test_override_without_reason_refused(client, office, scored, session):
    program, apps, _experts = scored
    run_once(client, program)
    adopt(client, program)
    target = next(d for d in session.scalars(select(Decision)) if d.kind == DecisionKind.none)
    response = _change(client, program, target.application, "commendation")
    assert "与资助建议不同的决定必须写明理由。" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert session.get(Decision, target.id).superseded_at is None


def test_override_with_reason_keeps_history(client, office, scored, session):
    program, apps, _experts = scored
    run_once(client, program)
    adopt(client, program)
    target = next(d for d in session.scalars(select(Decision)) if d.kind == DecisionKind.none)
    _change(client, program, target.application, "criticism", reason="名册核查发现多家企业科协名存实亡")
    rows = session.scalars(select(Decision).where(Decision.application_id == target.application_id)
                           .order_by(Decision.id)).all()
    assert [r.kind for r in rows] == [DecisionKind.none, DecisionKind.criticism]
    assert rows[0].superseded_at is not None and rows[1].superseded_at is None
    assert rows[1].reason == "名册核查发现多家企业科协名存实亡"


def test_override_that_breaks_budget_refused(client, office, scored, session):
    program, apps, _experts = scored
    session.get(Program, program.id).budget = Decimal("400000")
    session.commit()
    run_once(client, program)
    adopt(client, program)
    target = next(d for d in session.scalars(select(Decision)) if d.kind == DecisionKind.none)
    response = _change(client, program, target.application, "post_subsidy", amount="150000", reason="补充支持")
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "超过预算 400,000 元" in body
    total = sum(d.amount or 0 for d in session.scalars(select(Decision).where(Decision.superseded_at.is_(None))))
    assert total <= Decimal("400000")


def test_what_if_changes_nothing(client, office, scored, session):
    program, _apps, _experts = scored
    run_once(client, program)
    adopt(client, program)
    before = session.scalar(select(func.count()).select_from(Decision))
    body = client.get(f"/programs/{program.id}/decisions?whatif=1&count=3&budget=450000").get_data(as_text=True)
    assert 'id="whatif"' in body
    rubric = rubric_of(session.get(Program, program.id))
    expected = allocate(rubric, json.loads(session.scalar(select(ResultRun)).result), budget=450000, count=3)
    assert f"合计 {expected.total_amount:,}.00 元" in body or f"{expected.total_amount:,}" in body
    assert session.scalar(select(func.count()).select_from(Decision)) == before


def test_pilot_proposal_needs_matching_funds(client, office, make_program, make_user, unit, session, frozen):
    frozen(AT)
    program, apps, _experts = build_scored_program(session, make_program, make_user, unit, kind=ProgramKind.pilot,
                                                   year=2031, budget=Decimal("1000000"))
    run_once(client, program)
    adopt(client, program)
    for decision in session.scalars(select(Decision).where(Decision.superseded_at.is_(None))):
        matching = decision.application.figure_values().get("matching_funds") or 0
        if decision.kind == DecisionKind.pilot:
            assert matching > 0 and decision.amount == Decimal(200000)


def test_pilot_unit_not_also_post_subsidised(client, office, make_program, make_user, unit, session, frozen):
    frozen(AT)
    post, _apps, _e = build_scored_program(session, make_program, make_user, unit, year=2032)
    pilot, _apps2, _e2 = build_scored_program(session, make_program, make_user, unit, kind=ProgramKind.pilot,
                                              year=2033, budget=Decimal("1000000"), seed=8)
    # Same campaign for both programs: move the pilot program under the post-subsidy campaign.
    session.get(Program, pilot.id).campaign_id = post.campaign_id
    session.commit()
    run_once(client, pilot)
    adopt(client, pilot)
    pilot_units = {d.application.unit_id for d in session.scalars(select(Decision).where(
        Decision.superseded_at.is_(None), Decision.kind == DecisionKind.pilot))}
    assert pilot_units
    run_once(client, post)
    adopt(client, post)
    for decision in session.scalars(select(Decision).where(Decision.superseded_at.is_(None))):
        if decision.application.program_id == post.id and decision.application.unit_id in pilot_units:
            assert decision.kind == DecisionKind.none


def test_publicity_needs_decisions_on_current_results(app, client, office, scored, session):
    from webapp.campaigns.workflow import check_move

    program, _apps, _experts = scored
    with app.test_request_context():
        assert check_move(session.get(Program, program.id), Phase.publicity, AT).reason == "尚未运行评审结果。"
    run_once(client, program)
    with app.test_request_context():
        reason = check_move(session.get(Program, program.id), Phase.publicity, AT).reason
    assert reason.startswith("还有 12 个单位没有决定")
    adopt(client, program)
    with app.test_request_context():
        assert check_move(session.get(Program, program.id), Phase.publicity, AT).allowed


def test_unit_sees_outcome_only_after_final(client, login, make_user, scored, session):
    program, apps, _experts = scored
    login(make_user(Role.office))
    run_once(client, program)
    adopt(client, program)
    application = apps[0]
    login(make_user(Role.applicant, unit_code=application.unit.code, applicant_role=ApplicantRole.leader))
    body = client.get(f"/applications/{application.id}/outcome").get_data(as_text=True)
    assert "评审结果在定案后公布。" in body
    session.get(Program, program.id).phase = Phase.final
    session.commit()
    body = client.get(f"/applications/{application.id}/outcome").get_data(as_text=True)
    decision = session.scalar(select(Decision).where(Decision.application_id == application.id,
                                                     Decision.superseded_at.is_(None)))
    assert f'id="outcome-kind">{decision.kind.label}<' in body
    other = apps[1]
    assert client.get(f"/applications/{other.id}/outcome").status_code == 404


def test_chance_of_funding_uses_the_program_budget(client, office, scored, session):
    program, _apps, _experts = scored
    session.get(Program, program.id).budget = Decimal("300000")  # two or three awards instead of ten
    session.commit()
    run_once(client, program, bootstrap=100)
    run = session.scalar(select(ResultRun))
    cutoff = run.extras_data()["cutoff_rank"]
    assert cutoff is not None and cutoff <= 3
    rows = run.result_data()["applications"]
    # Each replicate funds about as many as the budget allows, so the shares add up to about that number
    # (with the rubric's 1,500,000 they would add up to about ten).
    assert sum(r["p_funded"] for r in rows) <= cutoff + 1


def test_run_is_not_stale_when_budget_only_changes_scale(app, scored, session):
    from webapp.results.operations import fingerprint

    assert fingerprint({}, "x" * 64, Decimal("1500000")) == fingerprint({}, "x" * 64, Decimal("1500000.00"))
