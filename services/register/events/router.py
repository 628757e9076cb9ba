"""HTTP for the events feed (polling) and the webhooks that push the same events."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import EventReader, WebhookAdmin
from services.register.events import repository, service
from services.register.events.dependencies import OwnedWebhook, WebhookForUpdate
from services.register.events.schemas import DeliveryRead, EventFeed, WebhookCreate, WebhookCreated, WebhookRead
from services.register.events.vocabulary import EventKind

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)
webhooks_router = APIRouter(prefix="/v1/webhooks", tags=["events"], responses=ERROR_RESPONSES)


@router.get("", response_model=EventFeed)
async def list_events(
    ctx: EventReader,
    paging: PagingParams,
    kind: EventKind | None = None,
    agency_ref: Annotated[str | None, Query(max_length=32, description="Only the events addressed to it")] = None,
) -> EventFeed:
    """The events addressed to your agency (an RAA also receives its local authorities'),
    oldest first. Poll with the `next_cursor` of your last page to receive only new events."""
    after = paging.after(int)
    rows = await repository.list_events(
        ctx.session,
        acting_as=ctx.principal.agency_ref,
        agency_ref=agency_ref,
        kind=kind,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return service.feed_page(rows, paging.limit, paging.cursor)


@webhooks_router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    ctx: WebhookAdmin, body: WebhookCreate, request: Request, response: Response
) -> WebhookCreated:
    """Register a receiver of your agency's events. The secret (yours, or one made here) is
    returned now and never again."""
    created = await service.create_webhook(ctx, body, request.app.state.settings)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/webhooks/{created.ref}"
    return created


@webhooks_router.get("", response_model=Page[WebhookRead])
async def list_webhooks(
    ctx: WebhookAdmin,
    paging: PagingParams,
    agency_ref: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[WebhookRead]:
    after = paging.after(int)
    rows = await repository.list_webhooks(
        ctx.session,
        acting_as=ctx.principal.agency_ref,
        agency_ref=agency_ref,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return paging.page(rows, key=lambda row: [row[0].id], item=lambda row: service.to_webhook_read(*row))


@webhooks_router.get("/{ref}", response_model=WebhookRead)
async def get_webhook(ctx: WebhookAdmin, loaded: OwnedWebhook, response: Response) -> WebhookRead:
    webhook, agency = loaded
    set_etag(response, webhook.version)
    return service.to_webhook_read(webhook, agency)


@webhooks_router.post("/{ref}/disable", response_model=WebhookRead)
async def disable_webhook(ctx: WebhookAdmin, loaded: WebhookForUpdate, response: Response) -> WebhookRead:
    """Stop sending to this webhook (deliveries still waiting are cancelled). Webhooks are
    disabled, never deleted; register a new one to receive events again."""
    disabled = await service.disable_webhook(ctx, *loaded)
    set_etag(response, disabled.version)
    return disabled


@webhooks_router.get("/{ref}/deliveries", response_model=Page[DeliveryRead])
async def list_deliveries(ctx: WebhookAdmin, loaded: OwnedWebhook, paging: PagingParams) -> Page[DeliveryRead]:
    """The delivery log, newest first."""
    after = paging.after(int)
    rows = await repository.list_deliveries(
        ctx.session, webhook_id=loaded[0].id, before_id=after[0] if after else None, limit=paging.fetch
    )
    return paging.page(rows, key=lambda row: [row[0].id], item=lambda row: service.to_delivery_read(*row))
