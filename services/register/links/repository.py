"""All SQL for links and their steps."""

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import NotFound
from services.register.links.models import Link, LinkStep
from services.register.models import Agency, Child, ExpressionOfInterest, Household, SiblingGroup
from services.register.vocabulary import ACTIVE_LINK_STATUSES, InterestStatus, LinkStatus

ChildAgency = aliased(Agency, name="child_agency")
HouseholdAgency = aliased(Agency, name="household_agency")


@dataclass(frozen=True)
class LinkRow:
    link: Link
    sibling_group_ref: str
    household_ref: str
    child_agency_ref: str
    household_agency_ref: str


@dataclass(frozen=True)
class StepRow:
    step: LinkStep
    by_agency_ref: str | None


def _rows():
    return (
        select(Link, SiblingGroup.ref, Household.ref, ChildAgency.ref, HouseholdAgency.ref)
        .join(SiblingGroup, Link.sibling_group_id == SiblingGroup.id)
        .join(Household, Link.household_id == Household.id)
        .join(ChildAgency, Link.child_agency_id == ChildAgency.id)
        .join(HouseholdAgency, Link.household_agency_id == HouseholdAgency.id)
    )


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> LinkRow:
    query = _rows().where(Link.ref == ref)
    if for_update:
        query = query.with_for_update(of=Link)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No link {ref}.")
    return LinkRow(*row)


async def list_links(
    session: AsyncSession,
    *,
    agency_ids: tuple[int, ...] | None,
    status: LinkStatus | None,
    sibling_group_ref: str | None,
    household_ref: str | None,
    after_id: int | None,
    limit: int,
) -> list[LinkRow]:
    """`agency_ids`: links where one of these is either side (None: every link)."""
    query = _rows()
    if agency_ids is not None:
        query = query.where(
            or_(
                SiblingGroup.la_id.in_(agency_ids),
                Link.child_agency_id.in_(agency_ids),
                Household.approving_agency_id.in_(agency_ids),
                Link.household_agency_id.in_(agency_ids),
            )
        )
    if status:
        query = query.where(Link.status == status)
    if sibling_group_ref:
        query = query.where(SiblingGroup.ref == sibling_group_ref)
    if household_ref:
        query = query.where(Household.ref == household_ref)
    if after_id is not None:
        query = query.where(Link.id > after_id)
    rows = await session.execute(query.order_by(Link.id).limit(limit))
    return [LinkRow(*row) for row in rows.all()]


async def steps(session: AsyncSession, link_id: int) -> list[StepRow]:
    rows = await session.execute(
        select(LinkStep, Agency.ref)
        .outerjoin(Agency, LinkStep.by_agency_id == Agency.id)
        .where(LinkStep.link_id == link_id)
        .order_by(LinkStep.id)
    )
    return [StepRow(step, agency_ref) for step, agency_ref in rows.all()]


async def active_link_of_group(session: AsyncSession, sibling_group_id: int) -> Link | None:
    return await session.scalar(
        select(Link).where(Link.sibling_group_id == sibling_group_id, Link.status.in_(ACTIVE_LINK_STATUSES))
    )


async def children_in_active_links(session: AsyncSession, household_id: int) -> int:
    """How many children the household's active links are for (the caller holds the
    household's row lock, so two requests cannot both see room for one more)."""
    count = await session.scalar(
        select(func.count(Child.id))
        .select_from(Link)
        .join(Child, Child.sibling_group_id == Link.sibling_group_id)
        .where(Link.household_id == household_id, Link.status.in_(ACTIVE_LINK_STATUSES))
    )
    return int(count or 0)


async def active_statuses_of_household(session: AsyncSession, household_id: int) -> list[LinkStatus]:
    return list(
        await session.scalars(
            select(Link.status).where(Link.household_id == household_id, Link.status.in_(ACTIVE_LINK_STATUSES))
        )
    )


async def open_interests_in_group(session: AsyncSession, sibling_group_id: int) -> list[ExpressionOfInterest]:
    return list(
        await session.scalars(
            select(ExpressionOfInterest)
            .where(
                ExpressionOfInterest.sibling_group_id == sibling_group_id,
                ExpressionOfInterest.status == InterestStatus.OPEN,
            )
            .with_for_update()
        )
    )


async def interest_for_pair(session: AsyncSession, ref: str) -> ExpressionOfInterest | None:
    return await session.scalar(select(ExpressionOfInterest).where(ExpressionOfInterest.ref == ref))


async def refused_pairs(session: AsyncSession) -> list[tuple[int, int]]:
    """(sibling group id, household id) of every refused link: never proposed again."""
    rows = await session.execute(
        select(Link.sibling_group_id, Link.household_id).where(Link.status == LinkStatus.REFUSED)
    )
    return [(g, h) for g, h in rows.all()]


async def latest_adopted(session: AsyncSession) -> LinkRow | None:
    row = (
        await session.execute(
            _rows().where(Link.status == LinkStatus.ADOPTED).order_by(Link.adoption_order_on.desc(), Link.id).limit(1)
        )
    ).one_or_none()
    return LinkRow(*row) if row else None
