"""HTTP for placements (read only: a placement is recorded by its link's `placed` step,
`POST /v1/links/{ref}/place`)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import PlacementReader
from services.register.placements import repository, service
from services.register.placements.schemas import PlacementRead

router = APIRouter(prefix="/v1/placements", tags=["placements"], responses=ERROR_RESPONSES)


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
