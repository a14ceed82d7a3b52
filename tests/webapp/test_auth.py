"""Accounts and sign-in (§7): argon2, password rule, forced change, lockout, idle timeout, CSRF, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token
from webapp.audit.models import AuditEvent
from webapp.auth.models import LoginThrottle, Role, User
from webapp.auth.operations import AccountError, create_user
from webapp.auth.passwords import password_problems, verify_password


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Abcdefgh12", 0),
        ("abcdefgh12", 1),  # only two classes
        ("Abc1!", 1),  # too short
        ("abc", 2),  # too short and one class
        ("ABCDEFGH1!", 0),  # upper, digit, symbol
        ("测试密码测试密码测试1A", 0),  # CJK counts as a symbol class
    ],
)
def test_password_problems_counts_each_broken_rule(password, problems):
    assert len(password_problems(password)) == problems


def test_password_problems_refuses_username_inside():
    assert password_problems("Xoffice2024!", "office") == ["密码不能包含用户名。"]


def test_create_user_stores_argon2_hash(ctx, session, unit):
    user = create_user(username="hasher", display_name="H", password=PASSWORD, role=Role.office)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD + "x")


def test_create_user_applicant_without_unit_refused(ctx, session):
    with pytest.raises(AccountError) as err:
        create_user(username="nounit", display_name="N", password=PASSWORD, role=Role.applicant)
    assert err.value.problems == ["申报单位账户必须选择所属单位和岗位（填报员或负责人）。"]


def test_create_user_expert_without_region_refused(ctx, session):
    with pytest.raises(AccountError) as err:
        create_user(username="noregion", display_name="N", password=PASSWORD, role=Role.expert)
    assert err.value.problems == ["评审专家账户必须填写所在地区（用于回避）。"]


def test_user_table_refuses_applicant_without_unit_in_database(ctx, session):
    from sqlalchemy.exc import IntegrityError

    session.add(User(username="raw", display_name="R", password_hash="x", role=Role.applicant,
                     created_at=datetime.now(UTC), is_enabled=True, must_change_password=False))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_login_success_lands_on_role_home(client, make_user, login):
    user = make_user(Role.office)
    response = login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/campaigns"


def test_login_wrong_password_same_message_as_unknown_user(client, make_user, login):
    user = make_user(Role.office)
    wrong = login(user, password="Wrong-Passw0rd").get_data(as_text=True)
    unknown = login("nosuchuser", password="Wrong-Passw0rd").get_data(as_text=True)
    message = "用户名或密码不正确。连续失败 5 次后将锁定 30 分钟。"
    assert message in wrong
    assert message in unknown


def test_login_five_failures_lock_even_right_password(client, make_user, login, session):
    user = make_user(Role.office)
    for _ in range(5):
        login(user, password="Wrong-Passw0rd")
    response = login(user)
    assert response.status_code == 200
    assert "该用户名已锁定 30 分钟" in response.get_data(as_text=True)
    throttle = session.get(LoginThrottle, user.username)
    assert throttle.failures == 5


def test_login_lock_for_unknown_name_looks_the_same(client, login):
    for _ in range(5):
        login("ghost", password="Wrong-Passw0rd")
    assert "该用户名已锁定 30 分钟" in login("ghost", password="Wrong-Passw0rd").get_data(as_text=True)


def test_login_lock_expires_after_30_minutes(client, make_user, login, frozen):
    user = make_user(Role.office)
    start = frozen(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    for _ in range(5):
        login(user, password="Wrong-Passw0rd")
    frozen(start + timedelta(minutes=29))
    assert login(user).status_code == 200
    frozen(start + timedelta(minutes=31))
    assert login(user).status_code == 302


def test_login_disabled_account_refused(client, make_user, login, session):
    user = make_user(Role.office)
    session.get(User, user.id).is_enabled = False
    session.commit()
    assert login(user).status_code == 200


def test_login_audited_with_result(client, make_user, login, session):
    user = make_user(Role.office)
    login(user, password="Wrong-Passw0rd")
    login(user)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login")
                             .order_by(AuditEvent.id)).all()
    assert [e.result.value for e in events] == ["failed", "ok"]
    assert events[-1].actor_id == user.id
    assert events[-1].ip == "127.0.0.1"


def test_forced_password_change_redirects_everywhere(client, make_user, login):
    user = make_user(Role.office, must_change_password=True)
    login(user)
    response = client.get("/campaigns")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"


def test_forced_password_change_then_free(client, make_user, login, session):
    user = make_user(Role.office, must_change_password=True)
    login(user)
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/password", data={
        "csrf_token": csrf_token(page), "current_password": PASSWORD,
        "new_password": "Another-Pass9", "confirm": "Another-Pass9"})
    assert response.status_code == 302
    assert client.get("/campaigns").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).must_change_password is False


def test_password_change_weak_password_explained(client, make_user, login):
    user = make_user(Role.office)
    login(user)
    page = client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/password", data={
        "csrf_token": csrf_token(page), "current_password": PASSWORD,
        "new_password": "short", "confirm": "short"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "密码至少需要 10 个字符（当前 5 个）。" in body


def test_idle_session_ends_after_30_minutes(client, make_user, login, frozen):
    user = make_user(Role.office)
    start = frozen(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    login(user)
    frozen(start + timedelta(minutes=29))
    assert client.get("/campaigns").status_code == 200
    frozen(start + timedelta(minutes=29 + 31))
    response = client.get("/campaigns")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_post_without_csrf_token_refused(client, make_user, login):
    user = make_user(Role.office)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_session_cookie_flags(app, client, make_user, login, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    user = make_user(Role.office)
    response = login(user)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("kexie_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_next_ignores_other_sites(client, make_user):
    user = make_user(Role.office)
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    response = client.post("/login?next=https://evil.example/", data={
        "username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/"


def test_logout_requires_post_and_ends_session(client, make_user, login):
    user = make_user(Role.office)
    login(user)
    assert client.get("/logout").status_code == 405
    page = client.get("/campaigns").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert client.get("/campaigns").status_code == 302
