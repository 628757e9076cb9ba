"""HTTP for placements."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.core.clock import Today
from services.core.http import Page, PagingParams, set_etag
from services.permissions import PlacementReader, PlacementWriter
from services.register.placements import repository, service
from services.register.placements.dependencies import PlacementForUpdate
from services.register.placements.schemas import PlacementCreate, PlacementRead, PlacementUpdate

router = APIRouter(prefix="/v1/placements", tags=["placements"])


@router.get("", response_model=Page[PlacementRead])
async def list_placements(
    ctx: PlacementReader,
    paging: PagingParams,
    agency_ref: Annotated[str | None, Query(max_length=32)] = None,
    placed_from: date | None = None,
    placed_to: date | None = None,
) -> Page[PlacementRead]:
    after = paging.after(int)
    rows = await repository.list_placements(
        ctx.session,
        agency_ref=agency_ref,
        placed_from=placed_from,
        placed_to=placed_to,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return paging.page(rows, key=lambda row: [row.placement.id], item=service.to_read)


@router.get("/{ref}", response_model=PlacementRead)
async def get_placement(ctx: PlacementReader, ref: str, response: Response) -> PlacementRead:
    placement = service.to_read(await repository.get(ctx.session, ref))
    set_etag(response, placement.version)
    return placement


@router.post("", response_model=PlacementRead, status_code=status.HTTP_201_CREATED)
async def create_placement(
    ctx: PlacementWriter, body: PlacementCreate, today: Today, response: Response
) -> PlacementRead:
    """Place a matched sibling group, whole, with a matched household."""
    placement = await service.create(ctx, body, today)
    set_etag(response, placement.version)
    response.headers["Location"] = f"/v1/placements/{placement.ref}"
    return placement


@router.patch("/{ref}", response_model=PlacementRead)
async def record_adoption_order(
    ctx: PlacementWriter, row: PlacementForUpdate, body: PlacementUpdate, today: Today, response: Response
) -> PlacementRead:
    placement = await service.record_adoption_order(ctx, row, body, today)
    set_etag(response, placement.version)
    return placement
