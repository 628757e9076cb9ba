"""All SQL for expressions of interest."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import NotFound
from services.register.models import Agency, ExpressionOfInterest, Household, SiblingGroup
from services.register.vocabulary import InterestStatus

ChildLA = aliased(Agency, name="child_la")
HouseholdAgency = aliased(Agency, name="household_agency")


async def open_for_household(session: AsyncSession, household_id: int) -> list[ExpressionOfInterest]:
    return list(
        await session.scalars(
            select(ExpressionOfInterest).where(
                ExpressionOfInterest.household_id == household_id, ExpressionOfInterest.status == InterestStatus.OPEN
            )
        )
    )


async def for_household(session: AsyncSession, household_id: int) -> list[tuple[ExpressionOfInterest, str]]:
    rows = await session.execute(
        select(ExpressionOfInterest, SiblingGroup.profile_ref)
        .join(SiblingGroup, ExpressionOfInterest.sibling_group_id == SiblingGroup.id)
        .where(ExpressionOfInterest.household_id == household_id)
        .order_by(ExpressionOfInterest.id.desc())
    )
    return [(e, p) for e, p in rows.all()]


async def get_for_household(session: AsyncSession, ref: str, household_id: int) -> tuple[ExpressionOfInterest, str]:
    row = (
        await session.execute(
            select(ExpressionOfInterest, SiblingGroup.profile_ref)
            .join(SiblingGroup, ExpressionOfInterest.sibling_group_id == SiblingGroup.id)
            .where(ExpressionOfInterest.ref == ref, ExpressionOfInterest.household_id == household_id)
            .with_for_update(of=ExpressionOfInterest)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"Your household has no expression of interest {ref}.")
    return row[0], row[1]


@dataclass(frozen=True)
class InterestStaffRow:
    """An expression of interest with what staff need to see and to decide who may answer."""

    interest: ExpressionOfInterest
    sibling_group_ref: str
    household_ref: str
    child_la_ref: str
    child_raa_id: int | None
    household_agency_ref: str
    household_raa_id: int | None


def _staff_rows():
    return (
        select(
            ExpressionOfInterest,
            SiblingGroup.ref,
            Household.ref,
            ChildLA.ref,
            ChildLA.parent_raa_id,
            HouseholdAgency.ref,
            HouseholdAgency.parent_raa_id,
        )
        .join(SiblingGroup, ExpressionOfInterest.sibling_group_id == SiblingGroup.id)
        .join(ChildLA, SiblingGroup.la_id == ChildLA.id)
        .join(Household, ExpressionOfInterest.household_id == Household.id)
        .join(HouseholdAgency, Household.approving_agency_id == HouseholdAgency.id)
    )


async def list_for_agency(
    session: AsyncSession, agency_id: int | None, *, status: InterestStatus | None, after_id: int | None, limit: int
) -> list[InterestStaffRow]:
    """Interests in the agency's children or made by its households; all for a national lead."""
    query = _staff_rows()
    if agency_id is not None:
        query = query.where(
            or_(
                ChildLA.id == agency_id,
                ChildLA.parent_raa_id == agency_id,
                HouseholdAgency.id == agency_id,
                HouseholdAgency.parent_raa_id == agency_id,
            )
        )
    if status:
        query = query.where(ExpressionOfInterest.status == status)
    if after_id is not None:
        query = query.where(ExpressionOfInterest.id > after_id)
    rows = await session.execute(query.order_by(ExpressionOfInterest.id).limit(limit))
    return [InterestStaffRow(*row) for row in rows.all()]


async def get_for_staff(session: AsyncSession, ref: str, *, for_update: bool = False) -> InterestStaffRow:
    query = _staff_rows().where(ExpressionOfInterest.ref == ref)
    if for_update:
        query = query.with_for_update(of=ExpressionOfInterest)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No expression of interest {ref}.")
    return InterestStaffRow(*row)
