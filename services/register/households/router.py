"""HTTP for adopter households (staff views; adopters use /v1/households/me, see the OAuth work)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, set_etag
from services.permissions import HouseholdReader, HouseholdWriter
from services.register.households import repository, service
from services.register.households.dependencies import HouseholdForUpdate
from services.register.households.schemas import HouseholdCreate, HouseholdRead, HouseholdSummary, HouseholdUpdate
from services.register.vocabulary import HouseholdStatus, Region

router = APIRouter(prefix="/v1/households", tags=["households"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[HouseholdSummary])
async def list_households(
    ctx: HouseholdReader,
    paging: PagingParams,
    region: Region | None = None,
    approving_agency_ref: Annotated[str | None, Query(max_length=32)] = None,
    status: HouseholdStatus | None = None,
    min_capacity: Annotated[int | None, Query(ge=1, le=6)] = None,
    accepts_sibling_group: bool | None = None,
    child_age: Annotated[int | None, Query(ge=0, le=17, description="Approved for a child of this age")] = None,
) -> Page[HouseholdSummary]:
    after = paging.after(int)
    rows = await repository.list_households(
        ctx.session,
        region=region,
        agency_ref=approving_agency_ref,
        status=status,
        min_capacity=min_capacity,
        accepts_sibling_group=accepts_sibling_group,
        child_age=child_age,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return paging.page(rows, key=lambda row: [row[0].id], item=lambda row: service.to_summary(*row))


@router.get("/{ref}", response_model=HouseholdRead)
async def get_household(ctx: HouseholdReader, ref: str, response: Response) -> HouseholdRead:
    household, agency = await repository.get(ctx.session, ref)
    set_etag(response, household.version)
    return await service.read(ctx, household, agency)


@router.post("", response_model=HouseholdRead, status_code=status.HTTP_201_CREATED)
async def create_household(ctx: HouseholdWriter, body: HouseholdCreate, response: Response) -> HouseholdRead:
    created = await service.create(ctx, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/households/{created.ref}"
    return created


@router.patch("/{ref}", response_model=HouseholdRead)
async def update_household(
    ctx: HouseholdWriter, loaded: HouseholdForUpdate, body: HouseholdUpdate, response: Response
) -> HouseholdRead:
    household, agency = loaded
    updated = await service.update(ctx, household, agency, body)
    set_etag(response, updated.version)
    return updated
