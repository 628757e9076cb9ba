"""Writing notifications: in the caller's transaction, so a change that rolls back leaves no
email behind and one that commits never loses its email."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.refs import new_ref
from services.register.notifications import repository
from services.register.notifications.models import Notification
from services.register.notifications.vocabulary import NotificationKind


def queue(
    session: AsyncSession, *, kind: NotificationKind, to_email: str, subject: str, body: str, link: str
) -> Notification:
    notification = Notification(
        ref=new_ref("N"), kind=kind, to_email=to_email, subject=subject, body=body, link=link, attempts=0
    )
    repository.add(session, notification)
    return notification
