"""HTTP for links: the journey from a request to the adoption order (`links:read`,
`links:write`). Each step needs If-Match with the link's ETag, and answers with the link."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import LinkReader, LinkWriter
from services.register.links import repository, service
from services.register.links.dependencies import LinkForUpdate
from services.register.links.schemas import DisruptionStep, LinkCreate, LinkRead, PanelStep, StepOn, StepWithReason
from services.register.vocabulary import LinkStatus

router = APIRouter(prefix="/v1/links", tags=["links"], responses=ERROR_RESPONSES)


async def _answer(ctx: LinkWriter, ref: str, response: Response) -> LinkRead:
    await ctx.session.flush()  # the version the ETag names is the one stored
    link = await service.to_read(ctx, await repository.get(ctx.session, ref))
    set_etag(response, link.version)
    return link


@router.post("", response_model=LinkRead, status_code=status.HTTP_201_CREATED)
async def request_link(ctx: LinkWriter, body: LinkCreate, today: Today, response: Response) -> LinkRead:
    """The child's agency asks the household's agency: from an answered expression of
    interest, or its own choice with a reason. Nothing else changes until they agree."""
    link = await service.create(ctx, body, today)
    set_etag(response, link.version)
    response.headers["Location"] = f"/v1/links/{link.ref}"
    return link


@router.get("", response_model=Page[LinkRead])
async def list_links(
    ctx: LinkReader,
    paging: PagingParams,
    agency_ref: Annotated[str | None, Query(max_length=32, description="National team: one agency's links")] = None,
    status_filter: Annotated[LinkStatus | None, Query(alias="status")] = None,
    sibling_group_ref: Annotated[str | None, Query(max_length=32)] = None,
    household_ref: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[LinkRead]:
    """Links where your agency is either side, oldest first."""
    after = paging.after(int)
    rows = await repository.list_links(
        ctx.session,
        agency_ids=await service.visible_agency_ids(ctx, agency_ref),
        status=status_filter,
        sibling_group_ref=sibling_group_ref,
        household_ref=household_ref,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    items = [await service.to_read(ctx, row) for row in rows[: paging.limit]]
    return Page(items=items, next_cursor=paging.next(rows, key=lambda row: [row.link.id]))


@router.get("/{ref}", response_model=LinkRead)
async def get_link(ctx: LinkReader, ref: str, response: Response) -> LinkRead:
    """The link and every step it has taken, with who recorded it."""
    link = await service.read(ctx, ref)
    set_etag(response, link.version)
    return link


@router.post("/{ref}/agree", response_model=LinkRead)
async def agree(ctx: LinkWriter, link: LinkForUpdate, body: StepOn, today: Today, response: Response) -> LinkRead:
    """The household's agency agrees: the children and the household become linked."""
    await service.agree(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/refuse", response_model=LinkRead)
async def refuse(
    ctx: LinkWriter, link: LinkForUpdate, body: StepWithReason, today: Today, response: Response
) -> LinkRead:
    """The household's agency says no, with a reason; the pair is not proposed again."""
    await service.refuse(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/panel", response_model=LinkRead)
async def panel(ctx: LinkWriter, link: LinkForUpdate, body: PanelStep, today: Today, response: Response) -> LinkRead:
    """The matching panel's date and recommendation (the child's agency)."""
    await service.panel(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/decide", response_model=LinkRead)
async def decide(ctx: LinkWriter, link: LinkForUpdate, body: StepOn, today: Today, response: Response) -> LinkRead:
    """The agency decision maker's match decision (the end of scorecard A2)."""
    await service.decide(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/place", response_model=LinkRead)
async def place(ctx: LinkWriter, link: LinkForUpdate, body: StepOn, today: Today, response: Response) -> LinkRead:
    """The children move in: records the placement (the only way to create one) and raises
    the interagency fees due between the link's agencies."""
    await service.place(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/adoption-order", response_model=LinkRead)
async def adoption_order(
    ctx: LinkWriter, link: LinkForUpdate, body: StepOn, today: Today, response: Response
) -> LinkRead:
    await service.record_adoption_order(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/withdraw", response_model=LinkRead)
async def withdraw(
    ctx: LinkWriter, link: LinkForUpdate, body: StepWithReason, today: Today, response: Response
) -> LinkRead:
    """Either agency stops the link before the placement: the children wait again."""
    await service.withdraw(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)


@router.post("/{ref}/disrupt", response_model=LinkRead)
async def disrupt(
    ctx: LinkWriter, link: LinkForUpdate, body: DisruptionStep, today: Today, response: Response
) -> LinkRead:
    """The placement ended before the adoption order (the child's agency)."""
    await service.disrupt(ctx, link, body, today)
    return await _answer(ctx, link.ref, response)
