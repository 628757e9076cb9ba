"""All SQL for adopter-facing profiles: only groups in active family finding whose every
child's agency allows adopters to see the profile."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import NotFound
from services.register.ages import band_end, band_start, years_ago
from services.register.models import Child, SiblingGroup, need_column_name
from services.register.vocabulary import NeedLevel, Region, SiblingGroupStatus


@dataclass(frozen=True)
class HouseholdFit:
    """What a household is approved for: the groups it `fits`."""

    approved_children: int
    age_min_years: int
    age_max_years: int
    accepts_sibling_group: bool


@dataclass(frozen=True)
class ProfileFilters:
    region: Region | None = None
    sibling_group_size: int | None = None
    age_min_years: int | None = None
    age_max_years: int | None = None
    needs_at_most: tuple[tuple[str, NeedLevel], ...] = ()
    fits: bool = False  # only groups the calling household's approval fits (`fit`)
    fit: HouseholdFit | None = None


def _visible():
    member = Child.sibling_group_id == SiblingGroup.id
    return and_(
        SiblingGroup.status == SiblingGroupStatus.WAITING,
        exists().where(member),
        not_(exists().where(member, Child.profile_visible_to_adopters.is_(False))),
    )


async def page(
    session: AsyncSession, filters: ProfileFilters, *, today: date, after_ref: str | None, limit: int
) -> list[SiblingGroup]:
    member = Child.sibling_group_id == SiblingGroup.id
    query = select(SiblingGroup).where(_visible())
    if filters.region:
        query = query.where(exists().where(member, Child.region == filters.region))
    if filters.sibling_group_size is not None:
        size = select(func.count()).where(member).scalar_subquery()
        query = query.where(size == filters.sibling_group_size)
    # Every child of the group in range, widened to whole age bands: adopters see bands,
    # never exact ages.
    if filters.age_min_years is not None:
        oldest_born = years_ago(today, band_start(filters.age_min_years))
        query = query.where(not_(exists().where(member, Child.date_of_birth > oldest_born)))
    if filters.age_max_years is not None:
        youngest_born = years_ago(today, band_end(filters.age_max_years) + 1)
        query = query.where(not_(exists().where(member, Child.date_of_birth <= youngest_born)))
    for need, level in filters.needs_at_most:
        query = query.where(not_(exists().where(member, getattr(Child, need_column_name(need)) > int(level))))
    if filters.fit is not None:
        # The household's approval: how many children, every child's age, siblings at all.
        fit = filters.fit
        size = select(func.count()).where(member).scalar_subquery()
        query = query.where(size <= (fit.approved_children if fit.accepts_sibling_group else 1))
        too_young = Child.date_of_birth > years_ago(today, fit.age_min_years)
        too_old = Child.date_of_birth <= years_ago(today, fit.age_max_years + 1)
        query = query.where(not_(exists().where(member, too_young | too_old)))
    if after_ref:
        query = query.where(SiblingGroup.profile_ref > after_ref)
    return list(await session.scalars(query.order_by(SiblingGroup.profile_ref).limit(limit)))


async def is_visible(session: AsyncSession, sibling_group_id: int) -> bool:
    """Whether adopters can see the group's profile (and so express interest in it)."""
    found = await session.scalar(select(SiblingGroup.id).where(SiblingGroup.id == sibling_group_id, _visible()))
    return found is not None


async def get_visible(session: AsyncSession, profile_ref: str, *, for_update: bool = False) -> SiblingGroup:
    query = select(SiblingGroup).where(SiblingGroup.profile_ref == profile_ref, _visible())
    if for_update:
        query = query.with_for_update()
    group = await session.scalar(query)
    if group is None:
        raise NotFound(f"No profile {profile_ref} is open to adopters.")
    return group


async def children_of(session: AsyncSession, group_ids: list[int]) -> dict[int, list[Child]]:
    rows = await session.scalars(select(Child).where(Child.sibling_group_id.in_(group_ids)).order_by(Child.id))
    found: dict[int, list[Child]] = {gid: [] for gid in group_ids}
    for child in rows:
        found[child.sibling_group_id].append(child)
    return found
