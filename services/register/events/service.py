"""Business rules of events and webhooks.

`emit()` is the outbox: the one function other domains call, in their own transaction,
when something changes that another agency must act on. The event and its pending webhook
deliveries are stored exactly when the change is (both commit or neither does); the
delivery worker (`delivery.py`) sends them afterwards.
"""

import base64
import binascii
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput
from services.core.http import encode_cursor
from services.core.refs import new_ref
from services.core.sealing import Sealer
from services.core.settings import Settings
from services.register.access import ensure_may_write_for
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.events import repository
from services.register.events.models import (
    SEALED_PREFIX,
    SECRET_PREFIX,
    SUBJECT_MAX_LENGTH,
    Event,
    Webhook,
    WebhookDelivery,
)
from services.register.events.schemas import (
    DeliveryRead,
    EventFeed,
    EventRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from services.register.events.vocabulary import DeliveryStatus, EventKind
from services.register.models import Agency

__all__ = ["EventKind", "NewEvent", "emit", "emit_many"]

# An event says what changed, not the record: a few codes and references at most.
DATA_MAX_KEYS = 20
DATA_KEY_MAX_LENGTH = 40
DATA_VALUE_MAX_LENGTH = 200
DATA_INT_MAX = 2**53 - 1  # exact in every JSON reader
# Every event is sent to each of an agency's webhooks (and its RAA's): keep the fan-out small.
MAX_ACTIVE_WEBHOOKS_PER_AGENCY = 10
SECRET_MIN_BYTES, SECRET_MAX_BYTES, SECRET_NEW_BYTES = 24, 64, 32


async def emit(
    session: AsyncSession,
    *,
    agency_id: int,
    kind: EventKind,
    subject_type: str,
    subject_ref: str,
    data: dict[str, str | int | None],
) -> None:
    """Record, in the caller's transaction, that `agency_id` (the one recipient) must act on
    something: the event, and a pending delivery for each active webhook of that agency and
    of its RAA. Nothing is sent here; the worker sends after the commit, and a rolled-back
    change leaves no event behind.

    An event carries references and codes only, NEVER personal data: no names, dates of
    birth, addresses, case notes or free text about a child or a family. `subject_type` and
    `subject_ref` name the record (e.g. "link", "LK-..."); `data` holds other references and
    codes (e.g. {"sibling_group_ref": "SG-...", "status": "agreed"}). Recipients read the
    record itself, through the API and its scopes, for anything more; events outlive every
    access decision and are never deleted, so what they carry must be safe to keep.

    Raises ValueError for a malformed event (a bug in the caller, not the user's input).
    """
    kind = EventKind(kind)
    for name, value in (("subject_type", subject_type), ("subject_ref", subject_ref)):
        if not 1 <= len(value) <= SUBJECT_MAX_LENGTH:
            raise ValueError(f"{name} must be 1 to {SUBJECT_MAX_LENGTH} characters")
    _check_data(data)
    await repository.add_event(
        session,
        ref=new_ref("EV"),
        agency_id=agency_id,
        kind=kind,
        subject_type=subject_type,
        subject_ref=subject_ref,
        data=dict(data),
    )


@dataclass(frozen=True)
class NewEvent:
    """One event for `emit_many` (the same fields and rules as `emit`)."""

    agency_id: int
    kind: EventKind
    subject_type: str
    subject_ref: str
    data: dict[str, str | int | None]


async def emit_many(session: AsyncSession, events: list[NewEvent]) -> None:
    """`emit` for many events at once, in two statements whatever their number (a match
    run tells every child's agency of its proposals)."""
    for event in events:
        for name, value in (("subject_type", event.subject_type), ("subject_ref", event.subject_ref)):
            if not 1 <= len(value) <= SUBJECT_MAX_LENGTH:
                raise ValueError(f"{name} must be 1 to {SUBJECT_MAX_LENGTH} characters")
        _check_data(event.data)
    await repository.add_events(
        session,
        [
            {
                "ref": new_ref("EV"),
                "agency_id": e.agency_id,
                "kind": EventKind(e.kind),
                "subject_type": e.subject_type,
                "subject_ref": e.subject_ref,
                "data": dict(e.data),
            }
            for e in events
        ],
    )


def _check_data(data: dict[str, str | int | None]) -> None:
    if len(data) > DATA_MAX_KEYS:
        raise ValueError(f"an event's data has at most {DATA_MAX_KEYS} keys")
    for key, value in data.items():
        if not isinstance(key, str) or not 1 <= len(key) <= DATA_KEY_MAX_LENGTH:
            raise ValueError(f"data keys are strings of 1 to {DATA_KEY_MAX_LENGTH} characters: {key!r}")
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            raise ValueError(f"data[{key!r}] must be a string, an integer or None")
        if isinstance(value, str) and len(value) > DATA_VALUE_MAX_LENGTH:
            raise ValueError(f"data[{key!r}] is longer than {DATA_VALUE_MAX_LENGTH} characters")
        if isinstance(value, int) and abs(value) > DATA_INT_MAX:
            raise ValueError(f"data[{key!r}] is out of range")


def to_event_read(event: Event, agency_ref: str) -> EventRead:
    return EventRead(
        ref=event.ref,
        kind=event.kind,
        agency_ref=agency_ref,
        subject_type=event.subject_type,
        subject_ref=event.subject_ref,
        data=event.data,
        occurred_at=event.occurred_at,
    )


def feed_page(rows: list[tuple[Event, str]], limit: int, cursor: str | None) -> EventFeed:
    """The feed's page: the cursor always points after the last event seen (see EventFeed)."""
    page = rows[:limit]
    return EventFeed(
        items=[to_event_read(event, ref) for event, ref in page],
        next_cursor=encode_cursor([page[-1][0].id]) if page else cursor,
        has_more=len(rows) > limit,
    )


# --- webhooks -------------------------------------------------------------------------------


def to_webhook_read(webhook: Webhook, agency: Agency) -> WebhookRead:
    return WebhookRead(
        ref=webhook.ref,
        agency_ref=agency.ref,
        url=webhook.url,
        active=webhook.active,
        created_at=webhook.created_at,
        disabled_at=webhook.disabled_at,
        version=webhook.version,
    )


def to_delivery_read(delivery: WebhookDelivery, event_ref: str, kind: EventKind) -> DeliveryRead:
    return DeliveryRead(
        event_ref=event_ref,
        event_kind=kind,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        next_attempt_at=delivery.next_attempt_at if delivery.status is DeliveryStatus.PENDING else None,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


def _url_error(message: str) -> InvalidInput:
    return InvalidInput(message, extra={"errors": [{"field": "body.url", "message": message, "code": "invalid_url"}]})


def check_url(url: str, environment: Literal["development", "test", "production"]) -> None:
    """An absolute http(s) URL with a host; https only in production (the payloads and
    signatures must not cross the internet in clear). No credentials in it: the signature
    is the receiver's proof of origin, and a URL is shown in lists and logs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _url_error("The URL is not valid.") from exc
    allowed = ("https",) if environment == "production" else ("https", "http")
    if parts.scheme not in allowed:
        raise _url_error(f"The URL must start with {' or '.join(f'{s}://' for s in allowed)}.")
    if not parts.hostname or (port is not None and not 1 <= port <= 65535):
        raise _url_error("The URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise _url_error("The URL must not carry credentials; verify the signature instead.")
    if parts.fragment or any(c.isspace() for c in url):
        raise _url_error("The URL must not have a fragment or spaces.")
    if environment == "production" and not_public(parts.hostname):
        raise _url_error("The URL must name a public internet host, not a local or private address.")


LOCAL_NAMES = ("localhost", "localhost.localdomain")


def not_public(host: str) -> bool:
    """True for a host that is a local name or a literal address outside the public internet
    (loopback, private, link-local such as cloud metadata, reserved). A name's addresses are
    checked again when a delivery resolves it (`delivery.refused_address`)."""
    host = host.strip("[]").rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


# A bare `whsec_` secret, stored before secrets were sealed, is still read
# (`adoption-register webhooks seal-secrets` seals it).
DEVELOPMENT_SECRET_KEY = "development only: webhook secrets are not protected by this key"


def secret_sealer(settings: Settings) -> Sealer:
    key = settings.webhook_secret_key.get_secret_value() if settings.webhook_secret_key else DEVELOPMENT_SECRET_KEY
    return Sealer(key.encode(), "webhook-secrets")


def seal_secret(settings: Settings, secret: str) -> str:
    return SEALED_PREFIX + secret_sealer(settings).seal(secret)


def open_secret(settings: Settings, stored: str) -> str:
    """The `whsec_` secret of a stored value. Raises Unsealable when WEBHOOK_SECRET_KEY is not
    the key it was sealed with."""
    if not stored.startswith(SEALED_PREFIX):
        return stored
    return secret_sealer(settings).open(stored.removeprefix(SEALED_PREFIX))


async def seal_stored_secrets(session: AsyncSession, settings: Settings) -> int:
    """Seals the secrets stored before sealing existed; returns how many."""
    found = await repository.unsealed_secrets(session)
    for row in found:
        row.secret = seal_secret(settings, row.secret)
    await session.flush()
    return len(found)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (Standard Webhooks: the base64 after the prefix)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def _checked_secret(secret: str | None) -> str:
    if secret is None:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_NEW_BYTES)).decode()
    try:
        size = len(secret_key(secret))
    except (binascii.Error, ValueError):
        size = 0
    if not SECRET_MIN_BYTES <= size <= SECRET_MAX_BYTES:
        message = f"The secret must be whsec_ and the base64 of {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} random bytes."
        raise InvalidInput(
            message, extra={"errors": [{"field": "body.secret", "message": message, "code": "invalid_secret"}]}
        )
    return secret


async def create_webhook(ctx: RequestContext, body: WebhookCreate, settings: Settings) -> WebhookCreated:
    agency_ref = body.agency_ref or ctx.principal.agency_ref
    if agency_ref is None:
        message = "Name the agency whose events the webhook receives."
        raise InvalidInput(
            message, extra={"errors": [{"field": "body.agency_ref", "message": message, "code": "missing"}]}
        )
    found = await agencies.find(ctx.session, agency_ref, field="body.agency_ref")
    # Locked: concurrent creations for one agency count their webhooks one after the other.
    agency, parent_ref = await agencies.get_with_parent_ref(ctx.session, found.ref, for_update=True)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    check_url(body.url, settings.environment)
    secret = _checked_secret(body.secret)
    if await repository.count_active_webhooks(ctx.session, agency.id) >= MAX_ACTIVE_WEBHOOKS_PER_AGENCY:
        raise Conflict(f"{agency.ref} has {MAX_ACTIVE_WEBHOOKS_PER_AGENCY} active webhooks; disable one first.")
    webhook = Webhook(ref=new_ref("WH"), agency_id=agency.id, url=body.url, created_by=ctx.principal.audit_name)
    await repository.add_webhook(ctx.session, webhook, seal_secret(settings, secret))
    ctx.audit(AuditAction.CREATE, AuditResource.WEBHOOK, webhook.ref)
    return WebhookCreated(**to_webhook_read(webhook, agency).model_dump(), secret=secret)


async def disable_webhook(ctx: RequestContext, webhook: Webhook, agency: Agency) -> WebhookRead:
    """Disabling, not deleting: the webhook and its delivery log stay; nothing more is sent
    to it, including deliveries still waiting."""
    if not webhook.active:
        raise Conflict(f"Webhook {webhook.ref} is already disabled.")
    webhook.active = False
    webhook.disabled_at = datetime.now(UTC)
    await ctx.session.flush()
    await repository.cancel_pending_deliveries(ctx.session, webhook.id)
    ctx.audit(AuditAction.TRANSITION, AuditResource.WEBHOOK, webhook.ref)
    return to_webhook_read(webhook, agency)
