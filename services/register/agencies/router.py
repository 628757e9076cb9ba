"""HTTP for agencies. Reference data: staff read it; the national register team changes it."""

from fastapi import APIRouter, Response, status

from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import AgencyAdmin, AgencyReader
from services.register.agencies import repository, service
from services.register.agencies.dependencies import AgencyForUpdate
from services.register.agencies.schemas import AgencyCreate, AgencyRead, AgencyUpdate
from services.register.vocabulary import AgencyKind, Region

router = APIRouter(prefix="/v1/agencies", tags=["agencies"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[AgencyRead])
async def list_agencies(
    ctx: AgencyReader, paging: PagingParams, kind: AgencyKind | None = None, region: Region | None = None
) -> Page[AgencyRead]:
    after = paging.after(str)
    rows = await repository.list_agencies(
        ctx.session, kind=kind, region=region, after_ref=after[0] if after else None, limit=paging.fetch
    )
    return paging.page(rows, key=lambda row: [row[0].ref], item=lambda row: service.to_read(*row))


@router.get("/{ref}", response_model=AgencyRead)
async def get_agency(ctx: AgencyReader, ref: str, response: Response) -> AgencyRead:
    agency, parent = await repository.get_with_parent_ref(ctx.session, ref)
    set_etag(response, agency.version)
    return service.to_read(agency, parent)


@router.post("", response_model=AgencyRead, status_code=status.HTTP_201_CREATED)
async def create_agency(ctx: AgencyAdmin, body: AgencyCreate, response: Response) -> AgencyRead:
    created = await service.create(ctx, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/agencies/{created.ref}"
    return created


@router.patch("/{ref}", response_model=AgencyRead)
async def update_agency(
    ctx: AgencyAdmin, loaded: AgencyForUpdate, body: AgencyUpdate, response: Response
) -> AgencyRead:
    agency, parent = loaded
    updated = await service.update(ctx, agency, parent, body)
    set_etag(response, updated.version)
    return updated
