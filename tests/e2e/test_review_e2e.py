"""The expert review in a real browser, in Chinese: an expert opens the evidence (a PDF served safely),
is told off for a score off the rubric's step, saves a draft, scores and submits two applications and
watches the progress count; a submitted review is locked (read-only page, a direct POST refused, the
stored scores unchanged); the score sheet lists both with the signature line and prints to a PDF.

The program is built directly in the database (set-up, not the office's workflow): in review, three
passed applications, the expert assigned to the two outside their region; the Beijing one, a conflict
of the Beijing expert, is assigned to nobody and must never show. The server's clock is frozen in
November of the campaign year.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect

from scoring.rubric import load_rubric
from tests.conftest import REPO
from tests.webapp.portal_helpers import pdf_bytes
from webapp.auth.models import Role

pytestmark = pytest.mark.e2e

RUBRIC = load_rubric(REPO / "criteria" / "cast-2014-post-subsidy.toml")
YEAR = 2050  # no other e2e module uses this campaign year
AT = datetime(YEAR, 11, 12, 2, 0, tzinfo=UTC)  # 10:00 Beijing time, review season
EXPERT_REGION = "110000"  # 北京
ASSIGNED = ["320000", "330200"]  # 江苏, 宁波 (a sub-provincial city of 浙江): no conflict with 北京
UNASSIGNED = "110000"  # 北京: the expert's own region, assigned to nobody

FIRST = {"leadership": "12.5", "planning": "13", "quality": "8.5", "services": "10", "timeliness": "7"}
SECOND = {"leadership": "11", "planning": "12.5", "quality": "9", "services": "9.5", "timeliness": "6.5"}
FIRST_OPINION = "组织领导有力，规划部署清晰，企业科协覆盖面持续扩大，服务创新特色鲜明，同意推荐。"
SECOND_OPINION = "工作推进扎实，材料完整真实，园区科协建设成效明显，示范作用有待加强，建议支持。"


def path_of(page) -> str:
    return urlsplit(page.url).path


def click_and_load(page, target) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()


def score_field(page, key: str):
    """A criterion's field, found by its label as the form builds it from the rubric."""
    criterion = next(c for c in RUBRIC.expert_criteria if c.key == key)
    return page.get_by_label(f"{criterion.title}（0–{criterion.max}，步长 {criterion.step}）", exact=True)


def opinion_field(page):
    return page.get_by_label("评审意见", exact=True)


def save_button(page):
    return page.get_by_role("button", name="保存草稿", exact=True)


def submit_button(page):
    return page.get_by_role("button", name="提交评分（提交后锁定）", exact=True)


def fill_scores(page, scores: dict[str, str], opinion: str) -> None:
    for key, value in scores.items():
        score_field(page, key).fill(value)
    opinion_field(page).fill(opinion)


def open_review(page, unit_name: str) -> str:
    """Follow the unit's link on /reviews; returns the review's path."""
    click_and_load(page, page.locator("main table").get_by_role("link", name=unit_name, exact=True))
    assert re.fullmatch(r"/reviews/\d+", path_of(page)), page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text(unit_name)
    return path_of(page)


def stored_scores(live_server, assignment_id: int) -> tuple[dict[str, Decimal | None], str | None, str]:
    """(scores by criterion, opinion, status) of one review as the database holds them."""
    from webapp.core.db import db
    from webapp.reviews.models import Assignment

    with live_server.app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        result = (assignment.score_map(), assignment.opinion, assignment.status.value)
        db.session.remove()
    return result


