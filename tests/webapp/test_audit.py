"""Audit log (§7): append-only in the database, hash-chained, tampering detected, auditor pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from webapp.audit.models import GENESIS_HASH, AuditEvent, chain_hash
from webapp.audit.operations import log_event, prune_before, verify_chain
from webapp.auth.models import Role


def _disable_triggers(session):
    """What an attacker with database access would do first (undone by the test's rollback)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_retention"))


def test_log_event_links_to_previous_hash(ctx, session):
    first = log_event("test.one", detail={"n": 1}, actor="测试")
    second = log_event("test.two", detail={"n": 2}, actor="测试")
    assert second.prev_hash == first.hash
    assert second.hash == chain_hash(first.hash, second.payload())


def test_first_event_of_empty_log_links_to_genesis(ctx, session):
    session.execute(text("DELETE FROM audit_events WHERE 1 = 0"))
    assert session.scalar(select(AuditEvent).order_by(AuditEvent.id).limit(1)).prev_hash == GENESIS_HASH


def test_verify_chain_ok_on_untouched_log(ctx, session):
    for n in range(5):
        log_event("test.event", detail={"n": n}, actor="测试")
    report = verify_chain()
    assert report.ok
    assert report.head == session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


def test_database_refuses_update_of_audit_row(ctx, session):
    event = log_event("test.event", actor="测试")
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE audit_events SET actor_name = 'x' WHERE id = :id"), {"id": event.id})
    session.rollback()


def test_database_refuses_delete_of_recent_row(ctx, session):
    event = log_event("test.event", actor="测试")
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    session.rollback()


def test_verify_chain_detects_edited_row(ctx, session):
    events = [log_event("test.event", detail={"n": n}, actor="测试") for n in range(4)]
    _disable_triggers(session)
    session.execute(text("UPDATE audit_events SET detail = '{\"n\": 99}' WHERE id = :id"), {"id": events[1].id})
    session.expire_all()
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_id == events[1].id
    assert report.problem == "内容与哈希不符：该记录被修改"


def test_verify_chain_detects_deleted_row(ctx, session):
    events = [log_event("test.event", detail={"n": n}, actor="测试") for n in range(4)]
    _disable_triggers(session)
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[2].id})
    session.expire_all()
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_id == events[3].id
    assert report.problem == "链接断开：上一条记录被删除或修改"


def test_verify_chain_detects_rehashed_row_breaking_next_link(ctx, session):
    events = [log_event("test.event", detail={"n": n}, actor="测试") for n in range(3)]
    _disable_triggers(session)
    forged = events[1]
    payload = forged.payload() | {"detail": '{"n": 7}'}
    session.execute(text("UPDATE audit_events SET detail = :d, hash = :h WHERE id = :id"),
                    {"d": '{"n": 7}', "h": chain_hash(forged.prev_hash, payload), "id": forged.id})
    session.expire_all()
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_id == events[2].id


def test_prune_refuses_cutoff_inside_retention(ctx, session):
    with pytest.raises(ValueError, match="审计日志至少保留 180 天"):
        prune_before(datetime.now(UTC) - timedelta(days=100), retention_days=180)


def test_prune_deletes_old_prefix_and_keeps_chain_whole(ctx, session, frozen):
    _disable_triggers(session)
    session.execute(text("DELETE FROM audit_events"))
    start = datetime.now(UTC) - timedelta(days=400)
    for n in range(3):
        frozen(start + timedelta(days=n))
        log_event("test.old", actor="测试")
    frozen(datetime.now(UTC))
    recent = log_event("test.recent", actor="测试")
    deleted = prune_before(datetime.now(UTC) - timedelta(days=200), retention_days=180)
    assert deleted == 3
    assert [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "test.recent", "audit.prune"]
    assert recent.id == session.scalar(select(AuditEvent.id).order_by(AuditEvent.id).limit(1))
    assert verify_chain().ok  # the oldest remaining row anchors the chain


def test_prune_never_cuts_the_chain_in_the_middle(ctx, session, frozen):
    log_event("test.recent", actor="测试")
    frozen(datetime.now(UTC) - timedelta(days=400))
    late_old = log_event("test.old", actor="测试")  # an old timestamp after a recent row
    frozen(datetime.now(UTC))
    assert prune_before(datetime.now(UTC) - timedelta(days=200), retention_days=180) == 0
    assert session.get(AuditEvent, late_old.id) is not None
    assert verify_chain().ok


def test_auditor_filters_log_by_action_and_result(client, make_user, login, session):
    auditor = make_user(Role.auditor)
    office = make_user(Role.office)
    login(office, password="Wrong-Passw0rd")
    login(auditor)
    body = client.get("/audit/?action=auth.login&result=failed").get_data(as_text=True)
    assert "auth.login" in body
    assert f">{office.username}<" in body
    assert "user.create" not in body


def test_auditor_exports_csv_with_bom_and_beijing_time(client, make_user, login, frozen):
    frozen(datetime(2026, 11, 2, 16, 30, tzinfo=UTC))  # 00:30 on 3 November in Beijing
    auditor = make_user(Role.auditor)
    login(auditor)
    response = client.get("/audit/export.csv?action=auth.login")
    assert response.headers["Content-Disposition"] == "attachment; filename=audit-log.csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "时间（北京时间）", "操作人"]
    assert rows[-1][1] == "2026-11-03 00:30:00"
    assert rows[-1][4] == "auth.login"


def test_csv_export_neutralises_formulas(client, make_user, login):
    auditor = make_user(Role.auditor)
    login("=cmd|calc", password="Wrong-Passw0rd")
    login(auditor)
    rows = list(csv.reader(io.StringIO(client.get("/audit/export.csv").get_data().decode("utf-8-sig"))))
    actors = [r[2] for r in rows[1:]]
    assert "'=cmd|calc" in actors


def test_verify_page_reports_intact_chain(client, make_user, login):
    login(make_user(Role.auditor))
    assert "审计链完整" in client.get("/audit/verify").get_data(as_text=True)


def test_office_cannot_read_audit_log(client, make_user, login):
    login(make_user(Role.office))
    assert client.get("/audit/").status_code == 403
