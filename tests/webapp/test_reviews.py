"""Expert review (§4): conflicts enforced everywhere, assignment, score form, lock and reopen, progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.webapp.portal_helpers import pdf_bytes
from webapp.applications.models import Application, ApplicationStatus, Attachment, AttachmentPurpose
from webapp.applications.uploads import store_upload
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.reviews.models import Assignment, AssignmentStatus, Message, Score

AT = datetime(2030, 11, 10, 2, 0, tzinfo=UTC)
UNITS = ["110000", "210000", "210200", "440300", "650000", "660000"]  # Beijing, Liaoning, Dalian, Shenzhen, XJ, 兵团
GOOD = {"score_leadership": "13.5", "score_planning": "12", "score_quality": "8", "score_services": "10",
        "score_timeliness": "7"}
OPINION = "组织领导有力，发展规划清晰，企业科协覆盖面扩大明显，建议给予支持。"


@pytest.fixture
def panel(app, session, make_program, make_user, unit, frozen):
    """A post-subsidy program in review with six passed applications (one PDF each) and four experts."""
    frozen(AT)
    program = make_program(ProgramKind.post_subsidy, phase=Phase.review, year=2030,
                           deadline=datetime(2030, 10, 31, 15, 59, 59, tzinfo=UTC))
    apps = {}
    for code in UNITS:
        application = Application(program_id=program.id, unit=unit(code), status=ApplicationStatus.passed,
                                  created_at=AT, updated_at=AT, submitted_at=AT)
        stored = store_upload(io.BytesIO(pdf_bytes(code)), f"{code}.pdf", upload_dir=Path(app.config["UPLOAD_DIR"]),
                              max_bytes=10**6)
        session.add(Attachment(application=application, purpose=AttachmentPurpose.evidence, criterion="leadership",
                               title=f"{code} 材料", original_name=f"{code}.pdf", sha256=stored.sha256,
                               size=stored.size, kind="pdf", mime="application/pdf", uploaded_at=AT))
        session.add(application)
        apps[code] = application
    session.commit()
    experts = {
        "beijing": make_user(Role.expert, username="e_beijing", region="110000"),
        "dalian": make_user(Role.expert, username="e_dalian", region="210200"),
        "guangdong": make_user(Role.expert, username="e_guangdong", region="440000"),
        "xinjiang": make_user(Role.expert, username="e_xinjiang", region="650000"),
    }
    return {"program": program, "apps": apps, "experts": experts}


def office_post(client, login, make_user, path, data, page=None):
    login(make_user(Role.office))
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def assign_full(client, login, make_user, program):
    path = f"/programs/{program.id}/panel"
    response = office_post(client, login, make_user, path, {"action": "assign", "assign-mode": "full"})
    assert response.status_code == 302


def assignment_of(session, panel, expert, code):
    return session.scalar(select(Assignment).where(
        Assignment.expert_id == panel["experts"][expert].id,
        Assignment.application_id == panel["apps"][code].id))


def test_full_panel_skips_every_conflict(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    pairs = {(a.expert.username, a.application.unit.code)
             for a in session.scalars(select(Assignment)).all()}
    assert ("e_beijing", "110000") not in pairs
    assert ("e_dalian", "210000") not in pairs and ("e_dalian", "210200") not in pairs  # city ↔ its province
    assert ("e_guangdong", "440300") not in pairs  # Shenzhen is a city of Guangdong
    assert ("e_xinjiang", "650000") not in pairs and ("e_xinjiang", "660000") not in pairs  # 兵团 setting on
    assert ("e_beijing", "210200") in pairs
    assert len(pairs) == 4 * 6 - 1 - 2 - 1 - 2


def test_k_per_application_balanced(client, login, make_user, panel, session):
    path = f"/programs/{panel['program'].id}/panel"
    office_post(client, login, make_user, path, {"action": "assign", "assign-mode": "k", "assign-k": "2"})
    loads = session.execute(select(Assignment.expert_id, func.count()).group_by(Assignment.expert_id)).all()
    assert sorted(n for _, n in loads) == [3, 3, 3, 3]
    per_app = session.execute(select(Assignment.application_id, func.count()).group_by(Assignment.application_id)).all()
    assert {n for _, n in per_app} == {2}


def test_k_per_application_impossible_explained(client, login, make_user, panel, session):
    path = f"/programs/{panel['program'].id}/panel"
    response = office_post(client, login, make_user, path, {"action": "assign", "assign-mode": "k", "assign-k": "4"})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "回避后专家不足：每份需要 4 位" in body
    assert session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_manual_assignment_of_conflicted_expert_refused(client, login, make_user, panel, session):
    path = f"/programs/{panel['program'].id}/panel"
    response = office_post(client, login, make_user, path, {
        "action": "add", "manual-application_id": str(panel["apps"]["210200"].id),
        "manual-expert_id": str(panel["experts"]["dalian"].id)})
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "不能评审大连市科学技术协会：专家与申报单位属同一地区。" in body


@pytest.mark.parametrize("code", ["210000", "210200"])
def test_conflicted_expert_gets_404_even_guessing_urls(client, login, make_user, panel, session, code):
    # Force a conflicted assignment into the database (as if a region changed later): still never shown.
    application = panel["apps"][code]
    expert = panel["experts"]["dalian"]
    assignment = Assignment(application_id=application.id, expert_id=expert.id, status=AssignmentStatus.assigned,
                            created_at=AT, updated_at=AT)
    session.add(assignment)
    session.commit()
    attachment = session.scalar(select(Attachment).where(Attachment.application_id == application.id))
    login(expert)
    assert client.get(f"/reviews/{assignment.id}").status_code == 404
    with client.get(f"/reviews/{assignment.id}/files/{attachment.id}") as response:
        assert response.status_code == 404
    assert "大连市科学技术协会" not in client.get("/reviews").get_data(as_text=True)
    assert client.get(f"/applications/{application.id}").status_code == 403


def test_unassigned_expert_gets_404(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    other = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["guangdong"])
    assert client.get(f"/reviews/{other.id}").status_code == 404


def _score(client, assignment_id, data, action):
    path = f"/reviews/{assignment_id}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "action": action, **data})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("score_leadership", "15.5", "“组织领导”的分数应在 0 到 15 之间，您填写的是 15.5。"),
        ("score_leadership", "-1", "“组织领导”的分数应在 0 到 15 之间，您填写的是 -1。"),
        ("score_leadership", "13.3", "“组织领导”的分数须为 0.5 的整数倍"),
        ("score_leadership", "十", "“组织领导”应填写数字，“十”不是数字。"),
    ],
)
def test_score_validation_refuses_and_saves_nothing(client, login, make_user, panel, session, field, value, message):
    assign_full(client, login, make_user, panel["program"])
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    response = _score(client, assignment.id, {**GOOD, field: value, "opinion": OPINION}, "save")
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Score)) == 0


def test_submit_requires_every_criterion_and_opinion(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    body = _score(client, assignment.id, {"score_leadership": "10", "opinion": "太短"}, "submit").get_data(as_text=True)
    assert "“规划部署”未评分。" in body
    assert "评审意见至少 20 字（当前 2 字）。" in body
    assert session.get(Assignment, assignment.id).status == AssignmentStatus.assigned


def test_draft_then_submit_locks_and_one_row_per_criterion(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    assert _score(client, assignment.id, {"score_leadership": "10", "opinion": ""}, "save").status_code == 302
    assert _score(client, assignment.id, {**GOOD, "opinion": OPINION}, "submit").status_code == 302
    rows = session.scalars(select(Score).where(Score.assignment_id == assignment.id)).all()
    assert sorted((r.criterion, r.score) for r in rows) == sorted(
        (k.removeprefix("score_"), Decimal(v)) for k, v in GOOD.items())
    page = client.get(f"/reviews/{assignment.id}").get_data(as_text=True)
    assert "评分已提交并锁定；如需修改，请联系业务处室退回。" in page
    assert _score(client, assignment.id, {**GOOD, "score_leadership": "1", "opinion": OPINION},
                  "submit").status_code == 403
    assert session.scalar(select(Score.score).where(Score.assignment_id == assignment.id,
                                                    Score.criterion == "leadership")) == Decimal("13.5")
    assert "已完成 1 / 5" in client.get("/reviews").get_data(as_text=True)


def test_office_reopens_with_reason_and_expert_is_told(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    _score(client, assignment.id, {**GOOD, "opinion": OPINION}, "submit")
    path = f"/assignments/{assignment.id}/reopen"
    page = f"/programs/{panel['program'].id}/panel"
    empty = office_post(client, login, make_user, path, {"reason": ""}, page=page)
    assert session.get(Assignment, assignment.id).status == AssignmentStatus.submitted
    assert empty.status_code == 302
    office_post(client, login, make_user, path, {"reason": "领导分项评分与意见不一致"}, page=page)
    assert session.get(Assignment, assignment.id).status == AssignmentStatus.assigned
    message = session.scalar(select(Message).where(Message.recipient_id == panel["experts"]["beijing"].id))
    assert "领导分项评分与意见不一致" in message.body


def test_expert_never_sees_other_experts_scores(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    first = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    _score(client, first.id, {**GOOD, "opinion": "北京专家的独特意见：组织覆盖成绩突出，规划具体可行。"}, "submit")
    second = assignment_of(session, panel, "guangdong", "210200")
    login(panel["experts"]["guangdong"])
    page = client.get(f"/reviews/{second.id}").get_data(as_text=True)
    assert "北京专家的独特意见" not in page and "13.5" not in page


def test_declare_conflict_ends_assignment_and_tells_office(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    office = make_user(Role.office, username="office_watch")
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    path = f"/reviews/{assignment.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    client.post(f"{path}/declare", data={"csrf_token": token, "reason": "本人曾在大连市科协挂职"})
    assert session.get(Assignment, assignment.id).status == AssignmentStatus.declined
    assert client.get(path).status_code == 404
    note = session.scalar(select(Message).where(Message.recipient_id == office.id))
    assert "本人曾在大连市科协挂职" in note.body


def test_unit_exclusion_request_accepted_removes_assignment(client, login, make_user, panel, session, frozen):
    program = panel["program"]
    application = panel["apps"]["210200"]
    session.get(Program, program.id).phase = Phase.open
    session.get(Application, application.id).status = ApplicationStatus.draft
    session.commit()
    frozen(datetime(2030, 10, 1, tzinfo=UTC))
    login(make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.leader))
    path = f"/applications/{application.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    assert client.post(f"{path}/exclusions", data={"csrf_token": token, "expert_name": "某专家",
                                                   "affiliation": "北京某大学", "reason": "曾为本单位顾问"}).status_code == 302
    frozen(AT)
    session.get(Program, program.id).phase = Phase.review
    session.get(Application, application.id).status = ApplicationStatus.passed
    session.commit()
    assign_full(client, login, make_user, program)
    from webapp.reviews.models import ExclusionRequest

    request = session.scalar(select(ExclusionRequest))
    page = f"/programs/{program.id}/panel"
    office_post(client, login, make_user, f"/exclusions/{request.id}/decide",
                {"action": "accept", "excl-expert_id": str(panel["experts"]["beijing"].id), "excl-note": ""}, page=page)
    assert session.get(ExclusionRequest, request.id).status.value == "accepted"
    assert assignment_of(session, panel, "beijing", "210200").status == AssignmentStatus.removed
    login(panel["experts"]["beijing"])
    assert "大连市科学技术协会" not in client.get("/reviews").get_data(as_text=True)


def test_reminder_reaches_experts_with_pending_reviews(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    page = f"/programs/{panel['program'].id}/panel"
    office_post(client, login, make_user, page, {"action": "remind"})
    assert session.scalar(select(func.count()).select_from(Message)) == 4
    login(panel["experts"]["dalian"])
    assert "您还有 4 份申报尚未提交评分" in client.get("/reviews").get_data(as_text=True)


def test_score_sheet_lists_every_applicant_with_signature_line(client, login, make_user, panel, session):
    assign_full(client, login, make_user, panel["program"])
    assignment = assignment_of(session, panel, "beijing", "210200")
    login(panel["experts"]["beijing"])
    _score(client, assignment.id, {**GOOD, "opinion": OPINION}, "submit")
    sheet = client.get("/reviews/sheet").get_data(as_text=True)
    assert "专家签名" in sheet and OPINION in sheet
    for name in ("辽宁省科学技术协会", "大连市科学技术协会", "深圳市科学技术协会"):
        assert name in sheet
    assert "北京市科学技术协会" not in sheet


def test_panel_phase_waits_for_every_review(app, client, login, make_user, panel, session):
    from webapp.campaigns.workflow import check_move

    assign_full(client, login, make_user, panel["program"])
    with app.test_request_context():
        decision = check_move(session.get(Program, panel["program"].id), Phase.panel, AT)
    assert decision.reason == "还有 18 份评审未提交，全部提交后才能进入结果会商。"


def test_scores_table_refuses_second_row_for_criterion(ctx, panel, session, make_user):
    from sqlalchemy.exc import IntegrityError

    assignment = Assignment(application_id=panel["apps"]["110000"].id, expert_id=panel["experts"]["dalian"].id,
                            status=AssignmentStatus.assigned, created_at=AT, updated_at=AT)
    session.add_all([assignment, Score(assignment=assignment, criterion="leadership", score=Decimal(1))])
    session.flush()
    session.add(Score(assignment=assignment, criterion="leadership", score=Decimal(2)))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
