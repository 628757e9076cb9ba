"""HTTP for adopters: anonymised profiles, their own household, their interests.

Adopter tokens carry only `profiles:read` and `interests:write`, so these are the only
routes they can reach."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import DEFAULT_PAGE_SIZE, Page, PageCursor, PageLimit, expected_version, paging_of, set_etag
from services.permissions import AdopterInterestWriter, AdopterReader, ProfileReader
from services.register.children.dependencies import NeedFilter, parse_need_filters
from services.register.households.schemas import HouseholdRead
from services.register.profiles import service
from services.register.profiles.repository import ProfileFilters
from services.register.profiles.schemas import InterestCreate, InterestRead, ProfileRead
from services.register.vocabulary import Region

router = APIRouter(tags=["adopters"], responses=ERROR_RESPONSES)


class ProfileListQuery(BaseModel):
    """The profile browse's filters and page as one query-parameter model (one dependency
    node, one validation), each field a query parameter documented as before."""

    region: Region | None = None
    sibling_group_size: Annotated[int | None, Field(ge=1, le=10)] = None
    age_min_years: Annotated[int | None, Field(ge=0, le=17)] = None
    age_max_years: Annotated[int | None, Field(ge=0, le=17)] = None
    need: Annotated[list[NeedFilter], Field(max_length=8, description="`<need>:<level>`: at most that level")] = []
    fits: Annotated[
        bool, Field(description="Adopters: only the children your household's approval fits (number, ages, siblings)")
    ] = False
    cursor: PageCursor = None
    limit: PageLimit = DEFAULT_PAGE_SIZE

    def filters(self) -> ProfileFilters:
        return ProfileFilters(
            region=self.region,
            sibling_group_size=self.sibling_group_size,
            age_min_years=self.age_min_years,
            age_max_years=self.age_max_years,
            needs_at_most=parse_need_filters(self.need),
            fits=self.fits,
        )


@router.get("/v1/profiles", response_model=Page[ProfileRead])
async def list_profiles(ctx: ProfileReader, today: Today, query: Annotated[ProfileListQuery, Query()]) -> Response:
    """Anonymised profiles of children in active family finding whose agency allows it."""
    return await service.list_profiles(ctx, query.filters(), paging_of(query), today)


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
