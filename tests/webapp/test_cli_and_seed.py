"""``flask`` commands: units, the demo, the first administrator, audit verification."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from docx import Document
from sqlalchemy import func, select, text

from webapp.applications.models import (
    Application,
    ApplicationStatus,
    AttachmentPurpose,
    CheckDecision,
    FigureSource,
)
from webapp.applications.operations import missing_parts, roster_count_check
from webapp.applications.uploads import open_stored
from webapp.audit.models import AuditEvent
from webapp.auth.models import Role, User
from webapp.campaigns.models import Campaign, Phase, Program, ProgramKind
from webapp.campaigns.rubrics import rubric_of
from webapp.exports.models import NoticeDraft, NoticeKind
from webapp.inspection.models import CheckStatus, NationalTarget, SpotCheck, TargetSource, UnitTarget
from webapp.inspection.operations import criticism_candidates, effective_new
from webapp.payments.models import Payment
from webapp.payments.operations import award_lines
from webapp.publicity.models import Conclusion
from webapp.publicity.operations import latest_round, objections
from webapp.results.models import DecisionKind
from webapp.results.operations import current_decisions, funded_total, is_stale, latest_run
from webapp.reviews.models import Assignment, AssignmentStatus, Score
from webapp.seed import SPOT_CHECKS
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


def test_seed_demo_builds_campaign_prints_logins_and_refuses_a_second_time(app, session, client, login):
    """One build of the demo (each takes seconds) for everything the command itself promises."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "所有演示账户的密码均为：Kexie@2014demo" in result.output
    for username in ("admin", "auditor", "office", "finance", "expert01", "u110000c", "u110000l"):
        assert username in result.output
    campaign = session.scalar(select(Campaign).where(Campaign.year == 2014))
    assert {p.kind for p in campaign.programs} == {ProgramKind.pilot, ProgramKind.post_subsidy}
    # The demo's story runs to the furthest phase built: the pilot is final, the post-subsidy in publicity.
    assert {p.kind: p.phase for p in campaign.programs} == {
        ProgramKind.pilot: Phase.final,
        ProgramKind.post_subsidy: Phase.publicity,
    }
    roles = set(session.scalars(select(User.role)))
    assert roles == set(Role)
    assert session.scalar(select(func.count()).select_from(User).where(User.role == Role.applicant)) == 94
    # Nine experts from nine regions, a sub-provincial city (青岛) and 新疆 among them, all marked as demo.
    experts = session.scalars(select(User).where(User.role == Role.expert)).all()
    assert sorted(e.username for e in experts) == [f"expert{n:02d}" for n in range(1, 10)]
    regions = {e.home_region.code for e in experts}
    assert len(regions) == 9 and {"370200", "650000"} <= regions
    assert all("演示" in e.display_name and e.affiliation for e in experts)
    assert len({e.password_hash for e in experts}) == 1
    for line in ("expert09", "http://127.0.0.1:5000/publicity", "1 件调查中"):
        assert line in result.output

    # the printed password works, and the campaign page shows both programmes' phases
    assert login("office", password="Kexie@2014demo").status_code == 302
    body = client.get("/campaigns").get_data(as_text=True)
    assert "公示" in body and "定案" in body

    # a second run refuses cleanly and changes nothing
    users = session.scalar(select(func.count()).select_from(User))
    again = runner.invoke(args=["seed", "demo"])
    assert again.exit_code == 1
    assert "演示数据已存在" in again.output
    assert session.scalar(select(func.count()).select_from(User)) == users


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
    assert pilot.phase == Phase.final and post.phase == Phase.publicity

    pilot_apps = _applications(session, pilot)
    assert Counter(a.status for a in pilot_apps) == {ApplicationStatus.passed: 6}
    assert all(a.nominated_by is not None and a.nominated_by.username == "office" for a in pilot_apps)
    assert all(a.figure_values()["matching_funds"] >= 100000 for a in pilot_apps)

    post_apps = _applications(session, post)
    assert Counter(a.status for a in post_apps) == {
        ApplicationStatus.passed: 34,  # including one resubmitted after a correction
        ApplicationStatus.rejected: 2,  # one with reasons, one whose correction window expired
        ApplicationStatus.draft: 5,
    }
    assert 47 - len(post_apps) == 6  # never started
    drafts = [a for a in post_apps if a.status == ApplicationStatus.draft]
    assert all(missing_parts(a) for a in drafts)
    assert len({tuple(missing_parts(a)) for a in drafts}) == 5  # each draft lacks something different
    withdrawn = [r for a in post_apps for r in a.receipts if r.withdrawn_at is not None]
    assert len(withdrawn) == 3 and all(r.number.endswith("-01") for r in withdrawn)
    decisions = Counter(c.decision for a in post_apps for c in a.checks)
    assert decisions[CheckDecision.returned] == 2 and decisions[CheckDecision.rejected] == 2
    rejected = [a for a in post_apps if a.status == ApplicationStatus.rejected]
    assert all(a.checks[-1].note for a in rejected)
    assert {a.unit.code for a in rejected} == {"620000", "610100"}

    # Expert review: everything submitted (one declared conflict), at least five reviews per application.
    assignments = session.scalars(select(Assignment)).all()
    by_status = Counter(a.status for a in assignments)
    assert by_status[AssignmentStatus.assigned] == 0 and by_status[AssignmentStatus.declined] == 1
    reviews = Counter(a.application_id for a in assignments if a.status == AssignmentStatus.submitted)
    passed_post = [a for a in post_apps if a.status == ApplicationStatus.passed]
    assert all(reviews[a.id] >= 5 for a in passed_post)
    assert all(reviews[a.id] >= 5 for a in pilot_apps)
    for assignment in assignments:  # no expert reviews an application from their own region
        assert assignment.expert.home_region.code not in (
            assignment.application.unit.code,
            assignment.application.unit.parent_code,
        )
    rubrics = {p.id: {c.key: c for c in rubric_of(p).expert_criteria} for p in (pilot, post)}
    for assignment in (a for a in assignments if a.status == AssignmentStatus.submitted):
        criteria = rubrics[assignment.application.program_id]
        assert len(assignment.opinion) >= 20
        assert {s.criterion for s in assignment.scores} == set(criteria)
        for score in assignment.scores:
            criterion = criteria[score.criterion]
            assert 0 <= score.score <= criterion.max and score.score % criterion.step == 0
    assert session.scalar(select(func.count()).select_from(Score)) > 1500
    events = {
        action: session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for action in ("review.declare_conflict", "review.reopen")
    }
    declared, reopened = events["review.declare_conflict"], events["review.reopen"]
    assert len(declared) == 1 and declared[0].actor_name.startswith("expert")
    assert "回避" in declared[0].detail_data["reason"]
    assert len(reopened) == 1 and reopened[0].actor_name == "office" and reopened[0].detail_data["reason"]
    reopened_assignment = session.get(Assignment, int(reopened[0].object_id))
    assert reopened_assignment.status == AssignmentStatus.submitted
    assert reopened_assignment.submitted_at > reopened[0].at

    # Results: one run per program ranking every passed application; decisions within the budget.
    for program, bootstrap in ((pilot, 500), (post, 1000)):
        run = latest_run(program)
        passed = [a for a in _applications(session, program) if a.status == ApplicationStatus.passed]
        assert run is not None and run.bootstrap == bootstrap and run.seed is not None
        assert len(run.result_data()["applications"]) == len(passed)
        assert not is_stale(run)
        decided = current_decisions(program)
        assert set(decided) == {a.id for a in passed}
        assert 0 < funded_total(program) <= program.budget
    pilot_decisions = current_decisions(pilot)
    pilot_units = {d.application.unit_id for d in pilot_decisions.values() if d.kind == DecisionKind.pilot}
    assert pilot_units
    post_decisions = current_decisions(post).values()
    assert all(d.kind == DecisionKind.none for d in post_decisions if d.application.unit_id in pilot_units)
    overridden = [d for d in post_decisions if d.kind != d.proposed_kind]
    assert len(overridden) == 1 and overridden[0].kind == DecisionKind.criticism and overridden[0].reason

    # Publicity: the pilot's round is over and final; the post-subsidy's has two real-name objections.
    assert latest_round(pilot).end_date < date(2014, 9, 9)
    assert latest_round(post).start_date == date(2014, 12, 8)
    assert "010-68571894" in latest_round(post).contact
    found = objections(post)
    assert sorted(o.conclusion for o in found) == sorted([Conclusion.not_upheld, Conclusion.pending])
    assert all(o.name and o.organisation and o.phone for o in found)
    funded_ids = {d.application_id for d in post_decisions if DecisionKind(d.kind).funded}
    assert any(o.application_id in funded_ids for o in found)
    concluded = next(o for o in found if o.conclusion == Conclusion.not_upheld)
    assert [e.version for e in concluded.entries] == [1, 2]
    assert concluded.current.reply and concluded.current.concluded_on and concluded.current.replied_on

    # Targets: allocated in June so the parts sum exactly to the national targets; one adjustment (with a
    # reason) changes the sums by its delta. Every application's task figures are the office's, never typed.
    national = session.scalar(select(NationalTarget))
    assert (national.new_kexie, national.liaison) == (6000, 15000)
    assert (national.park_coverage, national.national_park_coverage, national.baseline_coverage) == (
        Decimal("0.25"),
        Decimal("0.40"),
        Decimal("0.061"),
    )
    targets = session.scalars(select(UnitTarget)).all()
    assert len(targets) == 47 and all(t.basis > 0 for t in targets)
    adjusted = [t for t in targets if t.source == TargetSource.adjusted]
    assert len(adjusted) == 1 and "地震" in adjusted[0].reason
    adjust = session.scalar(select(AuditEvent).where(AuditEvent.action == "targets.adjust"))
    before, after = adjust.detail_data["before"], adjust.detail_data["after"]
    assert after != before
    assert sum(t.task_new_kexie for t in targets) - (after[0] - before[0]) == 6000
    assert sum(t.task_liaison for t in targets) - (after[1] - before[1]) == 15000
    by_unit = {t.unit_id: t for t in targets}
    for application in [*pilot_apps, *post_apps]:
        figures = {f.indicator: f for f in application.figures}
        target = by_unit[application.unit_id]
        assert figures["task_new_kexie"].source == FigureSource.office
        assert figures["task_liaison"].source == FigureSource.office
        assert (figures["task_new_kexie"].value, figures["task_liaison"].value) == (
            target.task_new_kexie,
            target.task_liaison,
        )
    typed = session.scalars(select(AuditEvent).where(AuditEvent.action == "application.figures")).all()
    assert typed and not any(
        k in e.detail_data["changed"] for e in typed for k in ("task_new_kexie", "task_liaison")
    )
    for application in post_apps:  # completion of the new-association task: 50–130 % as claimed
        values = application.figure_values()
        assert Decimal("0.5") <= values["enterprise_kexie_new"] / values["task_new_kexie"] <= Decimal("1.3")

    # Spot checks: six post-subsidy rosters with the recorded seeds, inspectors without conflicts (the office
    # for one); one still in progress; one with a verified rate below 60 % (a criticism candidate, and the
    # unit the office criticised). The results run used the effective figures.
    checks = {c.application.unit.code: c for c in session.scalars(select(SpotCheck))}
    assert {code: c.seed for code, c in checks.items()} == {s[0]: s[3] for s in SPOT_CHECKS}
    assert all(c.application.program_id == post.id and c.application.roster for c in checks.values())
    assert sum(1 for c in checks.values() if c.inspector.role == Role.office) == 1
    for check in checks.values():
        unit, inspector = check.application.unit, check.inspector
        if inspector.role == Role.expert:
            assert inspector.home_region.code not in (unit.code, unit.parent_code)
    assert [code for code, c in checks.items() if not c.complete] == ["500000"]
    low = [code for code, c in checks.items() if c.complete and c.verified_rate < Decimal("0.6")]
    assert len(low) == 1
    hollow = checks[low[0]]
    assert {e.status for e in hollow.entries} == {
        CheckStatus.verified,
        CheckStatus.dormant,
        CheckStatus.not_found,
    }
    assert all(e.note for e in hollow.entries if e.status != CheckStatus.verified)
    with app.app_context():  # the thresholds come from the configuration
        candidates = criticism_candidates(pilot.campaign)
    assert low[0] in {c.application.unit.code for c in candidates}
    assert overridden[0].application.unit.code == low[0]
    indicators = {(u, k): Decimal(v) for u, k, v in latest_run(post).inputs_data()["indicators"]}
    for code, check in checks.items():
        assert indicators[(code, "enterprise_kexie_new")] == effective_new(check.application).effective
    claimed = hollow.application.figure_values()["enterprise_kexie_new"]
    assert (
        indicators[(low[0], "enterprise_kexie_new")] == (claimed * hollow.verified_rate).to_integral_value()
    )
    assert indicators[(low[0], "enterprise_kexie_new")] < claimed

    # Payments: finance paid every pilot award but one before 30 September; that one is overdue today.
    # Every funded unit entered its (plainly fake) payee details.
    lines = award_lines(pilot)
    payments = session.scalars(select(Payment)).all()
    finance = session.scalar(select(User).where(User.username == "finance"))
    assert len(lines) >= 2 and len(payments) == len(lines) - 1
    assert all(
        p.recorded_by_id == finance.id and date(2014, 9, 22) <= p.paid_on < date(2014, 9, 30)
        for p in payments
    )
    assert [line.overdue for line in lines if line.payment is None] == [True]
    for program in (pilot, post):
        for decision in current_decisions(program).values():
            if DecisionKind(decision.kind).funded:
                application = decision.application
                assert application.payee_name and "演示" in application.bank_name
                assert application.bank_account.startswith("622200000000")

    # The commendation notice as the office saved it.
    draft = session.scalar(select(NoticeDraft))
    assert draft.kind == NoticeKind.commendation and draft.campaign_id == pilot.campaign_id
    assert (draft.doc_number, draft.issued_on) == ("科协函企字〔2014〕96号", date(2014, 12, 26))

    assert "演示数据，非真实统计" in output
    assert "后补助" in output and "形式审查通过 34" in output and "未申报 6" in output
    for line in (
        "合计恰为全国目标",
        "全国目标新建企业科协 6000 个",
        "名册抽查：后补助 6 个单位",
        f"u{low[0]}l",
        "逾期未拨付",
    ):
        assert line in output
    for login in ("u610100l", "u520000c", "u460000c"):
        assert login in output

    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "审计链完整" in verify.output, verify.output
    # The story's events carry their 2014 dates, in order, from June to December.
    demo_times = [t for t in session.scalars(select(AuditEvent.at).order_by(AuditEvent.id)) if t.year == 2014]
    assert demo_times == sorted(demo_times)
    assert (demo_times[0].month, demo_times[-1].month) == (6, 12)


