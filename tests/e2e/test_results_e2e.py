"""From scored reviews to a unit's final outcome in a real browser, in Chinese.

The office runs the results (a ranking table whose totals are the stored run's), generates the
proposals, changes one decision (a change without a reason is refused; with a reason it stands, the
unfunded unit is commended) and opens the publicity period on 2025-11-20, which the calendar ends on
2025-11-26 (5 working days). A member of the public, not signed in, reads /publicity and objects to one
funded unit: anonymously (refused with the reason), then under a real name (a receipt number). The
office cannot finalise during the period, records the register entry "异议不成立" with a reply and a
date, and after the period (the clock moves to 2025-11-27, which ends the session, so the office signs
in again; a late objection is refused) finalises: the campaign page shows the program as 定案. The
leader of a funded unit then sees its outcome (后补助 and the amount) and its criteria scores.

The program is built directly in the database (set-up, not the office's workflow): campaign 2025, the
post-subsidy program in "panel" with 12 passed applications, their figures and 7 experts' submitted
reviews (the same recipe as ``tests/webapp/results_helpers.py``). The server's clock is frozen in
Beijing time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.helpers import EXPERT_REGIONS, UNIT_CODES, campaign_of, click_and_load, path_of, sign_in
from tests.e2e.helpers import build_scored_program as _build
from webapp.auth.models import ApplicantRole, Role

pytestmark = pytest.mark.e2e


YEAR = 2025  # no other e2e module uses this campaign year; the Chinese calendar knows it
START = datetime(YEAR, 11, 20, 2, 0, tzinfo=UTC)  # Thursday 10:00 Beijing time
AFTER_PERIOD = datetime(YEAR, 11, 27, 1, 0, tzinfo=UTC)  # Thursday 09:00 Beijing time, the day after
BOOTSTRAP = "100"
SEED = "20251120"

CONTACT = "中国科协计划财务部，电话 010-68571894，北京市海淀区复兴路3号（邮编100863）"
OVERRIDE_REASON = "该单位企业科协覆盖面提升明显，经会商给予通报表扬。"
OBJECTION = "该单位上报的规上企业科协数量与我们掌握的情况不符，部分企业科协尚未实际成立，请予核实。"
REPLY = "经向该单位及所在地统计部门核实，上报数据与备案材料一致，异议不成立。"
ANONYMOUS_REFUSAL = "异议须实名提出：请填写真实姓名、工作单位和联系电话；匿名异议不予受理。"


def stored_run(live_server, program_id: int) -> tuple[dict, list]:
    """(result rows by unit code, the rubric's criteria as (key, title)) of the program's latest run."""
    from webapp.campaigns.models import Program
    from webapp.campaigns.rubrics import rubric_of
    from webapp.core.db import db
    from webapp.results.operations import latest_run

    with live_server.app.app_context():
        program = db.session.get(Program, program_id)
        run = latest_run(program)
        rows = {r["application"]: r for r in run.result_data()["applications"]}
        criteria = [(c.key, c.title) for c in rubric_of(program).criteria]
        db.session.remove()
    return rows, criteria


def as_decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_office_decides_public_objects_office_finalises_unit_sees_outcome(
    live_server, browser, page, server_clock
):
    server_clock(START)
    port = live_server.url.rsplit(":", 1)[1]
    office = live_server.create_user(Role.office, username=f"results_office_{port}")
    experts = [
        live_server.create_user(Role.expert, username=f"results_ex{n}_{port}", region=region)
        for n, region in enumerate(EXPERT_REGIONS)
    ]
    program_id = live_server.open_program(year=YEAR, deadline=datetime(YEAR, 10, 31, 15, 59, 59, tzinfo=UTC))
    application_ids = build_scored_program(live_server, program_id, [e.id for e in experts])
    names = {code: live_server.unit_name(code) for code in UNIT_CODES}
    codes = {name: code for code, name in names.items()}
    title = f"{YEAR}年度后补助"

    # ------------------------------------------------ office: run the results
    page.goto(f"{live_server.url}/programs/{program_id}/results")
    assert path_of(page) == "/login"
    sign_in(page, office)
    assert path_of(page) == f"/programs/{program_id}/results"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{title} · 评审结果")
    expect(page.locator("main")).to_contain_text("尚未运行评审结果。")
    page.get_by_label("自助法重复次数").fill(BOOTSTRAP)
    page.get_by_label("随机种子（留空自动生成）").fill(SEED)
    click_and_load(page, page.get_by_role("button", name="运行评审结果", exact=True))
    assert path_of(page) == f"/programs/{program_id}/results"
    expect(page.locator(".flashes")).to_contain_text("已完成第 1 次评审结果运行。")
    expect(page.locator("main")).to_contain_text(f"自助法 {BOOTSTRAP} 次，种子 {SEED}")

    results, criteria = stored_run(live_server, program_id)
    assert set(results) == set(UNIT_CODES)
    table_rows = page.locator("table.results tbody tr")
    expect(table_rows).to_have_count(len(UNIT_CODES))
    ranking = []  # (rank, unit code) as the page shows them
    for n in range(len(UNIT_CODES)):
        cells = table_rows.nth(n).locator("td")
        code = codes[cells.nth(1).inner_text().strip()]
        stored = results[code]
        rank, total = cells.nth(0).inner_text().strip(), cells.nth(2).inner_text().strip()
        assert int(rank) == stored["rank"]
        assert as_decimal(total) == Decimal(str(stored["total"]))  # the page shows the engine's total
        for m, (key, _title) in enumerate(criteria):
            assert as_decimal(cells.nth(3 + m).inner_text()) == Decimal(str(stored["criteria"][key]))
        assert cells.nth(3 + len(criteria)).inner_text().strip() == str(len(experts))  # number of reviews
        ranking.append((int(rank), code))
    assert [r for r, _ in ranking] == sorted(r for r, _ in ranking)
    totals = [Decimal(str(results[c]["total"])) for _, c in ranking]
    assert totals == sorted(totals, reverse=True)

    # ------------------------------------------------ office: proposals, one decision changed with a reason
    server_clock(START + timedelta(minutes=5))
    click_and_load(page, page.locator("p.actions").get_by_role("link", name="资助决定", exact=True))
    assert path_of(page) == f"/programs/{program_id}/decisions"
    click_and_load(page, page.get_by_role("button", name="生成资助建议", exact=True))
    expect(page.locator(".flashes")).to_contain_text("已按第 1 次评审结果生成资助建议。")
    rows = page.locator("main section.card table tbody tr")
    expect(rows).to_have_count(len(UNIT_CODES))
    decided = {}  # unit code -> the decision cell's text
    for n in range(len(UNIT_CODES)):
        cells = rows.nth(n).locator("td")
        decided[codes[cells.nth(1).inner_text().strip()]] = cells.nth(4).inner_text().strip()
    funded = [code for _, code in ranking if decided[code].startswith("后补助")]
    unfunded = [code for _, code in ranking if decided[code] == "不予支持"]
    assert funded and unfunded, decided
    assert funded == [code for _, code in ranking][: len(funded)]  # the best ranked are funded
    assert as_decimal(page.locator("#funded-total").inner_text()) <= Decimal("1500000")

    commended = unfunded[0]  # the best ranked of the unfunded
    row = rows.filter(has=page.get_by_role("cell", name=names[commended], exact=True))
    row.get_by_label("决定").select_option(label="通报表扬")
    click_and_load(page, row.get_by_role("button", name="保存", exact=True))
    expect(page.locator(".flashes")).to_contain_text("与资助建议不同的决定必须写明理由。")
    row = rows.filter(has=page.get_by_role("cell", name=names[commended], exact=True))
    expect(row.locator("td").nth(4)).to_have_text("不予支持")  # nothing changed
    row.get_by_label("决定").select_option(label="通报表扬")
    row.get_by_label("理由").fill(OVERRIDE_REASON)
    click_and_load(page, row.get_by_role("button", name="保存", exact=True))
    expect(page.locator(".flashes")).to_contain_text(f"已修改 {names[commended]} 的决定。")
    row = rows.filter(has=page.get_by_role("cell", name=names[commended], exact=True))
    expect(row.locator("td").nth(4)).to_contain_text("通报表扬")
    expect(row.locator("td").nth(4)).to_contain_text(f"已调整：{OVERRIDE_REASON}")

    # ------------------------------------------------ office: open the publicity period
    server_clock(START + timedelta(minutes=10))
    page.goto(f"{live_server.url}/programs/{program_id}/publicity")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{title} · 公示与异议")
    expect(page.locator("main")).to_contain_text("若今天开始，截止于 2025-11-26。")
    page.get_by_label("公示开始日期").fill("2025-11-20")
    page.get_by_label("异议受理方式").fill(CONTACT)
    click_and_load(page, page.get_by_role("button", name="开始公示", exact=True))
    expect(page.locator(".flashes")).to_contain_text("第 1 轮公示：2025-11-20 至 2025-11-26。")
    expect(page.locator("main")).to_contain_text("阶段：公示")
    round_row = page.locator("section.card").filter(has_text="公示轮次").locator("tbody tr")
    expect(round_row).to_have_count(1)
    expect(round_row.locator("td").nth(1)).to_have_text("2025-11-20 — 2025-11-26")
    expect(round_row.locator("td").nth(2)).to_have_text("5")
    expect(page.locator("main")).to_contain_text("暂无异议。")

    # ------------------------------------------------ the public: the list and an objection
    public_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    public_context.set_default_timeout(TIMEOUT_MS)
    try:
        public = public_context.new_page()
        server_clock(START + timedelta(minutes=20))
        public.goto(f"{live_server.url}/publicity")
        assert path_of(public) == "/publicity"
        expect(public.locator("header.topbar .who")).to_have_count(0)  # nobody is signed in
        item = public.locator("section.publicity-item")
        expect(item).to_have_count(1)
        expect(item.get_by_role("heading", level=2)).to_have_text(title)
        expect(item).to_contain_text("公示期：2025-11-20 至 2025-11-26（5 个工作日）")
        expect(item).to_contain_text(CONTACT)
        listed = {}
        public_rows = item.locator("tbody tr")
        for n in range(public_rows.count()):
            cells = public_rows.nth(n).locator("td")
            listed[codes[cells.nth(1).inner_text().strip()]] = cells.nth(2).inner_text().strip()
        assert listed == {**{code: "后补助" for code in funded}, commended: "通报表扬"}

        target = funded[1] if len(funded) > 1 else funded[0]  # the unit objected to
        click_and_load(public, item.get_by_role("link", name="在线提出异议", exact=True))
        assert path_of(public) == f"/publicity/{program_id}/object"
        expect(public.get_by_role("heading", level=1)).to_have_text("对公示结果提出异议")
        expect(public.locator("main")).to_contain_text("公示期 2025-11-20 至 2025-11-26")
        public.get_by_label("对哪个单位提出异议").select_option(label=names[target])
        public.get_by_label("异议内容及事实依据").fill(OBJECTION)
        click_and_load(public, public.get_by_role("button", name="提交异议", exact=True))
        expect(public.locator(".problems")).to_contain_text(ANONYMOUS_REFUSAL)
        expect(public.locator("#objection-receipt")).to_have_count(0)

        public.get_by_label("真实姓名").fill("张建国")
        public.get_by_label("工作单位").fill("某市高新区企业联合会")
        public.get_by_label("联系电话").fill("010-88886666")
        public.get_by_label("对哪个单位提出异议").select_option(label=names[target])
        public.get_by_label("异议内容及事实依据").fill(OBJECTION)
        click_and_load(public, public.get_by_role("button", name="提交异议", exact=True))
        expect(public.get_by_role("heading", level=1)).to_have_text("异议受理回执")
        receipt = public.locator("#objection-receipt").inner_text().strip()
        assert re.fullmatch(rf"{YEAR}GS\d{{2,}}-0001", receipt), receipt
        expect(public.locator(".receipt")).to_contain_text("张建国")

        # ------------------------------------------------ office: too early to finalise; the register
        server_clock(START + timedelta(minutes=30))
        page.reload()
        objection = page.locator("article.objection").filter(has_text=receipt)
        expect(objection).to_have_count(1)
        expect(objection.get_by_role("heading", level=3)).to_contain_text(
            "张建国（某市高新区企业联合会，010-88886666）"
        )
        expect(objection.get_by_role("heading", level=3)).to_contain_text("调查中")
        expect(objection).to_contain_text(f"涉及：{names[target]}")
        click_and_load(page, page.get_by_role("button", name="定案（冻结决定和金额）", exact=True))
        expect(page.locator(".flashes")).to_contain_text("第 1 轮公示至 2025-11-26 结束，期满后方可定案。")
        expect(page.locator("main")).to_contain_text("阶段：公示")

        objection = page.locator("article.objection").filter(has_text=receipt)
        objection.get_by_label("调查核实情况").fill(
            "调阅该单位备案材料，并电话核实了所列企业科协的成立情况。"
        )
        objection.get_by_label("结论", exact=True).select_option(label="异议不成立")
        objection.get_by_label("答复内容").fill(REPLY)
        objection.get_by_label("结论日期").fill("2025-11-20")
        objection.get_by_label("答复日期").fill("2025-11-20")
        click_and_load(page, objection.get_by_role("button", name="登记（新增一个版本）", exact=True))
        expect(page.locator(".flashes")).to_contain_text(f"已登记异议 {receipt} 的处理情况。")
        objection = page.locator("article.objection").filter(has_text=receipt)
        expect(objection.get_by_role("heading", level=3)).to_contain_text("异议不成立")
        entry = objection.locator("tbody tr")
        expect(entry).to_have_count(1)
        expect(entry.locator("td").nth(0)).to_have_text("1")
        expect(entry.locator("td").nth(2)).to_have_text("异议不成立")
        expect(entry.locator("td").nth(3)).to_have_text(REPLY)
        expect(entry.locator("td").nth(4)).to_have_text("2025-11-20")

        # ------------------------------------------------ the period ends: a late objection is refused
        server_clock(AFTER_PERIOD)
        public.goto(f"{live_server.url}/publicity")
        expect(public.locator("section.publicity-item")).to_contain_text("当前不在公示期内，不受理异议。")
        public.goto(f"{live_server.url}/publicity/{program_id}/object")
        public.get_by_label("真实姓名").fill("李红")
        public.get_by_label("工作单位").fill("某省企业科协")
        public.get_by_label("联系电话").fill("13800138000")
        public.get_by_label("对哪个单位提出异议").select_option(label=names[target])
        public.get_by_label("异议内容及事实依据").fill(OBJECTION)
        click_and_load(public, public.get_by_role("button", name="提交异议", exact=True))
        expect(public.locator(".problems")).to_contain_text(
            "公示期已于 2025-11-26 结束，逾期提出的异议不予受理。"
        )
        expect(public.locator("#objection-receipt")).to_have_count(0)
    finally:
        public_context.close()

    # ------------------------------------------------ office: a week later the session has ended; 定案
    manage_path = f"/programs/{program_id}/publicity"
    page.goto(f"{live_server.url}{manage_path}")
    assert path_of(page) == "/login"
    expect(page.locator(".flashes")).to_contain_text("长时间未操作，会话已结束，请重新登录。")
    sign_in(page, office)
    assert path_of(page) == manage_path
    expect(page.locator("article.objection")).to_have_count(1)  # the late one was not recorded
    click_and_load(page, page.get_by_role("button", name="定案（冻结决定和金额）", exact=True))
    expect(page.locator(".flashes")).to_contain_text("已定案，决定和金额已冻结。")
    expect(page.locator("main")).to_contain_text("阶段：定案")
    expect(page.get_by_role("button", name="定案（冻结决定和金额）", exact=True)).to_have_count(0)

    page.goto(f"{live_server.url}/campaigns/{campaign_of(live_server, program_id)}")
    card = page.locator(f"#program-{program_id}")
    expect(card.get_by_role("heading", level=2)).to_contain_text(title)
    expect(card.locator("h2 .badge")).to_have_text("定案")
    expect(card.locator('ol.phases li[aria-current="step"]')).to_have_text("定案")
    expect(card).to_contain_text("2025-11-20 — 2025-11-26")

    later_context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    later_context.set_default_timeout(TIMEOUT_MS)
    try:
        listing = later_context.new_page()
        listing.goto(f"{live_server.url}/publicity")
        expect(listing.locator("main")).to_contain_text("目前没有正在公示的评审结果。")  # final: off the list
    finally:
        later_context.close()

    # ------------------------------------------------ a funded unit sees its outcome
    unit_code = funded[0]
    leader = live_server.create_user(
        Role.applicant,
        username=f"results_leader_{port}",
        unit_code=unit_code,
        applicant_role=ApplicantRole.leader,
    )
    page.context.clear_cookies()
    outcome_path = f"/applications/{application_ids[unit_code]}/outcome"
    page.goto(f"{live_server.url}{outcome_path}")
    assert path_of(page) == "/login"
    sign_in(page, leader)
    assert path_of(page) == outcome_path
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{names[unit_code]} · {title} · 评审结果")
    expect(page.locator("#outcome-kind")).to_have_text("后补助")
    amount = decided[unit_code].removeprefix("后补助").strip()  # e.g. "150,000 元" as the office saw it
    assert re.fullmatch(r"[\d,]+ 元", amount), decided[unit_code]
    expect(page.locator("dl.pairs")).to_contain_text(amount)
    stored = results[unit_code]
    expect(page.locator("dl.pairs")).to_contain_text(str(stored["total"]))
    score_rows = page.locator("section.card").filter(has_text="各项得分").locator("tbody tr")
    expect(score_rows).to_have_count(len(criteria))
    for n, (key, criterion_title) in enumerate(criteria):
        cells = score_rows.nth(n).locator("td")
        expect(cells.nth(0)).to_have_text(criterion_title)
        assert as_decimal(cells.nth(2).inner_text()) == Decimal(str(stored["criteria"][key]))


def build_scored_program(
    live_server, program_id: int, expert_ids: list[int], *, seed: int = 7
) -> dict[str, int]:
    return _build(live_server, program_id, expert_ids, at=START - timedelta(days=10), seed=seed)
