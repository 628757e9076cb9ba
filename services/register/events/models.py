"""Tables of the events outbox and the webhooks that deliver it.

- `events`: append-only (trigger `forbid_change`); one row per change another agency must
  act on, addressed to one agency; references and codes only, never personal data.
- `webhooks`: an agency's receiver URLs; versioned and never deleted (disabled instead).
- `webhook_secrets`: each webhook's signing secret, apart from `webhooks` so the record
  history (`record_versions`, a whole copy of every state) never holds a secret.
- `webhook_deliveries`: one row per event and webhook, the delivery log; the worker claims
  due rows with `FOR UPDATE SKIP LOCKED`, and `(event_id, webhook_id)` is unique, so an
  event is delivered to a webhook by one worker at a time and recorded once.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base, TextEnum
from services.register.events.vocabulary import DeliveryStatus, EventKind, sql_values
from services.register.models import Record

# Bounds shared by the API, emit() and the tables' CHECK constraints.
SUBJECT_MAX_LENGTH = 40
URL_MAX_LENGTH = 2000
ERROR_MAX_LENGTH = 500


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(EventKind)})", name="kind_known"),
        CheckConstraint(
            f"length(subject_type) BETWEEN 1 AND {SUBJECT_MAX_LENGTH} "
            f"AND length(subject_ref) BETWEEN 1 AND {SUBJECT_MAX_LENGTH}",
            name="subject_bounded",
        ),
        CheckConstraint("jsonb_typeof(data) = 'object'", name="data_is_object"),
        # The feed reads one agency's events in id order.
        Index("ix_events_agency_id_id", "agency_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))  # the recipient
    kind: Mapped[EventKind] = mapped_column(TextEnum(EventKind))
    subject_type: Mapped[str] = mapped_column(Text)
    subject_ref: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Webhook(Record):
    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint(
            f"length(url) <= {URL_MAX_LENGTH} AND (url LIKE 'https://%' OR url LIKE 'http://%')", name="url_bounded"
        ),
        CheckConstraint("active = (disabled_at IS NULL)", name="disabled_when"),
    )

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)


# A sealed secret is stored as this prefix and a Fernet token (events.service.seal_secret); a bare
# `whsec_` one was stored before secrets were sealed.
SEALED_PREFIX = "sealed:"
SECRET_PREFIX = "whsec_"


class WebhookSecret(Base):
    __tablename__ = "webhook_secrets"
    __table_args__ = (
        CheckConstraint(f"secret LIKE '{SEALED_PREFIX}%' OR secret LIKE '{SECRET_PREFIX}%'", name="standard_form"),
    )

    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(DeliveryStatus)})", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_when"),
        CheckConstraint(f"length(last_error) <= {ERROR_MAX_LENGTH}", name="error_bounded"),
        Index("uq_webhook_deliveries_event_webhook", "event_id", "webhook_id", unique=True),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        # What the worker scans: only the pending rows, by when they are due.
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        TextEnum(DeliveryStatus), server_default=DeliveryStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
