"""The audit trail and the record history: cross-cutting, kept in the database.

`audit_events` says who read a full child record or wrote anything; `record_versions`
(filled by a trigger, see the first migration) holds every state every record has had.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base


class AuditAction(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    TRANSITION = "transition"


class AuditEvent(Base):
    """Append-only (trigger `forbid_change`). Holds references, never personal data."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("action IN ('read', 'create', 'update', 'transition')", name="action_known"),
        Index("ix_audit_events_resource", "resource_type", "resource_ref"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    principal: Mapped[str] = mapped_column(Text, index=True)
    action: Mapped[str] = mapped_column(Text)
    resource_type: Mapped[str] = mapped_column(Text)
    resource_ref: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(Text)
    route: Mapped[str] = mapped_column(Text)


class RecordVersion(Base):
    """Every state every record has ever had, written by the `record_version` trigger."""

    __tablename__ = "record_versions"
    __table_args__ = (Index("ix_record_versions_table_record", "table_name", "record_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    table_name: Mapped[str] = mapped_column(Text)
    record_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    principal: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(Text)


def record_audit(
    session: AsyncSession,
    *,
    principal: str,
    action: AuditAction,
    resource_type: StrEnum,
    resource_ref: str,
    request_id: str,
    route: str,
) -> None:
    """Adds the event to the caller's transaction: it is stored exactly when the read or
    write it describes is, and a response is never sent for an unaudited read."""
    session.add(
        AuditEvent(
            principal=principal,
            action=action.value,
            resource_type=resource_type.value,
            resource_ref=resource_ref,
            request_id=request_id,
            route=route,
        )
    )
