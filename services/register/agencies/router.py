"""HTTP for agencies. Reference data: readable with `agencies:read`, national team writes."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.http import Page, check_version, set_etag
from services.register.agencies import repository, service
from services.register.agencies.schemas import AgencyCreate, AgencyRead, AgencyUpdate
from services.register.vocabulary import AgencyKind, Region

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])

Reader = Annotated[RequestContext, requires(Scope.AGENCIES_READ)]
Writer = Annotated[RequestContext, requires(Scope.AGENCIES_WRITE)]


@router.get("", response_model=Page[AgencyRead])
async def list_agencies(
    ctx: Reader,
    kind: AgencyKind | None = None,
    region: Region | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Page[AgencyRead]:
    rows = await repository.list_agencies(ctx.session, kind=kind, region=region, after_ref=cursor, limit=limit + 1)
    items = [service.to_read(a, p) for a, p in rows[:limit]]
    return Page(items=items, next_cursor=items[-1].ref if len(rows) > limit else None)


@router.get("/{ref}", response_model=AgencyRead)
async def get_agency(ctx: Reader, ref: str, response: Response) -> AgencyRead:
    agency, parent = await repository.get_with_parent_ref(ctx.session, ref)
    set_etag(response, agency.version)
    return service.to_read(agency, parent)


@router.post("", response_model=AgencyRead, status_code=status.HTTP_201_CREATED)
async def create_agency(ctx: Writer, body: AgencyCreate, response: Response) -> AgencyRead:
    created = await service.create(ctx, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/agencies/{created.ref}"
    return created


@router.patch("/{ref}", response_model=AgencyRead)
async def update_agency(ctx: Writer, ref: str, body: AgencyUpdate, request: Request, response: Response) -> AgencyRead:
    agency, parent = await repository.get_with_parent_ref(ctx.session, ref)
    check_version(request, agency.version)
    updated = await service.update(ctx, agency, parent, body)
    set_etag(response, updated.version)
    return updated
