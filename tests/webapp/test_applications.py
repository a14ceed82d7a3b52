"""Applicant portal (§3) and formal check (§2): figures, files, roster, submission, deadline, isolation."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scoring.indicators import formula_scores
from tests.conftest import csrf_token
from tests.webapp.portal_helpers import FIGURES, pdf_bytes, png_bytes, roster_xlsx, three_rows
from webapp.applications.models import Application, ApplicationStatus, Attachment, Receipt, RosterEntry
from webapp.applications.operations import delete_attachment
from webapp.audit.models import AuditEvent
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of

# The programs of these tests close at 2030-10-31 23:59:59 Beijing time.
DEADLINE = datetime(2030, 10, 31, 15, 59, 59, tzinfo=UTC)
BEFORE = DEADLINE - timedelta(days=10)


@pytest.fixture
def program(make_program, frozen):
    frozen(BEFORE)
    return make_program(ProgramKind.post_subsidy, phase=Phase.open, deadline=DEADLINE, year=2030)


@pytest.fixture
def clerk(make_user):
    return make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.clerk)


@pytest.fixture
def leader(make_user):
    return make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.leader)


@pytest.fixture
def portal(client, login):
    """Helpers to act through the real pages with the signed-in user."""

    class Portal:
        def token(self, path="/portal"):
            return csrf_token(client.get(path).get_data(as_text=True))

        def start(self, program):
            response = client.post(f"/programs/{program.id}/apply", data={"csrf_token": self.token()})
            assert response.status_code == 302, response.get_data(as_text=True)
            return int(response.headers["Location"].rsplit("/", 1)[1])

        def figures(self, app_id, values):
            path = f"/applications/{app_id}/figures"
            return client.post(path, data={"csrf_token": self.token(path), **values})

        def upload(self, app_id, criterion, name, data, title="材料"):
            path = f"/applications/{app_id}/evidence"
            return client.post(path, data={"csrf_token": self.token(path), "criterion": criterion, "title": title,
                                           "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

        def roster(self, app_id, data, name="名册.xlsx"):
            path = f"/applications/{app_id}/roster"
            return client.post(path, data={"csrf_token": self.token(path), "file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")

        def recommend(self, app_id, text):
            path = f"/applications/{app_id}/submit"
            return client.post(path, data={"csrf_token": self.token(path), "action": "save_text",
                                           "rec-recommendation": text})

        def letter(self, app_id):
            path = f"/applications/{app_id}/submit"
            return client.post(path, data={"csrf_token": self.token(path), "action": "letter",
                                           "letter-file": (io.BytesIO(pdf_bytes("letter")), "推荐函.pdf")},
                               content_type="multipart/form-data")

        def submit(self, app_id):
            path = f"/applications/{app_id}/submit"
            return client.post(path, data={"csrf_token": self.token(path), "action": "submit"})

    return Portal()


def fill_everything(portal, program, app_id):
    """Figures, one evidence file per expert criterion, the roster; the leader part is separate."""
    assert portal.figures(app_id, FIGURES).status_code == 302
    for n, criterion in enumerate(rubric_of(program).expert_criteria):
        response = portal.upload(app_id, criterion.key, f"材料{n}.pdf", pdf_bytes(criterion.key))
        assert response.status_code == 302, response.get_data(as_text=True)
    assert portal.roster(app_id, roster_xlsx(three_rows())).status_code == 302


def upload_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


# ---------------------------------------------------------------- starting


def test_unit_starts_post_subsidy_application_once(client, login, clerk, program, portal, session):
    login(clerk)
    first = portal.start(program)
    second = portal.start(program)
    assert first == second
    assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_pilot_cannot_be_started_by_unit(client, login, clerk, make_program, frozen, portal):
    frozen(BEFORE)
    pilot = make_program(ProgramKind.pilot, phase=Phase.open, deadline=DEADLINE, year=2031)
    login(clerk)
    response = client.post(f"/programs/{pilot.id}/apply", data={"csrf_token": portal.token()}, follow_redirects=True)
    assert "试点示范项目由中国科协邀请申报，不能自行创建申报。" in response.get_data(as_text=True)


def test_office_nominates_pilot_unit_which_then_sees_it(client, login, make_user, make_program, frozen, session,
                                                        unit, clerk):
    frozen(BEFORE)
    pilot = make_program(ProgramKind.pilot, phase=Phase.open, deadline=DEADLINE, year=2031)
    login(make_user(Role.office))
    path = f"/programs/{pilot.id}/applications"
    response = client.post(path, data={"csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
                                       "unit_id": str(unit("210200").id)})
    assert response.status_code == 302
    application = session.scalar(select(Application).where(Application.program_id == pilot.id))
    assert application.unit.code == "210200" and application.nominated_by_id is not None
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/campaigns").get_data(as_text=True))})
    login(clerk)
    assert "进入申报" in client.get("/portal").get_data(as_text=True)


# ---------------------------------------------------------------- figures


def test_figures_saved_and_audited(client, login, clerk, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    assert portal.figures(app_id, FIGURES).status_code == 302
    application = session.get(Application, app_id)
    assert application.figure_values()["regulated_enterprises"] == Decimal("12000")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "application.figures"))
    assert event.detail_data["changed"]["parks_total"] == [None, "40"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("parks_total", "-3", "“各类高新区、经开区等园区总数”不能为负数，请填写 0 或正数。"),
        ("parks_total", "3.5", "“各类高新区、经开区等园区总数”是个数，应填写整数（如 4），不能有小数。"),
        ("parks_total", "三十", "“各类高新区、经开区等园区总数”应填写数字，“三十”不是数字。"),
        ("parks_with_kexie", "41", "“已建立园区科协的园区数”（41）不能大于“各类高新区、经开区等园区总数”（40），请核对后修改其中一项。"),
        ("enterprise_kexie_new", "900", "“本年度新建企业科协数”（900）不能大于“企业科协总数”（800），请核对后修改其中一项。"),
        ("national_parks_with_kexie", "7", "“已建立园区科协的国家级高新区、经开区数”（7）不能大于“国家级高新区、经开区总数”（6），请核对后修改其中一项。"),
    ],
)
def test_figures_bad_input_explained_and_nothing_saved(client, login, clerk, program, portal, session, field,
                                                       value, message):
    login(clerk)
    app_id = portal.start(program)
    response = portal.figures(app_id, {**FIGURES, field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert session.get(Application, app_id).figures == []


def test_figures_total_above_regulated_is_only_a_warning(client, login, clerk, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    response = portal.figures(app_id, {**FIGURES, "regulated_enterprises": "500"})
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "提示：“企业科协总数”（800）大于“规模以上工业企业数”（500），请确认数据无误。" in body


def test_figures_accept_full_width_digits_and_separators(client, login, clerk, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    assert portal.figures(app_id, {**FIGURES, "regulated_enterprises": "１２,０００"}).status_code == 302
    assert session.get(Application, app_id).figure_values()["regulated_enterprises"] == Decimal("12000")


def test_preview_ratios_come_from_scoring_engine(client, login, clerk, program, portal):
    login(clerk)
    app_id = portal.start(program)
    path = f"/applications/{app_id}/figures"
    token = csrf_token(client.get(path).get_data(as_text=True))
    response = client.post(f"{path}/preview", json=FIGURES, headers={"X-CSRFToken": token})
    data = response.get_json()
    expected = formula_scores(rubric_of(program), {k: Decimal(v) for k, v in FIGURES.items()})
    ratios = [t.ratio for s in expected.values() for t in s.terms]
    assert [r["ratio"] for r in data["ratios"]] == ratios
    assert data["errors"] == {}


def test_preview_without_csrf_token_refused(client, login, clerk, program, portal):
    login(clerk)
    app_id = portal.start(program)
    assert client.post(f"/applications/{app_id}/figures/preview", json=FIGURES).status_code == 400


# ---------------------------------------------------------------- files


def test_evidence_upload_stored_by_hash_and_downloadable(client, login, clerk, program, portal, session, app):
    login(clerk)
    app_id = portal.start(program)
    data = pdf_bytes("leadership")
    assert portal.upload(app_id, "leadership", "会议纪要.pdf", data, title="党组会议纪要").status_code == 302
    attachment = session.scalar(select(Attachment))
    import hashlib

    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.original_name == "会议纪要.pdf" and attachment.title == "党组会议纪要"
    stored = upload_files(app)
    assert [p.name for p in stored] == [attachment.sha256]
    with client.get(f"/applications/{app_id}/files/{attachment.id}") as download:
        assert download.data == data
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Disposition"].startswith("attachment")
    with client.get(f"/applications/{app_id}/files/{attachment.id}?inline=1") as inline:
        assert inline.headers["Content-Disposition"].startswith("inline")
        assert inline.headers["Content-Type"] == "application/pdf"


def test_same_file_twice_recognised(client, login, clerk, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    data = pdf_bytes("same")
    portal.upload(app_id, "leadership", "a.pdf", data, title="第一次")
    response = portal.upload(app_id, "leadership", "b.pdf", data, title="第二次")
    assert "同一文件已作为“组织领导”的材料上传过（标题：第一次），无需重复上传。" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("伪装.pdf", b"MZ\x90\x00" + b"\x00" * 200),  # an executable renamed .pdf
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("图.pdf", png_bytes()),  # content and name disagree
        ("empty.pdf", b""),
    ],
)
def test_hostile_upload_through_page_leaves_nothing(client, login, clerk, program, portal, session, app, name, data):
    login(clerk)
    app_id = portal.start(program)
    response = portal.upload(app_id, "leadership", name, data)
    assert response.status_code == 200
    assert 'class="problems"' in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert upload_files(app) == []


def test_application_size_limit(client, login, clerk, program, portal, session, app, monkeypatch):
    # Small limits keep request bodies under 500 KB (the test client leaks a temp file above that).
    monkeypatch.setitem(app.config, "UPLOAD_MAX_APPLICATION_MB", 0.25)
    login(clerk)
    app_id = portal.start(program)
    assert portal.upload(app_id, "leadership", "a.pdf", pdf_bytes("a", 150 * 1024), title="一").status_code == 302
    response = portal.upload(app_id, "planning", "b.pdf", pdf_bytes("b", 150 * 1024), title="二")
    assert "总上限 0.25 MB" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_delete_file_before_submission_removes_bytes(client, login, clerk, program, portal, session, app):
    login(clerk)
    app_id = portal.start(program)
    portal.upload(app_id, "leadership", "a.pdf", pdf_bytes("del"))
    attachment = session.scalar(select(Attachment))
    path = f"/applications/{app_id}/evidence"
    response = client.post(f"/applications/{app_id}/files/{attachment.id}/delete",
                           data={"csrf_token": portal.token(path)})
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert upload_files(app) == []


def test_deleted_file_goes_only_when_the_deletion_commits(login, clerk, program, portal, session, app):
    login(clerk)
    app_id = portal.start(program)
    portal.upload(app_id, "leadership", "a.pdf", pdf_bytes("kept on rollback"))
    [path] = upload_files(app)
    with app.test_request_context():
        delete_attachment(session.scalar(select(Attachment)), actor=clerk)
        session.rollback()  # the request failed after the operation: the row is back, so must the bytes be
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert path.is_file()
        delete_attachment(session.scalar(select(Attachment)), actor=clerk)
        session.commit()
    assert upload_files(app) == []


def test_file_listed_in_a_withdrawn_receipt_is_kept_when_deleted(
    client, login, clerk, leader, program, portal, session, app
):
    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    path = f"/applications/{app_id}"
    assert client.post(f"{path}/withdraw", data={"csrf_token": portal.token(path)}).status_code == 302
    attachment = session.scalars(select(Attachment).order_by(Attachment.id)).first()
    stored = [p for p in upload_files(app) if p.name == attachment.sha256]
    assert stored
    response = client.post(
        f"{path}/files/{attachment.id}/delete", data={"csrf_token": portal.token(f"{path}/evidence")}
    )
    assert response.status_code == 302
    assert session.get(Attachment, attachment.id) is None
    assert stored[0].is_file()  # the receipt still certifies it


# ---------------------------------------------------------------- roster


def test_roster_import_and_count_mismatch_flagged(client, login, clerk, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    portal.figures(app_id, {**FIGURES, "enterprise_kexie_new": "5"})
    assert portal.roster(app_id, roster_xlsx(three_rows())).status_code == 302
    entries = session.scalars(select(RosterEntry).order_by(RosterEntry.row_no)).all()
    assert [e.name for e in entries] == ["甲公司科协", "乙公司科协", "丙公司科协"]
    body = client.get(f"/applications/{app_id}/roster").get_data(as_text=True)
    assert "名册中有 3 个企业科协，与填报的“本年度新建企业科协数”5 不一致，请核对。" in body


def test_roster_with_bad_rows_saves_nothing(client, login, clerk, program, portal, session, app):
    login(clerk)
    app_id = portal.start(program)
    rows = three_rows() + [("", "2030-13-01", "x", -1, "赵六")]
    response = portal.roster(app_id, roster_xlsx(rows))
    body = response.get_data(as_text=True)
    assert "名册未导入（未保存任何内容）" in body
    assert "第 6 行" in body
    assert session.scalar(select(func.count()).select_from(RosterEntry)) == 0
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert upload_files(app) == []


def test_roster_template_downloads_as_xlsx(client, login, clerk, program, portal):
    login(clerk)
    app_id = portal.start(program)
    response = client.get(f"/applications/{app_id}/roster/template.xlsx")
    assert response.data[:2] == b"PK"
    from webapp.applications.roster import parse_roster

    parsed = parse_roster(io.BytesIO(response.data))
    assert parsed.rows == ()


# ---------------------------------------------------------------- submission


def test_incomplete_application_names_each_missing_part(client, login, leader, program, portal, session):
    login(leader)
    app_id = portal.start(program)
    portal.figures(app_id, {**FIGURES, "haizhi_bases": ""})
    body = portal.submit(app_id).get_data(as_text=True)
    assert "申报材料不完整，不能提交：" in body
    for part in ("数据“海智计划工作基地数”未填写", "“组织领导”的佐证材料未上传", "新建企业科协名册未上传",
                 "负责人推荐意见未填写（至少 20 字）", "盖章推荐函未上传"):
        assert part in body
    assert session.get(Application, app_id).status == ApplicationStatus.draft


def test_clerk_cannot_submit(client, login, clerk, program, portal):
    login(clerk)
    app_id = portal.start(program)
    assert portal.submit(app_id).status_code == 403


def submitted(client, login, clerk, leader, program, portal):
    login(clerk)
    app_id = portal.start(program)
    fill_everything(portal, program, app_id)
    client.post("/logout", data={"csrf_token": portal.token()})
    login(leader)
    assert portal.recommend(app_id, "该单位企业科协组织建设工作扎实，成效显著，同意推荐申报后补助。").status_code == 302
    assert portal.letter(app_id).status_code == 302
    return app_id


def test_leader_submits_and_receipt_certifies_every_file(client, login, clerk, leader, program, portal, session,
                                                         frozen):
    app_id = submitted(client, login, clerk, leader, program, portal)
    moment = frozen(datetime(2030, 10, 20, 2, 30, 15, tzinfo=UTC))
    login(leader)
    response = portal.submit(app_id)
    assert response.status_code == 302
    receipt = session.scalar(select(Receipt))
    assert receipt.number == "2030HB-210200-01"
    assert receipt.submitted_at == moment
    manifest = json.loads(receipt.manifest)
    application = session.get(Application, app_id)
    assert sorted(f["sha256"] for f in manifest["files"]) == sorted(a.sha256 for a in application.attachments)
    assert manifest["figures"]["parks_total"] == "40.00" or manifest["figures"]["parks_total"] == "40"
    assert manifest["submitted_at"] == "2030-10-20 10:30:15 北京时间"
    import hashlib

    assert receipt.manifest_sha256 == hashlib.sha256(receipt.manifest.encode()).hexdigest()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2030HB-210200-01" in page and "2030-10-20 10:30:15" in page
    assert application.status == ApplicationStatus.submitted


def test_withdraw_keeps_receipt_and_resubmit_issues_new_one(client, login, clerk, leader, program, portal, session):
    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    path = f"/applications/{app_id}"
    assert client.post(f"{path}/withdraw", data={"csrf_token": portal.token(path)}).status_code == 302
    assert session.get(Application, app_id).status == ApplicationStatus.draft
    portal.submit(app_id)
    receipts = session.scalars(select(Receipt).order_by(Receipt.id)).all()
    assert [r.number for r in receipts] == ["2030HB-210200-01", "2030HB-210200-02"]
    assert receipts[0].withdrawn_at is not None and receipts[1].withdrawn_at is None


@pytest.mark.parametrize(("moment", "accepted"), [
    (datetime(2030, 10, 31, 15, 59, 59, tzinfo=UTC), True),  # 23:59:59 Beijing time
    (datetime(2030, 10, 31, 15, 59, 59, 900000, tzinfo=UTC), True),  # still within that second
    (datetime(2030, 10, 31, 16, 0, 0, tzinfo=UTC), False),  # 00:00:00 on 1 November
])
def test_deadline_edge_in_beijing_time(client, login, clerk, leader, program, portal, session, frozen, moment,
                                       accepted):
    app_id = submitted(client, login, clerk, leader, program, portal)
    frozen(moment - timedelta(minutes=1))
    login(leader)  # the jump in time ended the idle session
    frozen(moment)
    response = portal.submit(app_id)
    status = session.get(Application, app_id).status
    assert (status == ApplicationStatus.submitted) is accepted
    if not accepted:
        assert response.status_code == 403


def test_after_deadline_everything_read_only(client, login, clerk, program, portal, frozen, session):
    login(clerk)
    app_id = portal.start(program)
    portal.figures(app_id, FIGURES)
    frozen(DEADLINE + timedelta(seconds=1))
    login(clerk)
    page = client.get(f"/applications/{app_id}/figures").get_data(as_text=True)
    assert "申报已于 2030-10-31 23:59:59（北京时间）截止，材料只读，不能再修改或提交。" in page
    assert "保存数据" not in page
    assert portal.figures(app_id, {**FIGURES, "parks_total": "41"}).status_code == 403
    assert portal.upload(app_id, "leadership", "a.pdf", pdf_bytes()).status_code == 403
    assert session.get(Application, app_id).figure_values()["parks_total"] == Decimal("40")
    assert session.get(Program, program.id).phase == Phase.formal_check


# ---------------------------------------------------------------- isolation


def test_other_unit_gets_404_everywhere(client, login, clerk, make_user, program, portal, session):
    login(clerk)
    app_id = portal.start(program)
    portal.upload(app_id, "leadership", "a.pdf", pdf_bytes("secret"))
    attachment = session.scalar(select(Attachment))
    client.post("/logout", data={"csrf_token": portal.token()})
    login(make_user(Role.applicant, unit_code="210000", applicant_role=ApplicantRole.leader))  # Liaoning
    for path in (f"/applications/{app_id}", f"/applications/{app_id}/figures", f"/applications/{app_id}/evidence",
                 f"/applications/{app_id}/files/{attachment.id}", f"/applications/{app_id}/roster",
                 f"/applications/{app_id}/submit", f"/applications/{app_id}/roster/template.xlsx"):
        with client.get(path) as response:
            assert response.status_code == 404, path
    assert client.post(f"/applications/{app_id}/files/{attachment.id}/delete",
                       data={"csrf_token": portal.token()}).status_code == 404
    assert client.post(f"/applications/{app_id}/withdraw", data={"csrf_token": portal.token()}).status_code == 404


# ---------------------------------------------------------------- formal check


def _office_check(client, login, make_user, app_id, decision, note="", days="3"):
    login(make_user(Role.office))
    path = f"/applications/{app_id}/check"
    return client.post(path, data={"csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
                                   "decision": decision, "note": note, "working_days": days})


def test_formal_check_return_then_unit_adds_material_and_resubmits(client, login, clerk, leader, make_user,
                                                                  program, portal, session, frozen):
    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    client.post("/logout", data={"csrf_token": portal.token()})
    frozen(datetime(2030, 11, 3, 2, 0, tzinfo=UTC))  # Monday 3 November, 10:00 Beijing time
    response = _office_check(client, login, make_user, app_id, "returned", note="请补充2030年工作计划原件。")
    assert response.status_code == 302
    application = session.get(Application, app_id)
    assert application.status == ApplicationStatus.returned
    # Three working days after Monday: Tue, Wed, Thu → 23:59:59 on Thursday 6 November, Beijing time.
    assert application.correction_until == datetime(2030, 11, 6, 15, 59, 59, tzinfo=UTC)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/campaigns").get_data(as_text=True))})
    login(leader)
    assert "请补充2030年工作计划原件。" in client.get("/portal").get_data(as_text=True)
    assert portal.upload(app_id, "planning", "计划原件.pdf", pdf_bytes("plan original")).status_code == 302
    assert portal.figures(app_id, {**FIGURES, "parks_total": "99"}).status_code == 403
    assert portal.submit(app_id).status_code == 302
    assert session.get(Application, app_id).status == ApplicationStatus.submitted
    assert session.scalar(select(func.count()).select_from(Receipt)) == 2


def test_formal_check_reject_requires_reason(client, login, clerk, leader, make_user, program, portal, session,
                                             frozen):
    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    client.post("/logout", data={"csrf_token": portal.token()})
    frozen(DEADLINE + timedelta(days=2))
    body = _office_check(client, login, make_user, app_id, "rejected").get_data(as_text=True)
    assert "请写明不通过的理由，单位将看到这段说明。" in body
    assert session.get(Application, app_id).status == ApplicationStatus.submitted


def test_formal_check_not_before_deadline(client, login, clerk, leader, make_user, program, portal, session):
    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    client.post("/logout", data={"csrf_token": portal.token()})
    assert _office_check(client, login, make_user, app_id, "passed").status_code == 403


def test_review_phase_waits_for_every_check(app, client, login, clerk, leader, make_user, program, portal, session,
                                            frozen):
    from webapp.campaigns.operations import apply_due_transitions
    from webapp.campaigns.workflow import check_move

    app_id = submitted(client, login, clerk, leader, program, portal)
    portal.submit(app_id)
    client.post("/logout", data={"csrf_token": portal.token()})
    later = frozen(DEADLINE + timedelta(days=1))
    with app.test_request_context():
        program_now = session.get(Program, program.id)
        apply_due_transitions(program_now)
        decision = check_move(program_now, Phase.review, later)
        session.commit()
    assert decision.reason == "还有 1 份申报未完成形式审查（含退回补正中的），请全部审查后再进入专家评审。"
    _office_check(client, login, make_user, app_id, "passed")
    with app.test_request_context():
        assert check_move(session.get(Program, program.id), Phase.review, later).allowed
