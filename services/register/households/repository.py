"""All SQL for adopter households."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import InvalidInput, NotFound
from services.register.models import Agency, Household
from services.register.vocabulary import HouseholdStatus, Region


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> tuple[Household, Agency]:
    query = select(Household, Agency).join(Agency, Household.approving_agency_id == Agency.id)
    query = query.where(Household.ref == ref)
    if for_update:
        query = query.with_for_update(of=Household)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No household {ref}.")
    return row[0], row[1]


async def find(session: AsyncSession, ref: str, *, field: str) -> tuple[Household, Agency]:
    try:
        return await get(session, ref, for_update=True)
    except NotFound as exc:
        raise InvalidInput(
            f"{ref} is not a known household.",
            extra={"errors": [{"field": field, "message": "unknown household", "code": "unknown_reference"}]},
        ) from exc


async def list_households(
    session: AsyncSession,
    *,
    region: Region | None,
    agency_ref: str | None,
    status: HouseholdStatus | None,
    min_capacity: int | None,
    accepts_sibling_group: bool | None,
    child_age: int | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[Household, Agency]]:
    query = select(Household, Agency).join(Agency, Household.approving_agency_id == Agency.id)
    if region:
        query = query.where(Household.region == region)
    if agency_ref:
        query = query.where(Agency.ref == agency_ref)
    if status:
        query = query.where(Household.status == status)
    if min_capacity is not None:
        query = query.where(Household.approved_children >= min_capacity)
    if accepts_sibling_group is not None:
        query = query.where(Household.accepts_sibling_group.is_(accepts_sibling_group))
    if child_age is not None:
        query = query.where(Household.age_min_years <= child_age, Household.age_max_years >= child_age)
    if after_id is not None:
        query = query.where(Household.id > after_id)
    rows = await session.execute(query.order_by(Household.id).limit(limit))
    return [(h, a) for h, a in rows.all()]


async def get_by_id(session: AsyncSession, household_id: int, *, for_update: bool = False) -> Household:
    query = select(Household).where(Household.id == household_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one()
