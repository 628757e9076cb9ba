"""The outbox sender: nothing without SMTP_URL; with it, every unsent notification once, its
link in the body and then gone from the outbox; a refusal is counted and kept for the next round."""

import smtplib
import uuid
from email.message import EmailMessage
from typing import ClassVar

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from services.cli import app as cli
from services.core.settings import Settings, get_settings
from services.register.notifications import sender
from services.register.notifications.sender import SmtpTarget, parse_smtp_url, send_unsent


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what it was given; refuses addresses it is told to."""

    sent: ClassVar[list[EmailMessage]] = []
    refuse: ClassVar[set[str]] = set()
    logins: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        pass

    def login(self, user: str, password: str):
        FakeSMTP.logins.append((user, password))

    def send_message(self, message: EmailMessage):
        if message["To"] in FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append(message)


@pytest.fixture
async def outbox(committed_database_url, monkeypatch, settings):
    FakeSMTP.sent, FakeSMTP.refuse, FakeSMTP.logins = [], set(), []
    monkeypatch.setattr(sender.smtplib, "SMTP", FakeSMTP)
    engine = create_async_engine(committed_database_url)
    tag = uuid.uuid4().hex[:8]

    async def add(email: str) -> str:
        ref = f"N-{tag}-{email}"
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO notifications (ref, kind, to_email, subject, body, link) "
                    "VALUES (:ref, 'password_reset', :email, 'Reset', 'Open https://r.test/account/reset/T', "
                    "'https://r.test/account/reset/T')"
                ),
                {"ref": ref, "email": email},
            )
        return ref

    async def row(ref: str):
        async with engine.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT sent_at, attempts, last_error, body, link FROM notifications WHERE ref = :r"),
                    {"r": ref},
                )
            ).one()

    yield engine, add, row
    await engine.dispose()


def _with_smtp(settings: Settings, url: str | None) -> Settings:
    return Settings(**{**settings.model_dump(), "smtp_url": SecretStr(url) if url else None})


async def test_without_smtp_nothing_is_sent(outbox, settings):
    engine, add, row = outbox
    ref = await add(f"{uuid.uuid4().hex[:6]}@example.org")
    assert await send_unsent(engine, _with_smtp(settings, None)) is None
    assert (await row(ref)).sent_at is None and FakeSMTP.sent == []


async def test_each_unsent_notification_is_sent_once_with_its_link(outbox, settings):
    engine, add, row = outbox
    good, bad = f"{uuid.uuid4().hex[:6]}@example.org", f"{uuid.uuid4().hex[:6]}@example.org"
    FakeSMTP.refuse = {bad}
    good_ref, bad_ref = await add(good), await add(bad)
    configured = _with_smtp(settings, "smtp+starttls://mailer:p%40ss@mail.test:2525")
    assert await send_unsent(engine, configured) >= 1
    mine = [m for m in FakeSMTP.sent if m["To"] == good]
    assert len(mine) == 1 and "https://r.test/account/reset/T" in mine[0].get_content()
    assert FakeSMTP.logins[0] == ("mailer", "p@ss")
    sent = await row(good_ref)
    assert sent.sent_at is not None and sent.attempts == 1
    assert "/account/reset/T" not in sent.body + sent.link, "a sent link stays in the outbox"
    refused = await row(bad_ref)
    assert refused.sent_at is None and refused.attempts == 1 and refused.last_error == "SMTPRecipientsRefused"
    assert refused.link == "https://r.test/account/reset/T", "an unsent link is kept for the next round"
    FakeSMTP.sent = []
    await send_unsent(engine, configured)
    assert [m["To"] for m in FakeSMTP.sent if m["To"] in (good, bad)] == [], "sent once; the refused one failed again"
    assert (await row(bad_ref)).attempts == 2


def test_smtp_urls():
    assert parse_smtp_url("smtp://mail:25") == SmtpTarget("mail", 25, "none", None, None)
    assert parse_smtp_url("smtps://u:p@mail") == SmtpTarget("mail", 465, "ssl", "u", "p")
    assert parse_smtp_url("smtp+starttls://mail").port == 587
    for bad in ("http://mail", "smtp://", "mail:25"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_the_command_says_when_it_sends_nothing(monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["notifications", "send", "--once"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and "SMTP_URL is not set" in result.output
