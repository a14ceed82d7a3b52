"""The audit event table. Rows are only ever inserted (``webapp.audit.operations.log_event``)."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import UTCDateTime, db, enum_column

GENESIS_HASH = "0" * 64


class AuditResult(enum.StrEnum):
    ok = "ok"
    denied = "denied"
    failed = "failed"


class AuditEvent(db.Model):
    """One audited action. Never update or delete: the database refuses it (triggers), and the hash chain
    makes any edit detectable by ``flask audit verify``."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("length(hash) = 64", name="hash_len"),
        CheckConstraint("length(prev_hash) = 64", name="prev_hash_len"),
        Index("ix_audit_events_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_name: Mapped[str] = mapped_column(String(120), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    result: Mapped[AuditResult] = mapped_column(enum_column(AuditResult, "audit_result"), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    @property
    def detail_data(self) -> dict[str, Any]:
        return json.loads(self.detail)

    def payload(self) -> dict[str, Any]:
        """The fields the hash covers, in a canonical form."""
        return {
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "ip": self.ip,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "result": AuditResult(self.result).value,
            "detail": self.detail,
        }

    def compute_hash(self) -> str:
        return chain_hash(self.prev_hash, self.payload())


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the row."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()
