"""The notification outbox: emails the register owes adopters (invitations, password
resets), written in the same transaction as the change that needs them and sent later by
`adoption-register notifications send` when SMTP is configured.

A row holds the link it sends until it is sent (the link's token is stored elsewhere only as a
hash); the sender then removes the link from the row. Rows are never deleted: `sent_at` says
when one went out.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Integer, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.core.database import Base, TextEnum
from services.register.notifications.vocabulary import NotificationKind


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("kind IN ('adopter_invitation', 'password_reset')", name="kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The sender's queue: unsent rows, oldest first.
        Index("ix_notifications_unsent", "id", postgresql_where=text("sent_at IS NULL")),
        Index("ix_notifications_to_email", func.lower(text("to_email")), "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[NotificationKind] = mapped_column(TextEnum(NotificationKind))
    to_email: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # plain text, includes the link
    link: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