def build_review(live_server, expert_id: int) -> dict[str, int]:
    """The program in review with three passed applications (one leadership PDF each) and the
    expert's two assignments; returns the assignment ids by unit code."""
    from webapp.applications.models import Application, ApplicationStatus, Attachment, AttachmentPurpose
    from webapp.applications.uploads import store_upload
    from webapp.campaigns.models import Phase, Program
    from webapp.core.db import db
    from webapp.reviews.models import Assignment, AssignmentStatus
    from webapp.units.models import Unit

    program_id = live_server.open_program(year=YEAR, deadline=datetime(YEAR, 10, 31, 15, 59, 59, tzinfo=UTC))
    with live_server.app.app_context():
        db.session.get(Program, program_id).phase = Phase.review
        upload_dir = Path(live_server.app.config["UPLOAD_DIR"])
        applications = {}
        for code in [*ASSIGNED, UNASSIGNED]:
            unit = db.session.query(Unit).filter(Unit.code == code).one()
            application = Application(
                program_id=program_id,
                unit=unit,
                status=ApplicationStatus.passed,
                created_at=AT,
                updated_at=AT,
                submitted_at=AT,
            )
            stored = store_upload(
                io.BytesIO(pdf_bytes(f"evidence {code}")),
                f"{code}.pdf",
                upload_dir=upload_dir,
                max_bytes=10**6,
            )
            db.session.add(
                Attachment(
                    application=application,
                    purpose=AttachmentPurpose.evidence,
                    criterion="leadership",
                    title=f"{code} 组织领导材料",
                    original_name=f"{code}.pdf",
                    sha256=stored.sha256,
                    size=stored.size,
                    kind="pdf",
                    mime="application/pdf",
                    uploaded_at=AT,
                )
            )
            db.session.add(application)
            applications[code] = application
        db.session.flush()
        assignments = {}
        for code in ASSIGNED:
            assignment = Assignment(
                application_id=applications[code].id,
                expert_id=expert_id,
                status=AssignmentStatus.assigned,
                created_at=AT,
                updated_at=AT,
            )
            db.session.add(assignment)
            db.session.flush()
            assignments[code] = assignment.id
        db.session.commit()
        db.session.remove()
    return assignments


