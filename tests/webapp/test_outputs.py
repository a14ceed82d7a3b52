"""Outputs (§6): audit package recomputed by the CLI, payments, payee details, downloads and notices."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import REPO, csrf_token
from tests.webapp.results_helpers import build_scored_program
from webapp.applications.models import Application
from webapp.auth.models import ApplicantRole, Role
from webapp.campaigns.models import Phase, Program
from webapp.payments.models import Payment
from webapp.results.models import Decision, DecisionKind

AT = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)
AFTER = datetime(2025, 12, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(frozen):
    frozen(AT)


def _post(client, path, data, page=None):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def final_program(client, login, make_user, session, make_program, unit):
    """A scored 2025 post-subsidy program taken to 定案 through the real pages; office signed in."""
    program, apps, _experts = build_scored_program(session, make_program, make_user, unit, year=2025)
    office = make_user(Role.office)
    login(office)
    _post(client, f"/programs/{program.id}/results/run", {"bootstrap": "50", "seed": "5"},
          page=f"/programs/{program.id}/results")
    _post(client, f"/programs/{program.id}/decisions", {"action": "adopt"})
    _post(client, f"/programs/{program.id}/publicity", {"action": "open", "open-start": "2025-11-20",
                                                         "open-contact": "中国科协计划财务部，电话 010-68571894"})
    session.get(Program, program.id).phase = Phase.final  # the publicity story is tested elsewhere
    session.commit()
    return program, apps, office


def test_audit_package_verifies_with_cli_and_tamper_fails(client, final_program, tmp_path):
    program, _apps, _office = final_program
    response = client.get(f"/programs/{program.id}/exports/audit-package.zip")
    assert response.status_code == 200
    package = tmp_path / "package.zip"
    package.write_bytes(response.data)
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"rubric.toml", "scores.csv", "indicators.csv", "applications.csv", "result.json", "awards.json",
            "publicity_register.csv", "decisions.csv", "manifest.json"} <= names
    assert len(manifest["audit_chain_head"]) == 64
    ok = subprocess.run([sys.executable, "-m", "scoring", "verify", str(package)], cwd=REPO,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # Change one score in a copy and rewrite the manifest's hash for it: the recomputation must disagree.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "scores.csv":
                lines = data.decode().splitlines()
                fields = lines[1].split(",")
                fields[3] = "0"
                lines[1] = ",".join(fields)
                data = ("\n".join(lines) + "\n").encode()
                import hashlib

                manifest["files"]["scores.csv"] = hashlib.sha256(data).hexdigest()
            if name != "manifest.json":
                target.writestr(name, data)
        target.writestr("manifest.json", json.dumps(manifest))
    bad = subprocess.run([sys.executable, "-m", "scoring", "verify", str(tampered)], cwd=REPO,
                         capture_output=True, text=True)
    assert bad.returncode != 0


def test_payee_details_validated(client, login, make_user, final_program, session):
    program, apps, _office = final_program
    application = apps[0]
    login(make_user(Role.applicant, unit_code=application.unit.code, applicant_role=ApplicantRole.clerk))
    path = f"/applications/{application.id}"
    response = _post(client, f"{path}/payee", {"payee_name": "北京市科学技术协会", "bank_name": "",
                                               "bank_account": "12ab"}, page=path)
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "请填写开户银行（具体到支行）。" in body and "银行账号应为 8 至 32 位数字" in body
    _post(client, f"{path}/payee", {"payee_name": "北京市科学技术协会", "bank_name": "中国工商银行北京海淀支行",
                                    "bank_account": "0200 0045 0900 1234 567"}, page=path)
    saved = session.get(Application, application.id)
    assert saved.bank_account == "0200004509001234567"


def _funded(session, program):
    return session.scalars(select(Decision).join(Application).where(
        Application.program_id == program.id, Decision.superseded_at.is_(None),
        Decision.kind == DecisionKind.post_subsidy)).all()


def test_payments_overdue_then_paid_moves_program(client, login, make_user, final_program, session, frozen):
    program, _apps, _office = final_program
    finance = make_user(Role.finance)
    frozen(datetime(2026, 4, 2, 2, 0, tzinfo=UTC))  # after 31 March of the next year: overdue
    login(finance)
    home = client.get("/finance").get_data(as_text=True)
    assert "逾期未拨付" in home
    funded = _funded(session, program)
    path = f"/programs/{program.id}/payments"
    for n, decision in enumerate(funded):
        response = _post(client, path, {"decision_id": str(decision.id), "paid_on": "2026-04-01",
                                        "voucher_no": f"记-2026-04-{n:03d}"})
        assert response.status_code == 302
    assert session.get(Program, program.id).phase == Phase.paid
    payments = session.scalars(select(Payment)).all()
    assert sorted(p.amount for p in payments) == sorted(d.amount for d in funded)
    assert "逾期未拨付" not in client.get("/finance").get_data(as_text=True)


def test_payment_twice_and_without_voucher_refused(client, login, make_user, final_program, session):
    program, _apps, _office = final_program
    login(make_user(Role.finance))
    decision = _funded(session, program)[0]
    path = f"/programs/{program.id}/payments"
    body = client.get(_post(client, path, {"decision_id": str(decision.id), "paid_on": "2025-11-20",
                                           "voucher_no": ""}).headers["Location"]).get_data(as_text=True)
    assert "请填写会计凭证号。" in body
    _post(client, path, {"decision_id": str(decision.id), "paid_on": "2025-11-20", "voucher_no": "记-1"})
    body = client.get(_post(client, path, {"decision_id": str(decision.id), "paid_on": "2025-11-20",
                                           "voucher_no": "记-2"}).headers["Location"]).get_data(as_text=True)
    assert "该项资助已登记拨付，不能重复登记。" in body
    assert len(session.scalars(select(Payment)).all()) == 1


def test_office_cannot_record_payments(client, final_program, session):
    program, _apps, _office = final_program
    decision = _funded(session, program)[0]
    path = f"/programs/{program.id}/payments"
    assert _post(client, path, {"decision_id": str(decision.id), "paid_on": "2025-11-20",
                                "voucher_no": "x"}).status_code == 403


def test_award_list_download_reads_back(client, login, make_user, final_program, session):
    from openpyxl import load_workbook

    program, _apps, _office = final_program
    login(make_user(Role.finance))
    response = client.get(f"/programs/{program.id}/exports/awards.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    names = {cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    for decision in _funded(session, program):
        assert decision.application.unit.name in names


def test_notice_docx_lists_commended_units_in_code_order(client, final_program, session):
    from docx import Document

    program, _apps, _office = final_program
    campaign_id = program.campaign_id
    page = f"/campaigns/{campaign_id}/notices/commendation"
    response = _post(client, page, {"doc_number": "科协函企字[2025]8号", "title": "关于表扬的通报",
                                    "addressees": "各省科协：", "body": "第一段。\n\n第二段。", "signature": "中国科协",
                                    "issued_on": "2025-12-26"})
    assert "〔" in response.get_data(as_text=True)  # the bad bracket style is explained
    _post(client, page, {"doc_number": "科协函企字〔2025〕8号", "title": "关于表扬的通报", "addressees": "各省科协：",
                         "body": "第一段。\n\n第二段。", "signature": "中国科协", "issued_on": "2025-12-26"})
    docx = client.get(f"/campaigns/{campaign_id}/notices/commendation.docx")
    document = Document(io.BytesIO(docx.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "科协函企字〔2025〕8号" in text and "2025年12月26日" in text
    funded = [d.application.unit for d in _funded(session, program)]
    body = text + "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    positions = [body.index(u.name) for u in sorted(funded, key=lambda u: u.sort_key)]
    assert positions == sorted(positions)


def test_unit_sees_only_its_own_notice_line(client, login, make_user, final_program, session):
    program, apps, _office = final_program
    funded = _funded(session, program)
    mine_id, mine_code, mine_name = funded[0].application.id, funded[0].application.unit.code, \
        funded[0].application.unit.name
    other_name = funded[1].application.unit.name
    login(make_user(Role.applicant, unit_code=mine_code, applicant_role=ApplicantRole.leader))
    body = client.get(f"/applications/{mine_id}/notice").get_data(as_text=True)
    assert mine_name in body and other_name not in body
    assert client.get(f"/campaigns/{program.campaign_id}/notices/commendation.docx").status_code == 403



def test_panel_summary_page_prints_run_totals_and_signatures(client, final_program, session):
    from webapp.results.models import ResultRun

    program, _apps, _office = final_program
    body = client.get(f"/programs/{program.id}/panel-summary").get_data(as_text=True)
    run = session.scalar(select(ResultRun))
    for row in run.result_data()["applications"]:
        assert f"<strong>{row['total']}</strong>" in body
    assert "专家组组长签名" in body and "评审专家签名" in body
