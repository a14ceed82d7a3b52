"""The applicant portal in a real browser, in Chinese: the clerk fills the figures (with the live ratio
preview), uploads evidence for every expert criterion and the roster; the leader writes the
recommendation, uploads the sealed letter and submits; the receipt shows its number and the Beijing
time. After the deadline the pages are read-only.

The server's clock is frozen ten days before the deadline, so nothing depends on today's date. A jump
of more than 30 minutes ends the idle session, hence the fresh sign-in after each one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from scoring.rubric import load_rubric
from tests.conftest import REPO
from tests.webapp.portal_helpers import FIGURES, pdf_bytes, png_bytes, roster_xlsx, three_rows
from webapp.auth.models import ApplicantRole, Role

pytestmark = pytest.mark.e2e

RUBRIC = load_rubric(REPO / "criteria" / "cast-2014-post-subsidy.toml")
UNIT = "210200"  # 大连市: a sub-provincial city, eligible for the post-subsidy
DEADLINE_UNIT = "210000"  # 辽宁省, used by the deadline test


def path_of(page) -> str:
    return urlsplit(page.url).path


def click_and_load(page, target) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()


def sign_in(page, server, account) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码", exact=True).fill(account.password)
    click_and_load(page, page.get_by_role("button", name="登录", exact=True))
    assert path_of(page) == "/portal"


def sign_out(page) -> None:
    click_and_load(page, page.locator("header").get_by_role("button", name="退出"))
    assert path_of(page) == "/login"


def flashes(page) -> str:
    return page.locator(".flashes").inner_text()


def figure_label(key: str) -> str:
    """The label of a figure's field: the rubric's indicator title and unit."""
    indicator = RUBRIC.indicator(key)
    return f"{indicator.title}（{indicator.unit}）" if indicator.unit else indicator.title


def figure_field(page, key: str):
    return page.get_by_label(figure_label(key), exact=True)


def ratio_cell(page, numerator: str, denominator: str):
    """The value cell of the preview row "numerator ÷ denominator" (indicator keys)."""
    text = f"{RUBRIC.indicator(numerator).title} ÷ {RUBRIC.indicator(denominator).title}"
    row = page.locator("#ratios tbody tr").filter(has=page.get_by_role("cell", name=text, exact=True))
    return row.locator("td.num")


def program_card(page, year: int):
    """The portal's card of the post-subsidy program of ``year``."""
    heading = page.get_by_role("heading", level=2, name=re.compile(rf"^{year}年度"))
    return page.locator("section.card").filter(has=heading)


def start_application(page, year: int) -> str:
    """Click 开始申报 on the portal; returns the overview's path."""
    click_and_load(page, program_card(page, year).get_by_role("button", name="开始申报"))
    assert re.fullmatch(r"/applications/\d+", path_of(page)), page.url
    return path_of(page)


def open_tab(page, name: str) -> None:
    """Follow one link of the application's sub-navigation (概览, 填报数据, ...)."""
    nav = page.get_by_role("navigation", name="申报材料")
    click_and_load(page, nav.get_by_role("link", name=name, exact=True))
    expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")


# ---------------------------------------------------------------- from empty to a receipt


