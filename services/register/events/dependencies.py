"""Loaded-object dependencies for webhook routes: the webhook in the path, checked against
the caller's agency (an RAA's include its local authorities')."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import WebhookAdmin
from services.register.access import ensure_may_write_for
from services.register.agencies import repository as agencies
from services.register.events import repository
from services.register.events.models import Webhook
from services.register.models import Agency


async def _owned(ctx: WebhookAdmin, ref: str, *, for_update: bool) -> tuple[Webhook, Agency]:
    webhook, agency = await repository.get_webhook(ctx.session, ref, for_update=for_update)
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    return webhook, agency


async def owned_webhook(ctx: WebhookAdmin, ref: str) -> tuple[Webhook, Agency]:
    """The webhook in the path, if it is the caller's agency's."""
    return await _owned(ctx, ref, for_update=False)


async def webhook_for_update(ctx: WebhookAdmin, ref: str, request: Request) -> tuple[Webhook, Agency]:
    """The webhook in the path, the caller's agency's, locked, at the caller's If-Match version."""
    webhook, agency = await _owned(ctx, ref, for_update=True)
    check_version(request, webhook.version)
    return webhook, agency


OwnedWebhook = Annotated[tuple[Webhook, Agency], Depends(owned_webhook)]
WebhookForUpdate = Annotated[tuple[Webhook, Agency], Depends(webhook_for_update)]
