"""All SQL for events, webhooks and their deliveries (the API's and the worker's)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import NotFound
from services.register.events.models import SECRET_PREFIX, Event, Webhook, WebhookDelivery, WebhookSecret
from services.register.events.vocabulary import DeliveryStatus, EventKind
from services.register.models import Agency

Parent = aliased(Agency)


def _agencies_acting_as(agency_ref: str) -> Any:
    """Ids of the agencies whose events and webhooks a principal of `agency_ref` handles: its
    own, and, for an RAA, its local authorities' (`services/register/access.py`)."""
    own = select(Agency.id).where(Agency.ref == agency_ref).scalar_subquery()
    return select(Agency.id).where(or_(Agency.id == own, Agency.parent_raa_id == own))


def _visible(column: Any, acting_as: str | None) -> ColumnElement[bool]:
    return column.in_(_agencies_acting_as(acting_as)) if acting_as is not None else literal(True)


# --- events ---------------------------------------------------------------------------------


async def add_event(
    session: AsyncSession,
    *,
    ref: str,
    agency_id: int,
    kind: EventKind,
    subject_type: str,
    subject_ref: str,
    data: dict[str, Any],
) -> int:
    """The event, and one pending delivery per active webhook of its agency or of that
    agency's RAA (who receives its local authorities' events, as the feed shows them)."""
    event_id: int = (
        await session.execute(
            insert(Event)
            .values(
                ref=ref, agency_id=agency_id, kind=kind, subject_type=subject_type, subject_ref=subject_ref, data=data
            )
            .returning(Event.id)
        )
    ).scalar_one()
    parent_raa = select(Agency.parent_raa_id).where(Agency.id == agency_id).scalar_subquery()
    await session.execute(
        insert(WebhookDelivery).from_select(
            ["event_id", "webhook_id"],
            select(literal(event_id), Webhook.id)
            .where(Webhook.active, or_(Webhook.agency_id == agency_id, Webhook.agency_id == parent_raa))
            .order_by(Webhook.id),
        )
    )
    return event_id


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement, and their pending deliveries in a second."""
    if not rows:
        return
    ids = list((await session.execute(insert(Event).returning(Event.id, sort_by_parameter_order=True), rows)).scalars())
    recipient = aliased(Agency)
    await session.execute(
        insert(WebhookDelivery).from_select(
            ["event_id", "webhook_id"],
            select(Event.id, Webhook.id)
            .join(recipient, recipient.id == Event.agency_id)
            .join(
                Webhook,
                and_(
                    Webhook.active,
                    or_(Webhook.agency_id == Event.agency_id, Webhook.agency_id == recipient.parent_raa_id),
                ),
            )
            .where(Event.id.in_(ids))
            .order_by(Event.id, Webhook.id),
        )
    )


async def list_events(
    session: AsyncSession,
    *,
    acting_as: str | None,
    agency_ref: str | None,
    kind: EventKind | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[Event, str]]:
    """Oldest first. `acting_as`: the caller's agency (None for the national team)."""
    query = (
        select(Event, Agency.ref).join(Agency, Agency.id == Event.agency_id).where(_visible(Event.agency_id, acting_as))
    )
    if agency_ref is not None:
        query = query.where(Agency.ref == agency_ref)
    if kind is not None:
        query = query.where(Event.kind == kind)
    if after_id is not None:
        query = query.where(Event.id > after_id)
    rows = await session.execute(query.order_by(Event.id).limit(limit))
    return [(event, ref) for event, ref in rows.all()]


# --- webhooks -------------------------------------------------------------------------------


async def add_webhook(session: AsyncSession, webhook: Webhook, secret: str) -> None:
    session.add(webhook)
    await session.flush()
    session.add(WebhookSecret(webhook_id=webhook.id, secret=secret))
    await session.flush()


async def count_active_webhooks(session: AsyncSession, agency_id: int) -> int:
    query = select(func.count()).select_from(Webhook).where(Webhook.agency_id == agency_id, Webhook.active)
    return (await session.execute(query)).scalar_one()


async def get_webhook(session: AsyncSession, ref: str, *, for_update: bool = False) -> tuple[Webhook, Agency]:
    query = select(Webhook, Agency).join(Agency, Agency.id == Webhook.agency_id).where(Webhook.ref == ref)
    if for_update:
        query = query.with_for_update(of=Webhook)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No webhook {ref}.")
    return row[0], row[1]


async def list_webhooks(
    session: AsyncSession, *, acting_as: str | None, agency_ref: str | None, after_id: int | None, limit: int
) -> list[tuple[Webhook, Agency]]:
    query = (
        select(Webhook, Agency)
        .join(Agency, Agency.id == Webhook.agency_id)
        .where(_visible(Webhook.agency_id, acting_as))
    )
    if agency_ref is not None:
        query = query.where(Agency.ref == agency_ref)
    if after_id is not None:
        query = query.where(Webhook.id > after_id)
    rows = await session.execute(query.order_by(Webhook.id).limit(limit))
    return [(w, a) for w, a in rows.all()]


async def cancel_pending_deliveries(session: AsyncSession, webhook_id: int) -> int:
    """A disabled webhook receives nothing more, not even what was already waiting.
    Waits for a worker mid-delivery on one of them (its row lock) and leaves what it sent."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_deliveries(
    session: AsyncSession, *, webhook_id: int, before_id: int | None, limit: int
) -> list[tuple[WebhookDelivery, str, EventKind]]:
    """Newest first."""
    query = (
        select(WebhookDelivery, Event.ref, Event.kind)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = await session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit))
    return [(d, ref, kind) for d, ref, kind in rows.all()]


# --- the delivery worker --------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    delivery: WebhookDelivery
    event: Event
    agency_ref: str
    url: str
    stored_secret: str  # as stored: sealed (events.service.open_secret gives the secret)


async def claim_due(session: AsyncSession, now: datetime) -> ClaimedDelivery | None:
    """The next due delivery, locked until the caller's transaction ends. `SKIP LOCKED`: a
    delivery another worker holds is passed over, never waited for, never sent twice."""
    query = (
        select(WebhookDelivery, Event, Agency.ref, Webhook.url, WebhookSecret.secret)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .join(Agency, Agency.id == Event.agency_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(WebhookSecret, WebhookSecret.webhook_id == Webhook.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            Webhook.active,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    delivery, event, agency_ref, url, secret = row
    return ClaimedDelivery(delivery=delivery, event=event, agency_ref=agency_ref, url=url, stored_secret=secret)


async def unsealed_secrets(session: AsyncSession) -> list[WebhookSecret]:
    """Secrets stored before sealing (bare `whsec_`), locked for the caller's transaction."""
    query = select(WebhookSecret).where(WebhookSecret.secret.startswith(SECRET_PREFIX)).with_for_update()
    return list(await session.scalars(query))