def test_expert_scores_two_submits_is_locked_and_the_sheet_prints(live_server, page, server_clock):
    server_clock(AT)
    expert = live_server.create_user(
        Role.expert, username=f"review_e2e_{live_server.url.rsplit(':', 1)[1]}", region=EXPERT_REGION
    )
    assignments = build_review(live_server, expert.id)
    names = {code: live_server.unit_name(code) for code in [*ASSIGNED, UNASSIGNED]}
    assert names[UNASSIGNED] == "北京市科学技术协会"

    # ------------------------------------------------ sign in: the list of reviews
    page.goto(f"{live_server.url}/login")
    page.get_by_label("用户名").fill(expert.username)
    page.get_by_label("密码", exact=True).fill(expert.password)
    click_and_load(page, page.get_by_role("button", name="登录", exact=True))
    assert path_of(page) == "/reviews"
    progress = page.locator("#review-progress")
    expect(progress).to_have_text("已完成 0 / 2")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    for code in ASSIGNED:
        expect(rows.get_by_role("link", name=names[code], exact=True)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(names[UNASSIGNED])
    first, second = (rows.nth(n).get_by_role("link").inner_text().strip() for n in range(2))
    first_code = next(code for code in ASSIGNED if names[code] == first)
    second_code = next(code for code in ASSIGNED if names[code] == second)

    # ------------------------------------------------ the first review: evidence, a wrong step, a draft
    first_path = open_review(page, first)
    assert first_path == f"/reviews/{assignments[first_code]}"
    evidence = page.locator("#criterion-leadership .evidence")
    expect(evidence).to_contain_text(f"{first_code} 组织领导材料")
    view = evidence.get_by_role("link", name="查看", exact=True)
    expect(evidence.get_by_role("link", name="下载", exact=True)).to_have_count(1)
    response = page.request.get(urljoin(page.url, view.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "attachment" not in response.headers.get("content-disposition", "")  # inline
    assert response.body().startswith(b"%PDF-") and f"evidence {first_code}".encode() in response.body()

    score_field(page, "leadership").fill("13.3")  # 15 on a step of 0.5: 13.3 is off the step
    click_and_load(page, submit_button(page))
    assert path_of(page) == first_path
    problems = page.locator(".problems")
    expect(problems).to_contain_text("“组织领导”的分数须为 0.5 的整数倍")
    expect(problems).to_contain_text("13.3 不符合")
    assert stored_scores(live_server, assignments[first_code]) == ({}, None, "assigned")  # nothing saved

    score_field(page, "leadership").fill(FIRST["leadership"])
    click_and_load(page, save_button(page))
    assert path_of(page) == first_path
    expect(page.locator(".flashes")).to_contain_text("草稿已保存。")
    expect(score_field(page, "leadership")).to_have_value(FIRST["leadership"])
    scores, _, status = stored_scores(live_server, assignments[first_code])
    assert status == "assigned" and scores["leadership"] == Decimal(FIRST["leadership"])

    fill_scores(page, FIRST, FIRST_OPINION)
    click_and_load(page, submit_button(page))
    assert path_of(page) == "/reviews"
    expect(page.locator(".flashes")).to_contain_text("评分已提交并锁定。")
    expect(progress).to_have_text("已完成 1 / 2")

    # ------------------------------------------------ the second review
    second_path = open_review(page, second)
    assert second_path == f"/reviews/{assignments[second_code]}"
    fill_scores(page, SECOND, SECOND_OPINION)
    click_and_load(page, submit_button(page))
    assert path_of(page) == "/reviews"
    expect(progress).to_have_text("已完成 2 / 2")

    # ------------------------------------------------ the first review again: locked
    open_review(page, first)
    expect(page.locator("p.notice")).to_have_text("评分已提交并锁定；如需修改，请联系业务处室退回。")
    for key, value in FIRST.items():
        field = score_field(page, key)
        expect(field).to_have_attribute("readonly", re.compile(".*"))
        expect(field).not_to_be_editable()
        expect(field).to_have_value(value)
    expect(submit_button(page)).to_have_count(0)
    expect(save_button(page)).to_have_count(0)
    before = stored_scores(live_server, assignments[first_code])
    token = page.locator("form.score-form input[name=csrf_token]").get_attribute("value")
    forged = page.request.post(
        urljoin(page.url, first_path),
        form={
            "csrf_token": token,
            "action": "submit",
            "opinion": "试图在锁定后修改评分，这条意见不应被保存下来。",
            **{f"score_{key}": "0" for key in FIRST},
        },
    )
    assert forged.status == 403
    after = stored_scores(live_server, assignments[first_code])
    assert after == before
    assert after[0] == {key: Decimal(value) for key, value in FIRST.items()}
    assert after[1:] == (FIRST_OPINION, "submitted")

    # ------------------------------------------------ the score sheet prints
    page.goto(f"{live_server.url}/reviews/sheet")
    sheet = page.locator("article.score-sheet")
    expect(sheet).to_have_count(1)
    expect(sheet.get_by_role("heading", level=1)).to_contain_text("专家评分表")
    expect(sheet).not_to_contain_text(names[UNASSIGNED])
    titles = [c.title for c in RUBRIC.expert_criteria]
    for code, scores, opinion in [(first_code, FIRST, FIRST_OPINION), (second_code, SECOND, SECOND_OPINION)]:
        row = sheet.locator("tbody tr").filter(has=page.get_by_role("cell", name=names[code], exact=True))
        expect(row).to_have_count(1)
        cells = row.locator("td.num").all_inner_texts()
        assert [Decimal(text) for text in cells] == [Decimal(scores[c.key]) for c in RUBRIC.expert_criteria]
        expect(row.locator("td.opinion")).to_have_text(opinion)
        expect(row.locator("td.nowrap")).to_have_text(f"{YEAR}-11-12")
    for title in titles:
        expect(sheet.locator("thead")).to_contain_text(title)
    expect(sheet.locator("p.signature")).to_contain_text("专家签名")

    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()  # the print style leaves the navigation out
    expect(sheet.locator("p.signature")).to_be_visible()
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000
