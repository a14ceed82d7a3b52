"""Authorization matrix: every registered route × every role (and anonymous), checked on the server.

The table must name every route the app registers: a new route without a row fails
``test_matrix_covers_every_route``, so nobody can add a page and forget its permissions.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import csrf_token
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase

ROLES = ["anon", "applicant", "expert", "office", "finance", "auditor", "sysadmin"]
SIGNED_IN = ROLES[1:]
LOGIN = "login"  # anonymous users are redirected to the login page


def only(*allowed, ok=200, others=403):
    """Expected status per role: ``ok`` for the allowed roles, ``others`` for the rest, login for anon."""
    table = {role: (ok if role in allowed else others) for role in SIGNED_IN}
    table["anon"] = LOGIN
    return table


def everyone(status, anon=LOGIN):
    return {"anon": anon, **{role: status for role in SIGNED_IN}}


READERS = ("office", "finance", "auditor")

# (endpoint, method, path template) → expected outcome per role.
MATRIX = {
    ("auth.login", "GET", "/login"): everyone(302, anon=200),
    ("auth.change_password", "GET", "/account/password"): everyone(200),
    ("auth.set_language", "POST", "/language"): everyone(302, anon=302),
    ("home.index", "GET", "/"): everyone(302),
    ("home.applicant", "GET", "/portal"): only("applicant"),
    ("reviews.index", "GET", "/reviews"): only("expert"),
    ("reviews.sheet", "GET", "/reviews/sheet"): only("expert"),
    ("reviews.score", "GET", "/reviews/{assignment_id}"): only("expert"),
    ("reviews.file", "GET", "/reviews/{assignment_id}/files/{attachment_id}"): only("expert"),
    ("reviews.panel", "GET", "/programs/{program_id}/panel"): only("office"),
    ("reviews.remove", "POST", "/assignments/{assignment_id}/remove"): only("office", ok=302),
    ("reviews.reopen", "POST", "/assignments/{assignment_id}/reopen"): only("office", ok=302),
    ("reviews.decide", "POST", "/exclusions/{exclusion_id}/decide"): only("office", ok=302),
    ("reviews.request_exclusion_view", "POST", "/applications/{application_id}/exclusions"):
        only("applicant", ok=302),
    # Last of the expert's: it ends the assignment.
    ("reviews.declare", "POST", "/reviews/{assignment_id}/declare"): only("expert", ok=302),
    ("home.finance", "GET", "/finance"): only("finance"),
    ("campaigns.index", "GET", "/campaigns"): only(*READERS),
    ("campaigns.new", "GET", "/campaigns/new"): only("office"),
    ("campaigns.show", "GET", "/campaigns/{campaign_id}"): only(*READERS),
    ("campaigns.edit_program", "GET", "/programs/{program_id}/edit"): only("office"),
    ("campaigns.advance", "POST", "/programs/{program_id}/advance"): only("office", ok=302),
    ("campaigns.rubric", "GET", "/programs/{program_id}/rubric"): only(*READERS),
    # Applicant portal: the unit's own application (the matrix's applicant belongs to that unit) and the office.
    ("applications.show", "GET", "/applications/{application_id}"): only("applicant", "office"),
    ("applications.figures", "GET", "/applications/{application_id}/figures"): only("applicant", "office"),
    ("applications.figures_preview", "POST", "/applications/{application_id}/figures/preview"):
        only("applicant", "office"),
    ("applications.evidence", "GET", "/applications/{application_id}/evidence"): only("applicant", "office"),
    ("applications.download", "GET", "/applications/{application_id}/files/{attachment_id}"):
        only("applicant", "office"),
    ("applications.roster", "GET", "/applications/{application_id}/roster"): only("applicant", "office"),
    ("applications.roster_template_download", "GET", "/applications/{application_id}/roster/template.xlsx"):
        only("applicant", "office"),
    ("applications.submission", "GET", "/applications/{application_id}/submit"): only("applicant", "office"),
    ("applications.receipt", "GET", "/receipts/{receipt_id}"): only("applicant", "office"),
    ("applications.office_list", "GET", "/programs/{program_id}/applications"): only("office"),
    ("applications.check", "GET", "/applications/{application_id}/check"): only("office"),
    ("applications.apply", "POST", "/programs/{program_id}/apply"): only("applicant", ok=302),
    ("applications.withdraw_view", "POST", "/applications/{application_id}/withdraw"): only("applicant", ok=302),
    ("applications.delete_file", "POST", "/applications/{application_id}/files/{attachment_id}/delete"):
        only("applicant", ok=302),
    # Results, decisions, publicity.
    ("results.index", "GET", "/programs/{program_id}/results"): only("office"),
    ("results.explain", "GET", "/programs/{program_id}/results/1/210200"): only("office"),
    ("results.decisions", "GET", "/programs/{program_id}/decisions"): only("office"),
    ("results.outcome", "GET", "/applications/{application_id}/outcome"): only("applicant", "office"),
    ("results.run", "POST", "/programs/{program_id}/results/run"): only("office", ok=302),
    ("publicity.manage", "GET", "/programs/{program_id}/publicity"): only("office"),
    ("publicity.attachment", "GET", "/objections/{objection_id}/attachment"): only("office"),
    ("publicity.add_entry", "POST", "/objections/{objection_id}/entries"): only("office", ok=302),
    # Public pages: the publicity list, and the objection form (404 while the program is not in publicity).
    ("publicity.index", "GET", "/publicity"): everyone(200, anon=200),
    ("publicity.object_form", "GET", "/publicity/{program_id}/object"): everyone(404, anon=404),
    # Outputs and payments (the world's program is not final yet: award lists and notices are 404 there).
    ("exports.program_awards", "GET", "/programs/{program_id}/exports/awards.xlsx"): only("finance", "office", ok=404),
    ("exports.campaign_awards", "GET", "/campaigns/{campaign_id}/exports/awards.xlsx"):
        only("finance", "office", ok=404),
    ("exports.score_sheets", "GET", "/programs/{program_id}/exports/score-sheets.xlsx"): only("office"),
    ("exports.panel_summary", "GET", "/programs/{program_id}/exports/panel-summary.xlsx"): only("office"),
    ("exports.panel_summary_page", "GET", "/programs/{program_id}/panel-summary"): only("office"),
    ("exports.audit_package", "GET", "/programs/{program_id}/exports/audit-package.zip"):
        only("office", "auditor", "finance"),
    ("exports.notice", "GET", "/campaigns/{campaign_id}/notices/commendation"): only("office", "finance"),
    ("exports.notice_docx", "GET", "/campaigns/{campaign_id}/notices/commendation.docx"):
        only("office", "finance", ok=404),
    ("exports.unit_notice", "GET", "/applications/{application_id}/notice"): only("applicant", "office"),
    ("payments.register", "GET", "/programs/{program_id}/payments"): only("finance", "office"),
    ("applications.payee", "POST", "/applications/{application_id}/payee"): only("applicant", ok=302),
    # Inspection: targets and dashboard for the office; spot checks for the office and the assigned inspector.
    ("inspection.targets", "GET", "/campaigns/{campaign_id}/targets"): only("office"),
    ("inspection.targets_template", "GET", "/campaigns/{campaign_id}/targets/template.xlsx"): only("office"),
    ("inspection.dashboard", "GET", "/campaigns/{campaign_id}/dashboard"): only("office"),
    ("inspection.dashboard_export", "GET", "/campaigns/{campaign_id}/dashboard.xlsx"): only("office"),
    ("inspection.spot_checks", "GET", "/programs/{program_id}/spot-checks"): only("office"),
    ("inspection.spot_check", "GET", "/spot-checks/{spot_check_id}"): only("office", "expert"),
    ("inspection.evidence", "GET", "/spot-checks/{spot_check_id}/entries/{spot_entry_id}/evidence"):
        only("office", "expert", ok=404),
    ("inspection.mine", "GET", "/inspections"): only("office", "expert"),
    ("audit.index", "GET", "/audit/"): only("auditor"),
    ("audit.export", "GET", "/audit/export.csv"): only("auditor"),
    ("audit.verify", "GET", "/audit/verify"): only("auditor"),
    ("admin.users", "GET", "/admin/users"): only("sysadmin"),
    ("admin.new_user", "GET", "/admin/users/new"): only("sysadmin"),
    ("admin.user", "GET", "/admin/users/{user_id}"): only("sysadmin"),
    ("admin.toggle", "POST", "/admin/users/{user_id}/disable"): only("sysadmin", ok=302),
    ("admin.reset", "POST", "/admin/users/{user_id}/reset"): only("sysadmin", ok=200),
    ("admin.unlock_user", "POST", "/admin/users/{user_id}/unlock"): only("sysadmin", ok=302),
    # Last: it ends the session.
    ("auth.logout", "POST", "/logout"): everyone(302),
}

# Routes every visitor may reach; they carry no data of anyone's.
PUBLIC_ENDPOINTS = {"static"}


def test_matrix_covers_every_route(app):
    registered = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = {(endpoint, method) for endpoint, method, _ in MATRIX}
    # A GET+POST form page is listed by its GET; its POST is the same permission check.
    missing = {(e, m) for e, m in registered - listed if not (m == "POST" and (e, "GET") in listed)}
    assert missing == set()
    assert listed - registered == set()


MANIFEST = {"unit": {"code": "210200", "name": "大连市科学技术协会"}, "figures": {"parks_total": "4"},
            "files": [], "roster_rows": 0, "recommendation_sha256": "0" * 64}


RUN_RESULT = {"rubric": "cast-2014-post-subsidy", "method": "trimmed_mean", "experts": [], "reliability": None,
              "applications": [{"application": "210200", "rank": 1, "total": "80.00", "criteria": {}, "reviews": 0,
                                "retained": [], "rank_interval": None, "p_funded": None, "flags": []}]}
RUN_INPUTS = {"scores": [], "indicators": [], "applications": [["210200", "大连市科学技术协会", "city", ""]]}


@pytest.fixture
def world(app, session, make_user, make_program, unit):
    """One of everything a route can point at. The application belongs to the matrix applicant's unit."""
    import io
    from datetime import UTC, datetime
    from pathlib import Path

    from tests.webapp.portal_helpers import pdf_bytes
    from webapp.applications.models import (
        Application,
        ApplicationStatus,
        Attachment,
        AttachmentPurpose,
        Receipt,
    )
    from webapp.applications.uploads import store_upload

    program = make_program(phase=Phase.open)
    target = make_user(Role.office, username="target")
    at = datetime(2030, 1, 1, tzinfo=UTC)
    application = Application(program_id=program.id, unit=unit("210200"), status=ApplicationStatus.draft,
                              created_at=at, updated_at=at)
    stored = store_upload(io.BytesIO(pdf_bytes("matrix")), "m.pdf", upload_dir=Path(app.config["UPLOAD_DIR"]),
                          max_bytes=10**6)
    attachment = Attachment(application=application, purpose=AttachmentPurpose.evidence, criterion="leadership",
                            title="t", original_name="m.pdf", sha256=stored.sha256, size=stored.size, kind="pdf",
                            mime="application/pdf", uploaded_at=at)
    receipt = Receipt(number="2030HB-210200-01", application=application, submitted_at=at,
                      submitted_by_id=target.id, manifest=json.dumps(MANIFEST, ensure_ascii=False),
                      manifest_sha256="0" * 64, withdrawn_at=at)
    from webapp.reviews.models import Assignment, AssignmentStatus, ExclusionRequest

    expert = make_user(Role.expert, username="matrix_expert", region="110000")
    assignment = Assignment(application=application, expert_id=expert.id, status=AssignmentStatus.assigned,
                            created_at=at, updated_at=at)
    exclusion = ExclusionRequest(application=application, expert_name="某专家", reason="理由",
                                 requested_by_id=target.id, requested_at=at)
    from datetime import date

    from webapp.publicity.models import Objection, PublicityRound
    from webapp.results.models import ResultRun

    run = ResultRun(program_id=program.id, number=1, created_at=at, rubric_sha256=program.rubric_sha256,
                    bootstrap=0, seed=1, inputs=json.dumps(RUN_INPUTS), inputs_sha256="0" * 64,
                    result=json.dumps(RUN_RESULT), awards='{"awards": [], "total_amount": 0, "flags": []}',
                    extras='{"reviewer_totals": {}, "expert_ids": [], "cutoff_rank": null}')
    round_ = PublicityRound(program_id=program.id, number=1, start_date=date(2030, 1, 2), end_date=date(2030, 1, 8),
                            working_days=5, contact="中国科协计划财务部 010-68571894", opened_by_id=target.id,
                            opened_at=at)
    objection = Objection(receipt_no="2030GS01-0001", round=round_, name="张三", organisation="某单位",
                          phone="010-12345678", content="异议内容", submitted_at=at, attachment_name="m.pdf",
                          attachment_sha256=stored.sha256, attachment_size=stored.size,
                          attachment_mime="application/pdf")
    from webapp.applications.models import RosterEntry
    from webapp.inspection.models import SpotCheck, SpotCheckEntry

    roster_entry = RosterEntry(application=application, row_no=2, name="某企业科协")
    spot = SpotCheck(application=application, seed=1, roster_size=1, sample_size=1, inspector_id=expert.id,
                     created_by_id=target.id, created_at=at)
    spot_entry = SpotCheckEntry(spot_check=spot, roster_entry=roster_entry, row_no=2)
    session.add_all([application, attachment, receipt, assignment, exclusion, run, round_, objection, roster_entry,
                     spot, spot_entry])
    session.commit()
    return {"campaign_id": program.campaign_id, "program_id": program.id, "user_id": target.id,
            "application_id": application.id, "attachment_id": attachment.id, "receipt_id": receipt.id,
            "assignment_id": assignment.id, "exclusion_id": exclusion.id, "expert": expert,
            "objection_id": objection.id, "spot_check_id": spot.id, "spot_entry_id": spot_entry.id}


