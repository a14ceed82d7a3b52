"""Finance takes a final campaign to money in a real browser: the award list, the notice, a payment.

The program is built directly in the database (set-up, not the office's workflow; the same recipe as
``test_results_e2e``): campaign 2024, the post-subsidy program in "panel" with 12 passed applications that
carry payee details, their figures and 7 experts' submitted reviews. The office's steps are the operations
the pages call, run in app contexts with the office account as actor: the results (bootstrap 50, seed
fixed), the proposals adopted as the decisions, the publicity period opened on 2024-11-20 (the calendar
ends it on 2024-11-26) and, with the server clock on 2024-11-27, 定案.

A finance account then signs in and lands on /finance, downloads the program's award list (支持名单, read
back with openpyxl: the funded units, their amounts, the amounts in capitals, the payee details and the
totals row), opens 通报表扬 and downloads the notice (read back with python-docx: the attachment lists the
funded units in code order), records one payment (date and voucher) on the payment register and sees it as
已拨付, on the register, on its home page and in the award list downloaded again.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.helpers import EXPERT_REGIONS, UNIT_CODES, campaign_of, click_and_load, path_of, sign_in
from tests.e2e.helpers import build_scored_program as _build
from webapp.auth.models import Role

pytestmark = pytest.mark.e2e


YEAR = 2024  # no other e2e module uses this campaign year; the Chinese calendar knows it
START = datetime(YEAR, 11, 20, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Beijing time
AFTER_PERIOD = datetime(YEAR, 11, 27, 1, 0, tzinfo=UTC)  # Wednesday 09:00 Beijing time, the day after
PERIOD_END = date(YEAR, 11, 26)  # 20, 21, 22, 25, 26 November: 5 working days
CONTACT = "中国科协计划财务部，电话 010-68571894，北京市海淀区复兴路3号（邮编100863）"
PAID_ON = "2024-11-27"
VOUCHER = "记-202411-0127"
BANK = "中国工商银行北京海淀支行"

# Written out by hand (not by the app's converter): the post-subsidy rubric pays 100,000–150,000 in 10,000 steps.
CAPITALS = {
    100000: "壹拾万元整",
    110000: "壹拾壹万元整",
    120000: "壹拾贰万元整",
    130000: "壹拾叁万元整",
    140000: "壹拾肆万元整",
    150000: "壹拾伍万元整",
}


def account_number(code: str) -> str:
    return f"0200{code}0000{UNIT_CODES.index(code):04d}"  # text: the leading zero must survive


def take_to_final(live_server, server_clock, program_id: int, office_id: int) -> dict[str, tuple[str, int]]:
    """Results, proposals adopted, publicity from 2024-11-20, then 定案 on 2024-11-27 — the operations the
    office's pages call. Returns the funded units as {unit code: (unit name, amount in yuan)}."""
    from webapp.auth.models import User
    from webapp.campaigns.models import Phase, Program
    from webapp.core.db import db
    from webapp.publicity.operations import finalise, open_round, rounds
    from webapp.results.models import DecisionKind
    from webapp.results.operations import adopt_proposals, current_decisions, run_results

    app = live_server.app
    server_clock(START)
    with app.app_context():
        program = db.session.get(Program, program_id)
        office = db.session.get(User, office_id)
        run = run_results(program, bootstrap=50, seed=20241120, actor=office)
        adopt_proposals(program, run, actor=office)
        db.session.commit()
        db.session.remove()
    server_clock(START + timedelta(minutes=10))
    with app.app_context():
        program = db.session.get(Program, program_id)
        office = db.session.get(User, office_id)
        round_ = open_round(program, start=date(YEAR, 11, 20), contact=CONTACT, actor=office)
        assert round_.end_date == PERIOD_END
        db.session.commit()
        db.session.remove()
    server_clock(AFTER_PERIOD)
    with app.app_context():
        program = db.session.get(Program, program_id)
        office = db.session.get(User, office_id)
        finalise(program, actor=office)
        db.session.commit()
        program = db.session.get(Program, program_id)
        assert Phase(program.phase) == Phase.final
        assert len(rounds(program)) == 1
        funded = {
            d.application.unit.code: (d.application.unit.name, int(d.amount))
            for d in current_decisions(program).values()
            if DecisionKind(d.kind).funded
        }
        db.session.remove()
    return funded


def downloaded(download) -> BytesIO:
    """The downloaded file's bytes (Playwright keeps it under a name without the extension)."""
    with open(download.path(), "rb") as stream:
        return BytesIO(stream.read())


