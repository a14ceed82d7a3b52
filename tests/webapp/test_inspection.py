"""Inspection and targets (seed 002, 003): allocation, locked target figures, spot checks feeding the engine,
criticism candidates, the national dashboard."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.webapp.results_helpers import build_scored_program
from webapp.applications.models import Application, FigureSource, RosterEntry
from webapp.auth.models import Role
from webapp.inspection.models import CheckStatus, SpotCheck, SpotCheckEntry, UnitTarget
from webapp.results.models import ResultRun

AT = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(frozen):
    frozen(AT)


def _post(client, path, data, page=None, **kw):
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kw)


@pytest.fixture
def scored(client, login, make_user, session, make_program, unit):
    program, apps, experts = build_scored_program(session, make_program, make_user, unit, year=2025)
    login(make_user(Role.office))
    return program, apps, experts


def set_national(client, campaign_id, new="6000", liaison="15000"):
    return _post(client, f"/campaigns/{campaign_id}/targets", {
        "action": "national", "new_kexie": new, "liaison": liaison, "park_coverage": "25",
        "national_park_coverage": "40", "baseline_coverage": "6.1"})


def test_allocation_sums_exactly_and_fills_locked_figures(client, scored, session):
    program, apps, _experts = scored
    set_national(client, program.campaign_id)
    rng = random.Random(4)
    basis = {a.unit.code: rng.randint(500, 60000) for a in apps}
    data = {"action": "allocate", **{f"basis-{code}": str(v) for code, v in basis.items()}}
    assert _post(client, f"/campaigns/{program.campaign_id}/targets", data).status_code == 302
    targets = session.scalars(select(UnitTarget)).all()
    assert sum(t.task_new_kexie for t in targets) == 6000
    assert sum(t.task_liaison for t in targets) == 15000
    total = sum(basis.values())
    for t in targets:  # each part is the floor or the ceiling of its exact quota
        quota = Decimal(6000) * t.basis / total
        assert int(quota) <= t.task_new_kexie <= int(quota) + 1
    application = session.get(Application, apps[0].id)
    figure = next(f for f in application.figures if f.indicator == "task_new_kexie")
    assert figure.source == FigureSource.office
    target = next(t for t in targets if t.unit_id == application.unit_id)
    assert figure.value == Decimal(target.task_new_kexie)


def test_allocation_is_reproducible(client, scored, session):
    program, apps, _experts = scored
    set_national(client, program.campaign_id)
    data = {"action": "allocate", **{f"basis-{a.unit.code}": str(1000 + 7 * n) for n, a in enumerate(apps)}}
    _post(client, f"/campaigns/{program.campaign_id}/targets", data)
    first = {t.unit_id: t.task_new_kexie for t in session.scalars(select(UnitTarget))}
    _post(client, f"/campaigns/{program.campaign_id}/targets", data)
    assert {t.unit_id: t.task_new_kexie for t in session.scalars(select(UnitTarget))} == first


def test_adjust_needs_reason(client, scored, session):
    program, apps, _experts = scored
    set_national(client, program.campaign_id)
    _post(client, f"/campaigns/{program.campaign_id}/targets",
          {"action": "allocate", **{f"basis-{a.unit.code}": "1000" for a in apps}})
    target = session.scalars(select(UnitTarget)).first()
    response = _post(client, f"/campaigns/{program.campaign_id}/targets", {
        "action": "adjust", "target_id": str(target.id), "task_new": "1", "task_liaison": "1", "reason": ""})
    assert "调整任务数必须写明理由。" in client.get(response.headers["Location"]).get_data(as_text=True)
    _post(client, f"/campaigns/{program.campaign_id}/targets", {
        "action": "adjust", "target_id": str(target.id), "task_new": "1", "task_liaison": "1",
        "reason": "该省遭受洪灾，经批准核减任务"})
    assert session.get(UnitTarget, target.id).task_new_kexie == 1


def test_import_with_bad_rows_saves_nothing(client, scored, session):
    program, _apps, _experts = scored
    csv_text = "单位代码,新建企业科协任务,联系人制度任务\n110000,120,300\n999999,5,5\n120000,-3,4\n"
    response = _post(client, f"/campaigns/{program.campaign_id}/targets", {
        "action": "import", "file": (io.BytesIO(csv_text.encode("gb18030")), "任务.csv")},
        content_type="multipart/form-data")
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 3 行" in body and "第 4 行" in body
    assert session.scalars(select(UnitTarget)).all() == []


def _roster(session, application, n):
    for row in range(2, 2 + n):
        session.add(RosterEntry(application_id=application.id, row_no=row, name=f"第{row}号企业科协",
                                founded_on=date(2025, 5, 1)))
    session.commit()


def test_spot_check_sample_reproducible_from_seed(client, scored, session):
    from webapp.inspection.sampling import draw_sample

    program, apps, _experts = scored
    application = apps[0]
    _roster(session, application, 40)
    _post(client, f"/programs/{program.id}/spot-checks", {"application_id": str(application.id), "seed": "20251120",
                                                          "size": "", "inspector_id": ""})
    check = session.scalar(select(SpotCheck))
    assert (check.seed, check.sample_size, check.roster_size) == (20251120, 5, 40)
    rows = [e.row_no for e in check.entries]
    assert rows == draw_sample(list(range(2, 42)), 5, 20251120)
    assert rows == sorted(random.Random(20251120).sample(list(range(2, 42)), 5))


def _record(client, check, entry, status, note=""):
    return _post(client, f"/spot-checks/{check.id}", {"entry_id": str(entry.id), "status": status, "note": note})


def test_verified_rate_feeds_the_engine_and_flags_candidates(client, scored, session):
    program, apps, _experts = scored
    application = apps[0]
    _roster(session, application, 10)
    _post(client, f"/programs/{program.id}/spot-checks", {"application_id": str(application.id), "seed": "7",
                                                          "size": "5", "inspector_id": ""})
    check = session.scalar(select(SpotCheck))
    entries = session.scalars(select(SpotCheckEntry).order_by(SpotCheckEntry.row_no)).all()
    outcomes = ["verified", "verified", "dormant", "not_found", "duplicate"]
    for entry, status in zip(entries, outcomes, strict=True):
        _record(client, check, entry, status, note="" if status == "verified" else "实地走访核实")
    claimed = session.get(Application, application.id).figure_values()["enterprise_kexie_new"]
    expected = (claimed * Decimal(2) / Decimal(5)).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    _post(client, f"/programs/{program.id}/results/run", {"bootstrap": "0", "seed": "1"},
          page=f"/programs/{program.id}/results")
    run = session.scalar(select(ResultRun))
    used = next(Decimal(v) for a, k, v in run.inputs_data()["indicators"]
                if a == application.unit.code and k == "enterprise_kexie_new")
    assert used == expected
    body = client.get(f"/programs/{program.id}/spot-checks").get_data(as_text=True)
    assert "名册核实率 40%，低于 60%" in body


def test_replaced_evidence_is_removed_once_nothing_uses_it(app, client, scored, session):
    from tests.webapp.test_uploads import make_png
    from webapp.applications.uploads import open_stored

    program, apps, _experts = scored
    _roster(session, apps[0], 6)
    _post(client, f"/programs/{program.id}/spot-checks", {"application_id": str(apps[0].id), "seed": "1",
                                                          "size": "", "inspector_id": ""})
    check = session.scalar(select(SpotCheck))
    entry_id = check.entries[0].id
    upload_dir = Path(app.config["UPLOAD_DIR"])

    def record(png):
        _post(client, f"/spot-checks/{check.id}", {"entry_id": str(entry_id), "status": "verified", "note": "",
                                                    "evidence": (io.BytesIO(png), "现场照片.png")},
              content_type="multipart/form-data")
        session.expire_all()
        return session.get(SpotCheckEntry, entry_id).evidence_sha256

    first = record(make_png(2, 2))
    second = record(make_png(3, 3))
    assert first and second and first != second
    assert open_stored(upload_dir, second).is_file()
    with pytest.raises(FileNotFoundError):
        open_stored(upload_dir, first)  # replaced and used nowhere else: removed after the commit

    # evidence that another entry also holds stays on disk when one of them replaces it
    other_id = check.entries[1].id
    shared = make_png(5, 5)
    _post(client, f"/spot-checks/{check.id}", {"entry_id": str(other_id), "status": "verified", "note": "",
                                                "evidence": (io.BytesIO(shared), "另一张.png")},
          content_type="multipart/form-data")
    third = record(shared)
    assert session.get(SpotCheckEntry, other_id).evidence_sha256 == third
    record(make_png(6, 6))
    assert open_stored(upload_dir, third).is_file()
    with pytest.raises(FileNotFoundError):
        open_stored(upload_dir, second)


def test_not_verified_without_note_refused(client, scored, session):
    program, apps, _experts = scored
    _roster(session, apps[0], 6)
    _post(client, f"/programs/{program.id}/spot-checks", {"application_id": str(apps[0].id), "seed": "1",
                                                          "size": "", "inspector_id": ""})
    check = session.scalar(select(SpotCheck))
    response = _record(client, check, check.entries[0], "dormant")
    assert "请写明核查情况" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert session.get(SpotCheckEntry, check.entries[0].id).status == CheckStatus.pending


def test_expert_inspector_sees_only_own_and_conflict_refused(client, login, make_user, scored, session):
    program, apps, experts = scored
    beijing = next(a for a in apps if a.unit.code == "110000")
    _roster(session, beijing, 6)
    conflicted = make_user(Role.expert, username="bj_inspector", region="110000")
    response = _post(client, f"/programs/{program.id}/spot-checks", {
        "application_id": str(beijing.id), "seed": "3", "size": "", "inspector_id": str(conflicted.id)})
    assert "不能核查北京市科学技术协会" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert session.scalar(select(SpotCheck)) is None  # refused as a whole: no sample drawn either
    inspector = experts[0]
    _post(client, f"/programs/{program.id}/spot-checks", {
        "application_id": str(beijing.id), "seed": "3", "size": "", "inspector_id": str(inspector.id)})
    check = session.scalar(select(SpotCheck))
    login(inspector)
    assert "北京市科学技术协会" in client.get("/inspections").get_data(as_text=True)
    assert client.get(f"/spot-checks/{check.id}").status_code == 200
    login(experts[1])
    assert client.get(f"/spot-checks/{check.id}").status_code == 404


def test_dashboard_shows_progress_and_exports(client, scored, session):
    program, _apps, _experts = scored
    set_national(client, program.campaign_id)
    body = client.get(f"/campaigns/{program.campaign_id}/dashboard").get_data(as_text=True)
    assert "新建企业科协" in body and "<svg" in body and "园区科协覆盖率" in body
    city = client.get(f"/campaigns/{program.campaign_id}/dashboard?group=city").get_data(as_text=True)
    assert "大连市科学技术协会" in city and "北京市科学技术协会" not in city
    export = client.get(f"/campaigns/{program.campaign_id}/dashboard.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"


def test_unit_sees_its_spot_check_and_effective_figure(client, login, make_user, scored, session):
    from webapp.auth.models import ApplicantRole

    program, apps, _experts = scored
    application = apps[0]
    _roster(session, application, 10)
    _post(client, f"/programs/{program.id}/spot-checks", {"application_id": str(application.id), "seed": "9",
                                                          "size": "5", "inspector_id": ""})
    check = session.scalar(select(SpotCheck))
    for entry in session.scalars(select(SpotCheckEntry)).all():
        _record(client, check, entry, "verified")
    login(make_user(Role.applicant, unit_code=application.unit.code, applicant_role=ApplicantRole.clerk))
    body = client.get(f"/applications/{application.id}").get_data(as_text=True)
    claimed = int(session.get(Application, application.id).figure_values()["enterprise_kexie_new"])
    assert "随机种子 9" in body and "100%" in body and f"按 {claimed} × 核实率 = {claimed} 计" in body


def test_application_started_after_allocation_gets_locked_tasks(client, login, make_user, make_program, session,
                                                                  frozen, unit):
    from webapp.auth.models import ApplicantRole
    from webapp.campaigns.models import Phase, ProgramKind

    program = make_program(ProgramKind.post_subsidy, phase=Phase.open, year=2026,
                           deadline=datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC))
    login(make_user(Role.office))
    set_national(client, program.campaign_id)
    _post(client, f"/campaigns/{program.campaign_id}/targets",
          {"action": "allocate", "basis-210200": "3000", "basis-110000": "9000"})
    frozen(datetime(2025, 11, 20, 2, 5, tzinfo=UTC))
    login(make_user(Role.applicant, unit_code="210200", applicant_role=ApplicantRole.clerk))
    page = csrf_token(client.get("/portal").get_data(as_text=True))
    response = client.post(f"/programs/{program.id}/apply", data={"csrf_token": page})
    app_id = int(response.headers["Location"].rsplit("/", 1)[1])
    figures = {f.indicator: f for f in session.get(Application, app_id).figures}
    assert figures["task_new_kexie"].value == Decimal(1500) and figures["task_new_kexie"].source == FigureSource.office
    assert figures["task_liaison"].value == Decimal(3750)
    body = client.get(f"/applications/{app_id}/figures").get_data(as_text=True)
    assert "该数据由中国科协核定（任务分配），不能修改。" in body