def test_clerk_prepares_leader_submits_and_receipt_shows(live_server, page, server_clock, tmp_path):
    year = 2030
    deadline = datetime(year, 10, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing time
    start = server_clock(deadline - timedelta(days=10))  # 2030-10-21 23:59:59 Beijing time
    live_server.open_program(year=year, deadline=deadline)
    clerk = live_server.create_user(Role.applicant, unit_code=UNIT, applicant_role=ApplicantRole.clerk)
    leader = live_server.create_user(Role.applicant, unit_code=UNIT, applicant_role=ApplicantRole.leader)

    # ------------------------------------------------ the clerk: figures with the live preview
    sign_in(page, live_server, clerk)
    overview = start_application(page, year)
    unit_name = live_server.unit_name(UNIT)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{unit_name} · {year}年度后补助")

    open_tab(page, "填报数据")
    coverage = ratio_cell(page, "enterprise_kexie_total", "regulated_enterprises")
    parks = ratio_cell(page, "parks_with_kexie", "parks_total")
    expect(coverage).to_have_text("不适用（分母为 0）")  # nothing typed yet

    # The coverage ratio follows the typing, before anything is saved: 800 of 12 000, then of 16 000.
    figure_field(page, "regulated_enterprises").fill(FIGURES["regulated_enterprises"])
    figure_field(page, "enterprise_kexie_total").fill(FIGURES["enterprise_kexie_total"])
    expect(coverage).to_have_text("6.67%")
    figure_field(page, "regulated_enterprises").fill("16000")
    expect(coverage).to_have_text("5.00%")
    figure_field(page, "regulated_enterprises").fill(FIGURES["regulated_enterprises"])
    expect(coverage).to_have_text("6.67%")

    for indicator in RUBRIC.indicators:
        figure_field(page, indicator.key).fill(FIGURES[indicator.key])
    expect(parks).to_have_text("30.00%")  # 12 of 40 parks
    expect(page.locator("#figure-warnings")).to_have_text("")
    click_and_load(page, page.get_by_role("button", name="保存数据"))
    assert path_of(page) == f"{overview}/figures"
    assert "数据已保存。" in flashes(page)
    for indicator in RUBRIC.indicators:  # the saved figures come back in the form
        expect(figure_field(page, indicator.key)).to_have_value(FIGURES[indicator.key])
    expect(coverage).to_have_text("6.67%")

    # ------------------------------------------------ the clerk: one file per expert criterion
    open_tab(page, "佐证材料")
    for n, criterion in enumerate(RUBRIC.expert_criteria):
        if n == 0:
            file = tmp_path / f"{criterion.title}-照片.png"
            file.write_bytes(png_bytes())
        else:
            file = tmp_path / f"{criterion.title}.pdf"
            file.write_bytes(pdf_bytes(criterion.key))
        title = f"{criterion.title}佐证材料"
        page.get_by_label("对应的评分项目").select_option(label=criterion.title)
        page.get_by_label("材料标题").fill(title)
        page.get_by_label("文件", exact=True).set_input_files(file)
        click_and_load(page, page.get_by_role("button", name="上传", exact=True))
        assert path_of(page) == f"{overview}/evidence"
        assert f"已上传：{title}" in flashes(page)
        section = page.locator(f"#criterion-{criterion.key}")
        expect(section.get_by_role("cell", name=title, exact=True)).to_be_visible()
        expect(section.get_by_role("link", name=file.name, exact=True)).to_be_visible()

    # ------------------------------------------------ the clerk: the roster
    open_tab(page, "新建企业科协名册")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载名册模板（XLSX）").click()
    assert download.value.suggested_filename == f"新建企业科协名册模板-{UNIT}.xlsx"

    roster = tmp_path / "新建企业科协名册.xlsx"
    roster.write_bytes(roster_xlsx(three_rows(year)))
    page.get_by_label("名册文件（XLSX）").set_input_files(roster)
    click_and_load(page, page.get_by_role("button", name="导入名册"))
    assert path_of(page) == f"{overview}/roster"
    assert "名册已导入，共 3 个企业科协。" in flashes(page)
    expect(page.get_by_role("heading", name="名册（3 个）")).to_be_visible()
    expect(page.get_by_text("名册数量与填报的“本年度新建企业科协数”一致。")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    for row, (name, founded, approval, _members, chair) in zip(rows.all(), three_rows(year), strict=True):
        expect(row).to_contain_text(name)
        expect(row).to_contain_text(founded.isoformat())
        expect(row).to_contain_text(approval)
        expect(row).to_contain_text(chair)
    sign_out(page)

    # ------------------------------------------------ the leader: recommendation, letter, submission
    sign_in(page, live_server, leader)
    card = program_card(page, year)
    click_and_load(page, card.get_by_role("link", name="进入申报"))
    assert path_of(page) == overview
    # Everything the clerk could do is done; only the leader's part remains.
    expect(page.locator("ul.missing li")).to_have_text(
        ["负责人推荐意见未填写（至少 20 字）", "盖章推荐函未上传"]
    )

    open_tab(page, "推荐与提交")
    recommendation = "该市企业科协组织建设工作扎实，领导重视，任务完成好，覆盖面广，同意推荐申报后补助。"
    assert len(recommendation) >= 20
    page.get_by_label("推荐意见", exact=True).fill(recommendation)
    click_and_load(page, page.get_by_role("button", name="保存推荐意见"))
    assert "推荐意见已保存。" in flashes(page)
    expect(page.get_by_label("推荐意见", exact=True)).to_have_value(recommendation)

    letter = tmp_path / "盖章推荐函.pdf"
    letter.write_bytes(pdf_bytes("sealed letter"))
    page.get_by_label("盖章推荐函（PDF 或图片）").set_input_files(letter)
    click_and_load(page, page.get_by_role("button", name="上传推荐函"))
    assert "盖章推荐函已上传。" in flashes(page)
    expect(page.get_by_role("link", name="盖章推荐函.pdf", exact=True)).to_be_visible()
    expect(page.locator("ul.missing")).to_have_count(0)

    # Submitted a few minutes later, just after midnight in Beijing (still 21 October in UTC).
    server_clock(start + timedelta(minutes=5, seconds=16))
    click_and_load(page, page.get_by_role("button", name="确认提交申报"))
    assert re.fullmatch(r"/receipts/\d+", path_of(page)), page.url
    number = f"{year}HB-{UNIT}-01"
    assert f"申报已提交，回执编号 {number}。" in flashes(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("申报回执")
    expect(page.locator("#receipt-number")).to_have_text(re.compile(rf"^{year}HB-\d{{6}}-\d{{2}}$"))
    expect(page.locator("#receipt-number")).to_have_text(number)
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("2030-10-22 00:05:15（北京时间）")
    expect(receipt).to_contain_text(f"{UNIT} {unit_name}")
    expect(receipt).to_contain_text(leader.display_name)
    expect(receipt).to_contain_text("名册条目：3")

    # The overview lists the receipt as valid.
    page.goto(f"{live_server.url}{overview}")
    receipts = page.locator("section.card").filter(has=page.get_by_role("heading", name="回执", exact=True))
    expect(receipts.get_by_role("link", name=number, exact=True)).to_be_visible()
    expect(receipts).to_contain_text("2030-10-22 00:05:15")
    expect(receipts).to_contain_text("有效")


# ---------------------------------------------------------------- after the deadline


def test_after_deadline_pages_are_read_only(live_server, page, server_clock, tmp_path):
    year = 2031
    deadline = datetime(year, 10, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing time
    server_clock(deadline - timedelta(days=10))
    live_server.open_program(year=year, deadline=deadline)
    clerk = live_server.create_user(
        Role.applicant, unit_code=DEADLINE_UNIT, applicant_role=ApplicantRole.clerk
    )

    sign_in(page, live_server, clerk)
    overview = start_application(page, year)
    open_tab(page, "填报数据")
    figure_field(page, "parks_total").fill("40")
    figure_field(page, "parks_with_kexie").fill("12")
    click_and_load(page, page.get_by_role("button", name="保存数据"))
    assert "数据已保存。" in flashes(page)
    open_tab(page, "佐证材料")
    expect(page.get_by_role("button", name="上传", exact=True)).to_be_visible()

    # One second after the deadline: the jump ended the session, so sign in again.
    server_clock(deadline + timedelta(seconds=1))
    sign_in(page, live_server, clerk)
    notice = f"申报已于 {year}-10-31 23:59:59（北京时间）截止，材料只读，不能再修改或提交。"

    page.goto(f"{live_server.url}{overview}/figures")
    expect(page.locator("p.notice")).to_have_text(notice)
    expect(page.get_by_role("button", name="保存数据")).to_have_count(0)
    expect(figure_field(page, "parks_total")).to_have_value("40")
    expect(figure_field(page, "parks_total")).not_to_be_editable()
    expect(figure_field(page, "regulated_enterprises")).not_to_be_editable()

    open_tab(page, "佐证材料")
    expect(page.locator("p.notice")).to_have_text(notice)
    expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(0)
    expect(page.get_by_label("材料标题")).to_have_count(0)
    expect(page.get_by_label("文件", exact=True)).to_have_count(0)

    open_tab(page, "新建企业科协名册")
    expect(page.get_by_role("button", name="导入名册")).to_have_count(0)
