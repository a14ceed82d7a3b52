"""A roster spot check (名册抽查) in a real browser: office draws, an inspector records, the figures follow.

Set-up directly in the database (not the applicants' workflow): campaign 2026, the post-subsidy program with
three passed applications, each claiming 10 new enterprise associations (enterprise_kexie_new) with a
roster; the checked unit's roster has 20 rows. The inspector is an expert from Guangdong, which conflicts
with none of the three units. The server's clock is frozen in Beijing time.

The office opens the program's spot checks, draws a sample of 5 for one unit with seed 42 and the expert as
inspector; the page shows the seed, and the sampled rows are those the seed gives. The expert signs in,
finds the check under /inspections and records the five rows: a finding other than 属实 without a note is
refused; then 3 属实, 1 名存实亡 and 1 查无此会 (with notes). The page shows 核实率 60% and the effective
figure 10 → 6. The office signs in again and sees "60% · 10 → 6" on the spot-checks page and 6（60%） in the
核实后 column of the national dashboard, while the units not yet checked keep their claimed 10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import click_and_load, path_of, sign_in
from webapp.auth.models import Role

pytestmark = pytest.mark.e2e

YEAR = 2026  # no other e2e module uses this campaign year
NOW = datetime(YEAR, 11, 10, 2, 0, tzinfo=UTC)  # Tuesday 10:00 Beijing time, inspection season
UNIT_CODES = ["110000", "120000", "130000"]
CHECKED = "120000"
ROSTER_ROWS = {"110000": 8, "120000": 20, "130000": 12}
INSPECTOR_REGION = "440000"
SEED = 42
SAMPLE = 5
CLAIMED = 10
FINDINGS = [  # (结论, 核查情况) for the sampled rows in page order
    ("属实", ""),
    ("名存实亡", "企业科协自成立后未开展活动，无会员名册和活动记录。"),
    ("属实", "现场查看了成立批复和会员名册。"),
    ("查无此会", "该企业称从未成立科协，名册所列批准文号查无记录。"),
    ("属实", ""),
]


def build_submitted_program(live_server, program_id: int) -> None:
    """Three passed applications with their figures (10 new associations claimed each) and rosters."""
    from webapp.applications.models import Application, ApplicationStatus, Figure, FigureSource, RosterEntry
    from webapp.campaigns.models import Program
    from webapp.campaigns.rubrics import rubric_of
    from webapp.core.db import db
    from webapp.units.models import Unit

    at = NOW - timedelta(days=20)
    with live_server.app.app_context():
        program = db.session.get(Program, program_id)
        indicator_keys = {i.key for i in rubric_of(program).indicators}
        for n, code in enumerate(UNIT_CODES):
            unit = db.session.query(Unit).filter(Unit.code == code).one()
            application = Application(program_id=program_id, unit=unit, status=ApplicationStatus.passed,
                                      created_at=at, updated_at=at, submitted_at=at - timedelta(minutes=n))
            db.session.add(application)
            values = {
                "regulated_enterprises": 5000 + 1000 * n, "enterprise_kexie_total": 400 + 50 * n,
                "enterprise_kexie_new": CLAIMED, "task_new_kexie": CLAIMED,
                "liaison_enterprises": 150, "task_liaison": 200,
                "parks_total": 40, "parks_with_kexie": 12, "national_parks_total": 6,
                "national_parks_with_kexie": 3,
            }
            for key, value in values.items():
                if key in indicator_keys:
                    db.session.add(Figure(application=application, indicator=key, value=Decimal(value),
                                          source=FigureSource.unit, updated_at=at))
            for row in range(2, 2 + ROSTER_ROWS[code]):  # row 1 of the roster file is its header
                db.session.add(RosterEntry(application=application, row_no=row,
                                           name=f"{unit.name}第{row}号企业科协", enterprise=f"第{row}号企业",
                                           founded_on=date(YEAR, 3, 1) + timedelta(days=row),
                                           approval_no=f"科协批字〔{YEAR}〕{row}号", members=20 + row))
        db.session.commit()
        db.session.remove()


def campaign_of(live_server, program_id: int) -> int:
    from webapp.campaigns.models import Program
    from webapp.core.db import db

    with live_server.app.app_context():
        campaign_id = db.session.get(Program, program_id).campaign_id
        db.session.remove()
    return campaign_id


def unit_row(page, locator, name: str):
    return locator.filter(has=page.get_by_role("cell", name=name, exact=True))


def test_inspector_records_sample_and_office_sees_effective_figures(live_server, page, server_clock):
    from webapp.inspection.sampling import draw_sample

    server_clock(NOW)
    port = live_server.url.rsplit(":", 1)[1]
    office = live_server.create_user(Role.office, username=f"inspect_office_{port}")
    inspector = live_server.create_user(Role.expert, username=f"inspector_{port}", region=INSPECTOR_REGION,
                                        display_name=f"核查专家{port}")
    program_id = live_server.open_program(year=YEAR, deadline=datetime(YEAR, 10, 31, 15, 59, 59, tzinfo=UTC))
    build_submitted_program(live_server, program_id)
    campaign_id = campaign_of(live_server, program_id)
    names = {code: live_server.unit_name(code) for code in UNIT_CODES}
    checked = names[CHECKED]
    expected_rows = draw_sample(list(range(2, 2 + ROSTER_ROWS[CHECKED])), SAMPLE, SEED)
    spot_checks_path = f"/programs/{program_id}/spot-checks"

    # ------------------------------------------------ office: draw the sample with seed 42
    page.goto(f"{live_server.url}{spot_checks_path}")
    assert path_of(page) == "/login"
    sign_in(page, office)
    assert path_of(page) == spot_checks_path
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{YEAR}年度后补助 · 名册抽查")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(len(UNIT_CODES))
    row = unit_row(page, rows, checked)
    expect(row.locator("td").nth(1)).to_have_text(str(ROSTER_ROWS[CHECKED]))
    expect(row.locator("td").nth(2)).to_have_text("—")
    row.get_by_label("样本数").fill(str(SAMPLE))
    row.get_by_label("种子").fill(str(SEED))
    row.get_by_label("核查人").select_option(label=inspector.display_name)
    click_and_load(page, row.get_by_role("button", name="抽取样本", exact=True))
    assert path_of(page) == spot_checks_path
    expect(page.locator(".flashes")).to_contain_text(f"已抽取 {checked} 的名册样本。")
    row = unit_row(page, rows, checked)
    expect(row.locator("td").nth(2)).to_contain_text(f"样本 {SAMPLE} 条")
    expect(row.locator("td .mono")).to_have_text(str(SEED))
    expect(row.locator("td").nth(2)).to_contain_text(f"核查人 {inspector.display_name}")
    expect(row.locator("td").nth(3)).to_have_text("核查中")
    expect(row.get_by_role("button", name="指定核查人", exact=True)).to_have_count(1)  # no second draw
    expect(row.get_by_label("种子")).to_have_count(0)
    for code in UNIT_CODES:
        if code != CHECKED:
            expect(unit_row(page, rows, names[code]).locator("td").nth(2)).to_have_text("—")

    # ------------------------------------------------ the inspector records the five sampled rows
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/inspections")
    assert path_of(page) == "/login"
    sign_in(page, inspector)
    assert path_of(page) == "/inspections"
    expect(page.get_by_role("heading", level=1)).to_have_text("名册核查任务")
    task = page.locator("main li").filter(has_text=checked)
    expect(task).to_have_count(1)
    expect(task).to_contain_text(f"样本 {SAMPLE} 条")
    expect(task).to_contain_text("进行中")
    click_and_load(page, task.get_by_role("link", name=checked, exact=True))
    assert path_of(page).startswith("/spot-checks/")
    check_path = path_of(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{checked} · 名册核查")
    expect(page.locator("#seed")).to_have_text(str(SEED))
    expect(page.locator("#verified-rate")).to_have_text("核查中")
    expect(page.locator("#effective")).to_have_count(0)
    entries = page.locator("main table tbody tr")
    expect(entries).to_have_count(SAMPLE)
    shown_rows = [int(entries.nth(n).locator("td").nth(0).inner_text()) for n in range(SAMPLE)]
    assert sorted(shown_rows) == sorted(expected_rows)  # the sample is the one the seed gives
    for n, row_no in enumerate(shown_rows):
        expect(entries.nth(n).locator("td").nth(1)).to_have_text(f"{checked}第{row_no}号企业科协")
        expect(entries.nth(n).locator("td").nth(4)).to_have_text("待核查")

    # a finding other than 属实 needs a note
    entries.nth(1).get_by_label("结论").select_option(label="名存实亡")
    click_and_load(page, entries.nth(1).get_by_role("button", name="记录", exact=True))
    expect(page.locator(".flashes")).to_contain_text("核查结论不是“属实”时，请写明核查情况。")
    expect(entries.nth(1).locator("td").nth(4)).to_have_text("待核查")

    for n, (finding, note) in enumerate(FINDINGS):
        entry = entries.nth(n)
        entry.get_by_label("结论").select_option(label=finding)
        entry.get_by_label("核查情况").fill(note)
        click_and_load(page, entry.get_by_role("button", name="记录", exact=True))
        assert path_of(page) == check_path
        expect(page.locator(".flashes")).to_contain_text(f"已记录第 {shown_rows[n]} 行的核查结论。")
        expect(entries.nth(n).locator("td").nth(4)).to_have_text(f"{finding}：{note}" if note else finding)
        if n < len(FINDINGS) - 1:
            expect(page.locator("#verified-rate")).to_have_text("核查中")
    expect(page.locator("#verified-rate")).to_have_text("60%")
    expect(page.locator("#effective")).to_have_text("6")
    expect(page.locator("main p.muted")).to_contain_text(f"申报新建数 {CLAIMED} → 有效数 6")
    page.goto(f"{live_server.url}/inspections")
    expect(page.locator("main li").filter(has_text=checked)).to_contain_text("已完成")

    # ------------------------------------------------ office: the effect on the figures
    page.context.clear_cookies()
    page.goto(f"{live_server.url}{spot_checks_path}")
    assert path_of(page) == "/login"
    sign_in(page, office)
    assert path_of(page) == spot_checks_path
    row = unit_row(page, rows, checked)
    expect(row.locator("td").nth(3)).to_have_text(f"60% · {CLAIMED} → 6")

    page.goto(f"{live_server.url}/campaigns/{campaign_id}/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{YEAR}年企业科协组织建设全国进度")
    headers = [h.strip() for h in page.locator("#progress-table thead th").all_inner_texts()]
    verified_col, new_col = headers.index("核实后"), headers.index("新建 / 任务")
    table = page.locator("#progress-table tbody tr")
    dashboard_row = unit_row(page, table, checked)
    expect(dashboard_row.locator("td").nth(new_col)).to_have_text(f"{CLAIMED} / {CLAIMED}")  # as claimed
    expect(dashboard_row.locator("td").nth(verified_col)).to_have_text("6（60%）")
    for code in UNIT_CODES:
        if code != CHECKED:  # not checked: the claimed figure counts as it is
            expect(unit_row(page, table, names[code]).locator("td").nth(verified_col)).to_have_text(str(CLAIMED))
