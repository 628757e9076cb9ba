"""HTTP for adopters: anonymised profiles, their own household, their interests.

Adopter tokens carry only `profiles:read` and `interests:write`, so these are the only
routes they can reach."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, expected_version, set_etag
from services.permissions import AdopterInterestWriter, AdopterReader, ProfileReader
from services.register.children.dependencies import NeedFilter, parse_need_filters
from services.register.households.schemas import HouseholdRead
from services.register.profiles import service
from services.register.profiles.repository import ProfileFilters
from services.register.profiles.schemas import InterestCreate, InterestRead, ProfileRead
from services.register.vocabulary import Region

router = APIRouter(tags=["adopters"], responses=ERROR_RESPONSES)


async def profile_filters(  # async: no I/O, so FastAPI calls it inline, not in its thread pool
    region: Region | None = None,
    sibling_group_size: Annotated[int | None, Query(ge=1, le=10)] = None,
    age_min_years: Annotated[int | None, Query(ge=0, le=17)] = None,
    age_max_years: Annotated[int | None, Query(ge=0, le=17)] = None,
    need: Annotated[list[NeedFilter], Query(max_length=8, description="`<need>:<level>`: at most that level")] = [],  # noqa: B006 - FastAPI copies a query default for each request
    fits: Annotated[
        bool, Query(description="Adopters: only the children your household's approval fits (number, ages, siblings)")
    ] = False,
) -> ProfileFilters:
    return ProfileFilters(
        region=region,
        sibling_group_size=sibling_group_size,
        age_min_years=age_min_years,
        age_max_years=age_max_years,
        needs_at_most=parse_need_filters(need),
        fits=fits,
    )


ProfileFilterParams = Annotated[ProfileFilters, Depends(profile_filters)]


@router.get("/v1/profiles", response_model=Page[ProfileRead])
async def list_profiles(
    ctx: ProfileReader, today: Today, filters: ProfileFilterParams, paging: PagingParams
) -> Response:
    """Anonymised profiles of children in active family finding whose agency allows it."""
    return await service.list_profiles(ctx, filters, paging, today)


@router.get("/v1/profiles/{ref}", response_model=ProfileRead)
async def get_profile(ctx: ProfileReader, ref: str, today: Today) -> ProfileRead:
    return await service.read_profile(ctx, ref, today)


@router.post("/v1/profiles/{ref}/interest", response_model=InterestRead, status_code=status.HTTP_201_CREATED)
async def express_interest(
    ctx: AdopterInterestWriter, ref: str, body: InterestCreate, request: Request, response: Response
) -> InterestRead:
    """Tell the child's agency your household is interested (capped per household)."""
    created = await service.express_interest(ctx, ref, body, request.app.state.settings.interests_open_max)
    set_etag(response, created.version)
    return created


@router.get("/v1/households/me", response_model=HouseholdRead)
async def my_household(ctx: AdopterReader, response: Response) -> HouseholdRead:
    """The adopter's own household, as their agency holds it."""
    household = await service.read_own_household(ctx)
    set_etag(response, household.version)
    return household


@router.get("/v1/households/me/interests", response_model=list[InterestRead])
async def my_interests(ctx: AdopterReader) -> list[InterestRead]:
    return await service.own_interests(ctx)


@router.post("/v1/households/me/interests/{ref}/withdraw", response_model=InterestRead)
async def withdraw_interest(ctx: AdopterInterestWriter, ref: str, request: Request, response: Response) -> InterestRead:
    withdrawn = await service.withdraw_interest(ctx, ref, expected_version(request))
    set_etag(response, withdrawn.version)
    return withdrawn
