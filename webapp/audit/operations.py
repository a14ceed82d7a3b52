"""Writing and checking the audit chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import delete, func, select, text

from webapp.audit.models import GENESIS_HASH, AuditEvent, AuditResult
from webapp.core.db import db
from webapp.core.timeutil import now

# Key for PostgreSQL's transaction-level advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_204_311


def _client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


def _actor(actor) -> tuple[int | None, str]:
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if actor is None:
        return None, "系统"
    if isinstance(actor, str):
        return None, actor
    return actor.id, actor.username


def log_event(
    action: str,
    *,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    detail: dict[str, Any] | None = None,
    result: AuditResult = AuditResult.ok,
    actor: Any = None,
) -> AuditEvent:
    """Append one event to the audit chain and flush (never commit: the request commits once).

    ``obj`` may be a model instance: its table name and primary key become the object reference.
    ``actor`` defaults to the signed-in user, else "系统" (the system itself).
    """
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    actor_id, actor_name = _actor(actor)
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise chain appends across app servers until this transaction ends.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    session.flush()
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    event = AuditEvent(
        at=now(),
        actor_id=actor_id,
        actor_name=actor_name[:120],
        ip=_client_ip(),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        result=result,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=last or GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """Result of walking the chain: ``ok`` and, if not, the first bad row and why."""

    ok: bool
    rows: int
    head: str | None
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain() -> ChainReport:
    """Walk the whole log in id order and recompute every link.

    The first remaining row anchors the chain (older rows may have been pruned after the retention period).
    """
    prev: str | None = None
    count = 0
    head = None
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500))
    try:
        for (event,) in rows:
            count += 1
            if prev is not None and event.prev_hash != prev:
                return ChainReport(False, count, head, event.id, "链接断开：上一条记录被删除或修改")
            if event.compute_hash() != event.hash:
                return ChainReport(False, count, head, event.id, "内容与哈希不符：该记录被修改")
            prev = head = event.hash
    finally:
        rows.close()  # a server-side cursor on PostgreSQL must not outlive an early return
    return ChainReport(True, count, head)


def chain_head() -> str | None:
    return db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()


def prune_before(cutoff: datetime, *, retention_days: int) -> int:
    """Delete the oldest events, up to ``cutoff``; refuses any cutoff inside the retention period."""
    limit = now() - timedelta(days=retention_days)
    if cutoff > limit:
        raise ValueError(f"审计日志至少保留 {retention_days} 天：截止时间不得晚于 {limit:%Y-%m-%d}")
    # Only a prefix of the chain may go, so what remains is still one unbroken chain: stop at the first
    # row that is young enough to keep, even if an older-looking row follows it.
    boundary = db.session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= cutoff))
    query = delete(AuditEvent).where(AuditEvent.at < cutoff)
    if boundary is not None:
        query = query.where(AuditEvent.id < boundary)
    result = db.session.execute(query)
    log_event("audit.prune", detail={"before": cutoff.isoformat(), "deleted": result.rowcount})
    return result.rowcount


def event_rows(events) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor_name,
            "ip": e.ip or "",
            "action": e.action,
            "object": f"{e.object_type or ''}:{e.object_id or ''}".strip(":"),
            "result": AuditResult(e.result).value,
            "detail": e.detail,
            "hash": e.hash,
        }
        for e in events
    ]