def _user_for(role: str, make_user, world):
    if role == "expert":
        return world["expert"]  # the assignee of the world's assignment
    if role == "applicant":
        return make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.leader)
    return make_user(Role(role))


def test_other_unit_applicant_gets_404_on_every_application_route(client, make_user, login, world):
    login(make_user(Role.applicant, unit_code="110000", applicant_role=ApplicantRole.leader))
    for (endpoint, method, template), expected in MATRIX.items():
        if "{application_id}" not in template and "{receipt_id}" not in template:
            continue
        if expected["applicant"] == 403:
            continue  # refused by role before any lookup, so nothing about the object is revealed
        path = template.format(**world)
        token = csrf_token(client.get("/account/password").get_data(as_text=True))
        with (client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})) as response:
            assert response.status_code == 404, (endpoint, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_the_matrix_says(role, client, make_user, login, world):
    if role != "anon":
        assert login(_user_for(role, make_user, world)).status_code == 302
    token = csrf_token(client.get("/login").get_data(as_text=True)) if role == "anon" else None
    mismatches = []
    for (endpoint, method, template), expected in MATRIX.items():
        path = template.format(**world)
        if method == "GET":
            response = client.get(path)
            response.close()
        else:
            if role != "anon":
                token = csrf_token(client.get("/account/password").get_data(as_text=True))
            data = {"csrf_token": token}
            if endpoint == "campaigns.advance":
                data["target"] = "open"
            if endpoint == "auth.set_language":
                data["lang"] = "zh_CN"
            response = client.post(path, data=data)
        want = expected[role]
        if want == LOGIN:
            ok = response.status_code == 302 and response.headers["Location"].startswith("/login")
        else:
            ok = response.status_code == want
        if not ok:
            mismatches.append((endpoint, method, want, response.status_code))
    assert mismatches == []


@pytest.mark.parametrize("path", ["/campaigns/999999", "/programs/999999/rubric", "/admin/users/999999"])
def test_missing_objects_are_404_for_allowed_roles(path, client, make_user, login):
    role = Role.sysadmin if path.startswith("/admin") else Role.office
    login(make_user(role))
    assert client.get(path).status_code == 404


def test_forbidden_page_says_why(client, make_user, login):
    login(make_user(Role.expert))
    response = client.get("/campaigns")
    assert response.status_code == 403
    assert "此功能仅限业务处室、计划财务部、审计管理员使用。" in response.get_data(as_text=True)
