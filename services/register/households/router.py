"""HTTP for adopter households (staff views; adopters use /v1/households/me, see the OAuth work)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.http import Page, check_version, next_cursor, parse_cursor, set_etag
from services.register.households import repository, service
from services.register.households.schemas import HouseholdCreate, HouseholdRead, HouseholdSummary, HouseholdUpdate
from services.register.vocabulary import HouseholdStatus, Region

router = APIRouter(prefix="/v1/households", tags=["households"])

Reader = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_READ)]
Writer = Annotated[RequestContext, requires(Scope.HOUSEHOLDS_WRITE)]


@router.get("", response_model=Page[HouseholdSummary])
async def list_households(
    ctx: Reader,
    region: Region | None = None,
    approving_agency_ref: Annotated[str | None, Query(max_length=32)] = None,
    status: HouseholdStatus | None = None,
    min_capacity: Annotated[int | None, Query(ge=1, le=6)] = None,
    accepts_sibling_group: bool | None = None,
    child_age: Annotated[int | None, Query(ge=0, le=17, description="Approved for a child of this age")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[HouseholdSummary]:
    after = parse_cursor(cursor, int)[0] if cursor else None
    rows = await repository.list_households(
        ctx.session,
        region=region,
        agency_ref=approving_agency_ref,
        status=status,
        min_capacity=min_capacity,
        accepts_sibling_group=accepts_sibling_group,
        child_age=child_age,
        after_id=after,
        limit=limit + 1,
    )
    cursor_after = next_cursor(rows, limit, lambda row: [row[0].id])
    return Page(items=[service.to_summary(h, a) for h, a in rows[:limit]], next_cursor=cursor_after)


@router.get("/{ref}", response_model=HouseholdRead)
async def get_household(ctx: Reader, ref: str, response: Response) -> HouseholdRead:
    household, agency = await repository.get(ctx.session, ref)
    set_etag(response, household.version)
    return await service.read(ctx, household, agency)


@router.post("", response_model=HouseholdRead, status_code=status.HTTP_201_CREATED)
async def create_household(ctx: Writer, body: HouseholdCreate, response: Response) -> HouseholdRead:
    created = await service.create(ctx, body)
    set_etag(response, created.version)
    response.headers["Location"] = f"/v1/households/{created.ref}"
    return created


@router.patch("/{ref}", response_model=HouseholdRead)
async def update_household(
    ctx: Writer, ref: str, body: HouseholdUpdate, request: Request, response: Response
) -> HouseholdRead:
    household, agency = await repository.get(ctx.session, ref, for_update=True)
    check_version(request, household.version)
    updated = await service.update(ctx, household, agency, body)
    set_etag(response, updated.version)
    return updated
