"""HTTP for adopters: anonymised profiles, their own household, their interests.

Adopter tokens carry only `profiles:read` and `interests:write`, so these are the only
routes they can reach."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.core.audit import AuditAction
from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.http import Page, expected_version, next_cursor, parse_cursor, set_etag
from services.register.children.dependencies import NeedFilter, Today, parse_need_filters
from services.register.households.schemas import HouseholdRead
from services.register.households.service import to_read as household_read
from services.register.interests import repository as interests
from services.register.profiles import repository, service
from services.register.profiles.repository import ProfileFilters
from services.register.profiles.schemas import InterestCreate, InterestRead, ProfileRead
from services.register.vocabulary import Region

router = APIRouter(tags=["adopters"])

ProfileReader = Annotated[RequestContext, requires(Scope.PROFILES_READ)]
InterestWriter = Annotated[RequestContext, requires(Scope.INTERESTS_WRITE)]


def profile_filters(
    region: Region | None = None,
    sibling_group_size: Annotated[int | None, Query(ge=1, le=10)] = None,
    age_min_years: Annotated[int | None, Query(ge=0, le=17)] = None,
    age_max_years: Annotated[int | None, Query(ge=0, le=17)] = None,
    need: Annotated[list[NeedFilter], Query(max_length=8, description="`<need>:<level>`: at most that level")] = [],  # noqa: B006 - FastAPI copies a query default for each request
) -> ProfileFilters:
    return ProfileFilters(
        region=region,
        sibling_group_size=sibling_group_size,
        age_min_years=age_min_years,
        age_max_years=age_max_years,
        needs_at_most=parse_need_filters(need),
    )


@router.get("/v1/profiles", response_model=Page[ProfileRead])
async def list_profiles(
    ctx: ProfileReader,
    today: Today,
    filters: Annotated[ProfileFilters, Depends(profile_filters)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[ProfileRead]:
    """Anonymised profiles of children in active family finding whose agency allows it."""
    after = parse_cursor(cursor, str)[0] if cursor else None
    groups = await repository.page(ctx.session, filters, today=today, after_ref=after, limit=limit + 1)
    shown = groups[:limit]
    children = await repository.children_of(ctx.session, [g.id for g in shown])
    cursor_after = next_cursor(groups, limit, lambda group: [group.profile_ref])
    return Page(items=[service.to_profile(g, children[g.id], today) for g in shown], next_cursor=cursor_after)


@router.get("/v1/profiles/{ref}", response_model=ProfileRead)
async def get_profile(ctx: ProfileReader, ref: str, today: Today) -> ProfileRead:
    group = await repository.get_visible(ctx.session, ref)
    children = await repository.children_of(ctx.session, [group.id])
    ctx.audit(AuditAction.READ, "profile", ref)
    return service.to_profile(group, children[group.id], today)


@router.post("/v1/profiles/{ref}/interest", response_model=InterestRead, status_code=status.HTTP_201_CREATED)
async def express_interest(
    ctx: InterestWriter, ref: str, body: InterestCreate, request: Request, response: Response
) -> InterestRead:
    """Tell the child's agency your household is interested (capped per household)."""
    created = await service.express_interest(ctx, ref, body, request.app.state.settings.interests_open_max)
    set_etag(response, created.version)
    return created


@router.get("/v1/households/me", response_model=HouseholdRead)
async def my_household(ctx: ProfileReader, response: Response) -> HouseholdRead:
    """The adopter's own household, as their agency holds it."""
    household, agency = await service.own_household(ctx)
    set_etag(response, household.version)
    return household_read(household, agency)


@router.get("/v1/households/me/interests", response_model=list[InterestRead])
async def my_interests(ctx: ProfileReader) -> list[InterestRead]:
    household, _ = await service.own_household(ctx)
    rows = await interests.for_household(ctx.session, household.id)
    return [service.to_interest(eoi, profile_ref) for eoi, profile_ref in rows]


@router.post("/v1/households/me/interests/{ref}/withdraw", response_model=InterestRead)
async def withdraw_interest(ctx: InterestWriter, ref: str, request: Request, response: Response) -> InterestRead:
    withdrawn = await service.withdraw_interest(ctx, ref, expected_version(request))
    set_etag(response, withdrawn.version)
    return withdrawn
