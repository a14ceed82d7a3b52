"""The system administrator's account pages: create, disable, reset, unlock."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token
from webapp.auth.models import ApplicantRole, Role, User
from webapp.auth.passwords import password_problems, verify_password


def _new_user_form(client):
    return csrf_token(client.get("/admin/users/new").get_data(as_text=True))


def test_sysadmin_creates_applicant_with_issued_password(client, make_user, login, session, unit):
    login(make_user(Role.sysadmin))
    response = client.post("/admin/users/new", data={
        "csrf_token": _new_user_form(client), "username": "dalian.clerk", "display_name": "大连填报员",
        "role": "applicant", "unit_id": str(unit("210200").id), "applicant_role": "clerk", "home_region_id": "0"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    issued = re.search(r'id="issued-password">([^<]+)<', body).group(1)
    assert password_problems(issued) == []
    user = session.scalar(select(User).where(User.username == "dalian.clerk"))
    assert user.unit.code == "210200" and user.applicant_role == ApplicantRole.clerk
    assert user.must_change_password is True
    assert verify_password(user.password_hash, issued.replace("&amp;", "&"))


def test_sysadmin_create_applicant_without_unit_explained(client, make_user, login, session):
    login(make_user(Role.sysadmin))
    response = client.post("/admin/users/new", data={
        "csrf_token": _new_user_form(client), "username": "nounit", "display_name": "无单位",
        "role": "applicant", "unit_id": "0", "applicant_role": "", "home_region_id": "0"})
    assert "申报单位账户必须选择所属单位和岗位（填报员或负责人）。" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.username == "nounit")) is None


def test_sysadmin_disable_then_login_refused(client, make_user, login, session):
    admin = make_user(Role.sysadmin)
    target = make_user(Role.finance)
    login(admin)
    token = csrf_token(client.get(f"/admin/users/{target.id}").get_data(as_text=True))
    assert client.post(f"/admin/users/{target.id}/disable", data={"csrf_token": token}).status_code == 302
    assert session.get(User, target.id).is_enabled is False
    client.post("/logout", data={"csrf_token": token})
    assert login(target).status_code == 200


def test_sysadmin_cannot_disable_self(client, make_user, login, session):
    admin = make_user(Role.sysadmin)
    login(admin)
    token = csrf_token(client.get(f"/admin/users/{admin.id}").get_data(as_text=True))
    response = client.post(f"/admin/users/{admin.id}/disable", data={"csrf_token": token}, follow_redirects=True)
    assert "不能停用自己的账户。" in response.get_data(as_text=True)
    assert session.get(User, admin.id).is_enabled is True


def test_sysadmin_reset_forces_change_and_unlocks(client, make_user, login, session, app):
    admin = make_user(Role.sysadmin)
    target = make_user(Role.office)
    for _ in range(5):
        login(target, password="Wrong-Passw0rd")
    login(admin)
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "已锁定" in page
    response = client.post(f"/admin/users/{target.id}/reset", data={"csrf_token": csrf_token(page)})
    issued = re.search(r'id="issued-password">([^<]+)<', response.get_data(as_text=True)).group(1)
    issued = issued.replace("&amp;", "&")
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert login(target, password=issued).status_code == 302
    assert client.get("/campaigns").headers["Location"] == "/account/password"
    assert not verify_password(session.get(User, target.id).password_hash, PASSWORD)


def test_expert_account_needs_region(client, make_user, login):
    login(make_user(Role.sysadmin))
    response = client.post("/admin/users/new", data={
        "csrf_token": _new_user_form(client), "username": "expertx", "display_name": "专家",
        "role": "expert", "unit_id": "0", "applicant_role": "", "home_region_id": "0"})
    assert "评审专家账户必须填写所在地区（用于回避）。" in response.get_data(as_text=True)
