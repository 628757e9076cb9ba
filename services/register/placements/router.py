"""HTTP for placements."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.http import Page, check_version, next_cursor, parse_cursor, set_etag
from services.register.children.dependencies import Today
from services.register.placements import repository, service
from services.register.placements.schemas import PlacementCreate, PlacementRead, PlacementUpdate

router = APIRouter(prefix="/v1/placements", tags=["placements"])

Reader = Annotated[RequestContext, requires(Scope.CHILDREN_READ)]
Writer = Annotated[RequestContext, requires(Scope.PLACEMENTS_WRITE)]


@router.get("", response_model=Page[PlacementRead])
async def list_placements(
    ctx: Reader,
    agency_ref: Annotated[str | None, Query(max_length=32)] = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PlacementRead]:
    after = parse_cursor(cursor, int)[0] if cursor else None
    rows = await repository.list_placements(
        ctx.session,
        agency_ref=agency_ref,
        placed_from=placed_from,
        placed_to=placed_to,
        after_id=after,
        limit=limit + 1,
    )
    cursor_after = next_cursor(rows, limit, lambda row: [row[0].id])
    return Page(items=[service.to_read(r) for r in rows[:limit]], next_cursor=cursor_after)


@router.get("/{ref}", response_model=PlacementRead)
async def get_placement(ctx: Reader, ref: str, response: Response) -> PlacementRead:
    placement = service.to_read(await repository.get(ctx.session, ref))
    set_etag(response, placement.version)
    return placement


@router.post("", response_model=PlacementRead, status_code=status.HTTP_201_CREATED)
async def create_placement(ctx: Writer, body: PlacementCreate, today: Today, response: Response) -> PlacementRead:
    """Place a matched sibling group, whole, with a matched household."""
    placement = await service.create(ctx, body, today)
    set_etag(response, placement.version)
    response.headers["Location"] = f"/v1/placements/{placement.ref}"
    return placement


@router.patch("/{ref}", response_model=PlacementRead)
async def record_adoption_order(
    ctx: Writer, ref: str, body: PlacementUpdate, today: Today, request: Request, response: Response
) -> PlacementRead:
    row = await repository.get(ctx.session, ref, for_update=True)
    check_version(request, row[0].version)
    placement = await service.record_adoption_order(ctx, row, body, today)
    set_etag(response, placement.version)
    return placement