def test_demo_receipts_files_rosters_deadline_and_pages(app, session, client, login):
    programs, _ = _demo(app, session)
    pilot_id, campaign_id = programs[ProgramKind.pilot].id, programs[ProgramKind.pilot].campaign_id
    unpaid = next(line for line in award_lines(programs[ProgramKind.pilot]) if line.payment is None)
    unpaid_name = unpaid.decision.application.unit.name
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

    # The pilot is final: a chosen unit's leader sees its outcome. The public page shows the post-subsidy list.
    chosen = next(
        d.application
        for d in current_decisions(programs[ProgramKind.pilot]).values()
        if d.kind == DecisionKind.pilot
    )
    login(f"u{chosen.unit.code}l", password="Kexie@2014demo")
    outcome = client.get(f"/applications/{chosen.id}/outcome")
    assert outcome.status_code == 200 and "试点示范" in outcome.get_data(as_text=True)
    funded = next(
        d.application for d in current_decisions(post).values() if d.kind == DecisionKind.post_subsidy
    )
    public = client.get("/publicity").get_data(as_text=True)
    assert funded.unit.name in public and "010-68571894" in public

    # Finance sees the overdue pilot award and can download the award list and the saved notice.
    login("finance", password="Kexie@2014demo")
    home = client.get("/finance").get_data(as_text=True)
    assert "逾期未拨付" in home and unpaid_name in home
    awards = client.get(f"/programs/{pilot_id}/exports/awards.xlsx")
    assert awards.status_code == 200 and awards.data.startswith(b"PK")
    assert client.get(f"/campaigns/{campaign_id}/notices/commendation").status_code == 200
    docx = client.get(f"/campaigns/{campaign_id}/notices/commendation.docx")
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.data))
    assert "科协函企字〔2014〕96号" in "\n".join(p.text for p in document.paragraphs)

    # The office's national dashboard shows progress against the targets.
    login("office", password="Kexie@2014demo")
    notice = client.get(f"/campaigns/{campaign_id}/notices/commendation").get_data(as_text=True)
    assert "科协函企字〔2014〕96号" in notice and "2014-12-26" in notice
    dashboard = client.get(f"/campaigns/{campaign_id}/dashboard")
    assert dashboard.status_code == 200 and "6000" in dashboard.get_data(as_text=True).replace(",", "")
