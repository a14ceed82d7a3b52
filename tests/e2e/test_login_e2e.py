"""Signing in through the real UI in a real browser: role homes, lockout, forced password change,
logout, the language switch, and that pages load nothing from other hosts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from webapp.auth.models import ApplicantRole, Role

pytestmark = pytest.mark.e2e

LOCKED = "登录失败次数过多，该用户名已锁定 30 分钟，请稍后再试或联系系统管理员。"
WRONG = "用户名或密码不正确。连续失败 5 次后将锁定 30 分钟。"


def path_of(page) -> str:
    return urlsplit(page.url).path


def open_login(page, server) -> None:
    page.goto(f"{server.url}/login")


def click_and_load(page, target) -> None:
    """Click a submit button and wait until the page it leads to has loaded."""
    with page.expect_navigation():
        target.click()


def submit_login(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    click_and_load(page, page.get_by_role("button", name="登录", exact=True))


def sign_in(page, server, account) -> None:
    open_login(page, server)
    submit_login(page, account.username, account.password)


def alert_text(page) -> str:
    return page.locator("p.error-box[role=alert]").inner_text().strip()


# ---------------------------------------------------------------- each role's home

ROLE_HOMES = {
    # case: (role, applicant role, home path, heading — None means the unit's name)
    "applicant_clerk": (Role.applicant, ApplicantRole.clerk, "/portal", None),
    "applicant_leader": (Role.applicant, ApplicantRole.leader, "/portal", None),
    "expert": (Role.expert, None, "/reviews", "评审任务"),
    "office": (Role.office, None, "/campaigns", "评审活动"),
    "finance": (Role.finance, None, "/finance", "财务首页"),
    "auditor": (Role.auditor, None, "/audit/", "审计日志"),
    "sysadmin": (Role.sysadmin, None, "/admin/users", "账户管理"),
}


@pytest.mark.parametrize("case", list(ROLE_HOMES))
def test_login_each_role_lands_on_its_home(live_server, page, case):
    role, applicant_role, home, heading = ROLE_HOMES[case]
    account = live_server.create_user(role, applicant_role=applicant_role, unit_code="420000")
    sign_in(page, live_server, account)

    assert path_of(page) == home
    expected_heading = heading or live_server.unit_name("420000")
    assert page.get_by_role("heading", level=1).inner_text().strip() == expected_heading
    who = page.locator("header .who").inner_text()
    assert who.startswith(f"{account.display_name} · ")
    if role == Role.applicant:
        assert f"（{applicant_role.label}）" in who


# ---------------------------------------------------------------- lockout


def test_login_locks_after_five_failures_even_with_right_password(live_server, page, server_clock):
    start = server_clock(datetime.now(UTC).replace(microsecond=0))
    account = live_server.create_user(Role.office)
    open_login(page, live_server)

    messages = []
    for _ in range(5):
        submit_login(page, account.username, "Wrong-Passw0rd!")
        messages.append(alert_text(page))
    assert messages == [WRONG] * 4 + [LOCKED]

    submit_login(page, account.username, account.password)
    assert path_of(page) == "/login"
    assert alert_text(page) == LOCKED

    # Still locked just before the 30 minutes are up; free again after them.
    server_clock(start + timedelta(minutes=29))
    submit_login(page, account.username, account.password)
    assert alert_text(page) == LOCKED
    server_clock(start + timedelta(minutes=31))
    submit_login(page, account.username, account.password)
    assert path_of(page) == "/campaigns"


def test_login_unknown_name_locks_with_same_message(live_server, page):
    open_login(page, live_server)
    messages = []
    for _ in range(6):
        submit_login(page, "nobody-here", "Wrong-Passw0rd!")
        messages.append(alert_text(page))
    assert messages == [WRONG] * 4 + [LOCKED] * 2
    assert "该用户名已锁定 30 分钟" in messages[-1]


# ---------------------------------------------------------------- forced password change


def test_login_must_change_password_blocks_until_changed(live_server, page):
    account = live_server.create_user(Role.office, must_change_password=True)
    sign_in(page, live_server, account)
    assert path_of(page) == "/account/password"
    assert page.get_by_role("heading", level=1).inner_text().strip() == "修改密码"
    assert "首次登录或密码被重置后，请先修改密码。" in page.locator(".flashes").inner_text()

    page.goto(f"{live_server.url}/campaigns")
    assert path_of(page) == "/account/password"

    page.get_by_label("当前密码").fill(account.password)
    page.get_by_label("新密码", exact=True).fill("abc12345")
    page.get_by_label("再次输入新密码").fill("abc12345")
    click_and_load(page, page.get_by_role("button", name="保存新密码"))
    assert path_of(page) == "/account/password"
    problems = page.locator(".problems li").all_inner_texts()
    assert problems == [
        "密码至少需要 10 个字符（当前 8 个）。",
        "密码需包含大写字母、小写字母、数字、符号四类中的至少三类。",
    ]
    page.goto(f"{live_server.url}/campaigns")
    assert path_of(page) == "/account/password"

    new_password = "Fresh-Passw0rd#7"
    page.get_by_label("当前密码").fill(account.password)
    page.get_by_label("新密码", exact=True).fill(new_password)
    page.get_by_label("再次输入新密码").fill(new_password)
    click_and_load(page, page.get_by_role("button", name="保存新密码"))
    assert path_of(page) == "/campaigns"
    assert "密码已修改。" in page.locator(".flashes").inner_text()

    page.goto(f"{live_server.url}/campaigns/new")
    assert path_of(page) == "/campaigns/new"


# ---------------------------------------------------------------- logout


def test_logout_returns_to_login_and_protects_pages(live_server, page):
    account = live_server.create_user(Role.finance)
    sign_in(page, live_server, account)
    assert path_of(page) == "/finance"

    click_and_load(page, page.locator("header").get_by_role("button", name="退出"))
    assert path_of(page) == "/login"
    assert "您已安全退出。" in page.locator(".flashes").inner_text()
    assert page.locator("header .who").count() == 0

    page.goto(f"{live_server.url}/finance")
    parts = urlsplit(page.url)
    assert (parts.path, parts.query) == ("/login", "next=%2Ffinance")
    assert page.get_by_label("用户名").is_visible()


# ---------------------------------------------------------------- language switch


def test_language_switch_login_page_toggles_html_lang(live_server, page):
    open_login(page, live_server)
    html = page.locator("html")
    assert html.get_attribute("lang") == "zh-CN"

    click_and_load(page, page.get_by_role("button", name="English", exact=True))
    assert path_of(page) == "/login"
    assert html.get_attribute("lang") == "en"

    click_and_load(page, page.get_by_role("button", name="中文", exact=True))
    assert path_of(page) == "/login"
    assert html.get_attribute("lang") == "zh-CN"


# ---------------------------------------------------------------- nothing leaves the machine


def test_pages_request_only_own_server_without_console_errors(live_server, page):
    requests: list[str] = []
    console_errors: list[str] = []
    page_errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console", lambda message: console_errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    account = live_server.create_user(Role.office)
    sign_in(page, live_server, account)
    assert path_of(page) == "/campaigns"
    for path in ("/campaigns/new", "/account/password", "/campaigns"):
        page.goto(f"{live_server.url}{path}")
        assert path_of(page) == path

    own = f"{live_server.url}/"
    assert [url for url in requests if not url.startswith(own)] == []
    assert any(re.search(r"/static/app\.css", url) for url in requests)
    assert console_errors == []
    assert page_errors == []
