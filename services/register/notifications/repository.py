"""All SQL of the notification outbox."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.notifications.models import Notification

# A notification that failed this many times is left for an operator (and says why).
MAX_ATTEMPTS = 10


def add(session: AsyncSession, notification: Notification) -> None:
    session.add(notification)


async def claim_unsent(session: AsyncSession, limit: int) -> list[Notification]:
    """Unsent notifications, oldest first, locked so that no other sender takes them."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


# A link in an email is a bearer secret until it is used or expires (its token is stored
# elsewhere only as a hash). Once the email is out, the outbox has no reason to hold it: the row
# keeps who was sent what kind of email, and when.
LINK_REMOVED = "(link removed once sent)"


def mark_sent(notification: Notification) -> None:
    notification.attempts += 1
    notification.sent_at = datetime.now(UTC)
    notification.last_error = None
    notification.body = notification.body.replace(notification.link, LINK_REMOVED)
    notification.link = LINK_REMOVED


def mark_failed(notification: Notification, error: str) -> None:
    notification.attempts += 1
    notification.last_error = error[:500]


async def unsent_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Notification.sent_at.is_(None))) or 0)
