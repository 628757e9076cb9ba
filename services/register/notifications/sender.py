"""Sends the outbox by SMTP (`adoption-register notifications send`).

Each round claims unsent rows with `FOR UPDATE SKIP LOCKED` in one transaction, sends them
and records the result before it commits, so two senders never send one notification at
once. A sender killed between the SMTP server's acceptance and its commit sends that email
again next time: at least once, never lost. Nothing here logs a link, a body or an address.
"""

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from services.core.database import create_sessionmaker, transaction
from services.core.settings import Settings
from services.register.notifications import repository
from services.register.notifications.models import Notification

log = logging.getLogger(__name__)

SENDER_PRINCIPAL = "worker:notifications"
BATCH = 50
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # "none", "starttls" or "ssl"
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://host[:25]`, `smtp+starttls://user:pass@host[:587]`, `smtps://host[:465]`."""
    parts = urlsplit(url)
    schemes = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587 or smtps://host")
    tls, default_port = schemes[parts.scheme]
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or default_port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def message_of(notification: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.to_email
    message["Subject"] = notification.subject
    message["Message-ID"] = f"<{notification.ref}@adoption-register>"
    message.set_content(notification.body)
    return message


def _send_all(target: SmtpTarget, messages: list[EmailMessage]) -> list[str | None]:
    """One connection for the batch; per message, None when accepted or the error's kind."""
    smtp: smtplib.SMTP
    if target.tls == "ssl":
        smtp = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
    results: list[str | None] = []
    with smtp:
        if target.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if target.username:
            smtp.login(target.username, target.password or "")
        for message in messages:
            try:
                smtp.send_message(message)
                results.append(None)
            except smtplib.SMTPException as exc:
                results.append(type(exc).__name__)
    return results


async def send_unsent(engine: AsyncEngine, settings: Settings) -> int | None:
    """Sends every unsent notification; how many went out, or None when SMTP_URL is unset
    (then nothing is sent and nothing changes)."""
    if settings.smtp_url is None:
        return None
    target = parse_smtp_url(settings.smtp_url.get_secret_value())
    sessionmaker = create_sessionmaker(engine)
    sent = 0
    while True:
        async with transaction(sessionmaker, principal=SENDER_PRINCIPAL, request_id="notifications-send") as session:
            batch = await repository.claim_unsent(session, BATCH)
            if not batch:
                return sent
            messages = [message_of(n, settings.smtp_from) for n in batch]
            try:
                results = await asyncio.to_thread(_send_all, target, messages)
            except (OSError, smtplib.SMTPException) as exc:
                # The server could not be reached or refused us: count the attempt, stop.
                log.warning("SMTP server unavailable: %s", type(exc).__name__)
                for notification in batch:
                    repository.mark_failed(notification, type(exc).__name__)
                return sent
            for notification, error in zip(batch, results, strict=True):
                if error is None:
                    repository.mark_sent(notification)
                    sent += 1
                else:
                    repository.mark_failed(notification, error)
            if len(batch) < BATCH:
                return sent