def award_sheet(payload: BytesIO) -> tuple[list[dict[str, object]], dict[str, object], dict[str, object]]:
    """(award rows as {header: value}, the totals row, the totals row's cached values) of 支持名单."""
    formulas = load_workbook(payload)["支持名单"]
    payload.seek(0)
    values = load_workbook(payload, data_only=True)["支持名单"]
    headers = [cell.value for cell in formulas[2]]
    rows, totals, cached = [], None, None
    for number in range(3, formulas.max_row + 1):
        row = dict(zip(headers, (cell.value for cell in formulas[number]), strict=True))
        if row["序号"] == "合计":
            totals = row
            cached = dict(zip(headers, (cell.value for cell in values[number]), strict=True))
            break
        rows.append(row)
    assert totals is not None, "no totals row"
    return rows, totals, cached


def test_finance_downloads_award_list_and_notice_and_records_a_payment(live_server, page, server_clock):
    port = live_server.url.rsplit(":", 1)[1]
    office = live_server.create_user(Role.office, username=f"finance_office_{port}")
    finance = live_server.create_user(Role.finance, username=f"finance_{port}")
    experts = [
        live_server.create_user(Role.expert, username=f"finance_ex{n}_{port}", region=region)
        for n, region in enumerate(EXPERT_REGIONS)
    ]
    server_clock(START - timedelta(days=1))
    program_id = live_server.open_program(year=YEAR, deadline=datetime(YEAR, 10, 31, 15, 59, 59, tzinfo=UTC))
    build_scored_program(live_server, program_id, [e.id for e in experts])
    funded = take_to_final(live_server, server_clock, program_id, office.id)
    assert len(funded) >= 2, funded
    assert 150000 in {amount for _, amount in funded.values()}  # the best ranked unit gets the maximum
    assert all(amount in CAPITALS for _, amount in funded.values()), funded
    total = sum(amount for _, amount in funded.values())
    campaign_id = campaign_of(live_server, program_id)
    title = f"{YEAR}年度后补助"

    # ------------------------------------------------ finance signs in and lands on its home page
    page.goto(f"{live_server.url}/")
    assert path_of(page) == "/login"
    sign_in(page, finance)
    assert path_of(page) == "/finance"
    expect(page.get_by_role("heading", level=1)).to_have_text("财务首页")
    expect(page.locator(".overdue-box")).to_have_count(0)  # due 2025-03-31: nothing is overdue yet
    program_row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("cell", name=title, exact=True)
    )
    expect(program_row).to_have_count(1)
    expect(program_row.locator("td").nth(1)).to_contain_text("定案")
    expect(program_row.locator("td").nth(3)).to_have_text(f"{total:,}")
    expect(program_row.locator("td").nth(4)).to_have_text("0")

    # ------------------------------------------------ the award list (支持名单)
    with page.expect_download() as download_info:
        program_row.get_by_role("link", name="支持名单", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"支持名单-{YEAR}-")
    assert download.suggested_filename.endswith(".xlsx")
    rows, totals, cached = award_sheet(downloaded(download))
    by_code = {row["单位代码"]: row for row in rows}
    assert set(by_code) == set(funded)
    assert [row["单位代码"] for row in rows] == sorted(funded)  # unit order (all provinces here: by code)
    assert [row["序号"] for row in rows] == list(range(1, len(rows) + 1))
    for code, (name, amount) in funded.items():
        row = by_code[code]
        assert row["单位名称"] == name
        assert row["支持方式"] == "后补助"
        assert Decimal(str(row["金额（元）"])) == amount
        assert row["金额大写"] == CAPITALS[amount]
        assert row["收款单位"] == name
        assert row["开户银行"] == BANK
        assert row["账号"] == account_number(code)
        assert row["拨付期限"].date() == date(YEAR + 1, 3, 31)  # post-subsidy: 31 March of the next year
    assert str(totals["金额（元）"]).startswith("=SUM(")
    assert Decimal(str(cached["金额（元）"])) == total
    assert totals["单位名称"] == f"共 {len(funded)} 个单位"

    # ------------------------------------------------ the commendation notice (通报表扬)
    click_and_load(page, page.get_by_role("link", name="通报表扬", exact=True))
    assert path_of(page) == f"/campaigns/{campaign_id}/notices/commendation"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{YEAR}年度通报表扬")
    expect(page.get_by_role("button", name="保存文稿")).to_have_count(0)  # finance reads, the office edits
    listed = page.locator("main section.card ol li")
    expect(listed).to_have_count(len(funded))
    expected_order = [funded[code][0] for code in sorted(funded)]
    for n, name in enumerate(expected_order):
        expect(listed.nth(n)).to_contain_text(name)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载通报（DOCX，GB/T 9704 公文格式）").click()
    download = download_info.value
    assert download.suggested_filename == f"{YEAR}年通报表扬.docx"
    document = Document(downloaded(download))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"关于对{YEAR}年企业科协组织建设工作成效显著单位予以通报表扬的通报" in text
    assert f"{YEAR}年企业科协组织建设工作成效显著单位名单" in text
    attachment = document.tables[-1]
    assert [cell.text for cell in attachment.rows[0].cells][:2] == ["序号", "单位"]
    units = [[cell.text for cell in row.cells] for row in attachment.rows[1:]]
    assert [u[1] for u in units] == expected_order
    assert [u[0] for u in units] == [str(n) for n in range(1, len(funded) + 1)]
    for code, row in zip(sorted(funded), units, strict=True):
        # the amount in 万元 (the app currently writes e.g. "12.00万元"; the value is what is checked)
        match = re.fullmatch(r"后补助 (\d+(?:\.\d+)?)万元", row[2])
        assert match, row[2]
        assert Decimal(match.group(1)) * 10000 == funded[code][1]

    # ------------------------------------------------ one payment recorded on the register
    page.goto(f"{live_server.url}/finance")
    program_row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("cell", name=title, exact=True)
    )
    click_and_load(page, program_row.get_by_role("link", name="拨付登记", exact=True))
    assert path_of(page) == f"/programs/{program_id}/payments"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{title} · 拨付登记")
    expect(page.locator("main p.muted")).to_contain_text("拨付期限 2025-03-31")
    lines = page.locator("main table tbody tr")
    expect(lines).to_have_count(len(funded))
    paid_code = sorted(funded)[0]
    paid_name, paid_amount = funded[paid_code]
    line = lines.filter(has=page.get_by_role("cell", name=paid_name, exact=True))
    expect(line.locator("td").nth(1)).to_have_text(f"{paid_amount:,}")
    expect(line.locator("td").nth(3)).to_have_text("待拨付")
    line.get_by_label("拨付日期").fill(PAID_ON)
    line.get_by_label("凭证号").fill(VOUCHER)
    click_and_load(page, line.get_by_role("button", name="登记", exact=True))
    assert path_of(page) == f"/programs/{program_id}/payments"
    expect(page.locator(".flashes")).to_contain_text(f"已登记 {paid_name} 的拨付。")
    line = lines.filter(has=page.get_by_role("cell", name=paid_name, exact=True))
    expect(line.locator("td").nth(3)).to_have_text(f"已拨付 {PAID_ON} · 凭证 {VOUCHER}")
    expect(line.get_by_role("button", name="登记", exact=True)).to_have_count(0)  # cannot be paid twice
    expect(page.locator("main p.muted")).to_contain_text(f"已拨付 {paid_amount:,} 元")
    expect(page.locator("main p.muted")).to_contain_text("阶段 定案")  # the others are still unpaid
    for code in sorted(funded)[1:]:
        other = lines.filter(has=page.get_by_role("cell", name=funded[code][0], exact=True))
        expect(other.locator("td").nth(3)).to_have_text("待拨付")

    # the award list downloaded again carries the payment in its remarks
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载支持名单（XLSX，含拨付情况）").click()
    rows, _totals, _cached = award_sheet(downloaded(download_info.value))
    remarks = {row["单位代码"]: row["备注"] or "" for row in rows}
    assert remarks[paid_code] == f"已拨付 {PAID_ON}，凭证 {VOUCHER}"
    assert not any("已拨付" in remarks[code] for code in funded if code != paid_code)

    page.goto(f"{live_server.url}/finance")
    program_row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("cell", name=title, exact=True)
    )
    expect(program_row.locator("td").nth(4)).to_have_text(f"{paid_amount:,}")


def build_scored_program(live_server, program_id: int, expert_ids: list[int], *, seed: int = 11) -> None:
    """Most units above the 60-point line, each with payee details (the account a text with a leading zero)."""
    _build(
        live_server,
        program_id,
        expert_ids,
        at=START - timedelta(days=10),
        seed=seed,
        quality_floor=0.55,
        payee=lambda unit: (unit.name, BANK, account_number(unit.code)),
    )
