"""All SQL for children and sibling groups."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Label

from services.core.errors import InvalidInput, NotFound
from services.register.ages import years_ago
from services.register.models import Agency, Child, Placement, SiblingGroup, need_column_name
from services.register.vocabulary import NeedLevel, Region, SiblingGroupStatus

LA = aliased(Agency, name="la")
RAA = aliased(Agency, name="raa")


@dataclass(frozen=True)
class ChildRow:
    child: Child
    group: SiblingGroup
    la_ref: str
    raa_ref: str
    group_size: int
    placed_on: date | None  # of the group's current placement: the day its wait ended


@dataclass(frozen=True)
class GroupRow:
    group: SiblingGroup
    la_ref: str
    raa_ref: str
    child_refs: list[str]


@dataclass(frozen=True)
class ChildFilters:
    region: Region | None = None
    la_ref: str | None = None
    raa_ref: str | None = None
    statuses: tuple[SiblingGroupStatus, ...] = (SiblingGroupStatus.WAITING,)
    age_min: int | None = None
    age_max: int | None = None
    min_days_waiting: int | None = None
    max_days_waiting: int | None = None
    sibling_group_size_min: int | None = None
    sibling_group_size_max: int | None = None
    needs_at_most: tuple[tuple[str, NeedLevel], ...] = ()


def _group_size() -> Label[int]:
    # Counted per row through the sibling_group_id index: cheap for a page of 50, unlike an
    # aggregate over the whole table.
    sibling = aliased(Child, name="sibling")
    return (
        select(func.count())
        .where(sibling.sibling_group_id == Child.sibling_group_id)
        .scalar_subquery()
        .label("group_size")
    )


def _child_rows() -> tuple[Select[Child, SiblingGroup, str, str, int, date | None], Label[int]]:
    size = _group_size()
    query = (
        select(Child, SiblingGroup, LA.ref, RAA.ref, size, Placement.placed_on)
        .join(SiblingGroup, Child.sibling_group_id == SiblingGroup.id)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .outerjoin(Placement, (Placement.sibling_group_id == SiblingGroup.id) & Placement.ended_on.is_(None))
    )
    return query, size


async def get_child(session: AsyncSession, ref: str, *, for_update: bool = False) -> ChildRow:
    query, _ = _child_rows()
    query = query.where(Child.ref == ref)
    if for_update:
        query = query.with_for_update(of=[Child, SiblingGroup])
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No child {ref}.")
    return ChildRow(*row)


async def list_children(
    session: AsyncSession, filters: ChildFilters, *, today: date, after: tuple[date, int] | None, limit: int
) -> list[ChildRow]:
    """Longest waiting first; the cursor is the last row's (waiting_since, id)."""
    query, size = _child_rows()
    if filters.region:
        query = query.where(Child.region == filters.region)
    if filters.la_ref:
        query = query.where(LA.ref == filters.la_ref)
    if filters.raa_ref:
        query = query.where(RAA.ref == filters.raa_ref)
    if filters.statuses:
        query = query.where(SiblingGroup.status.in_(filters.statuses))
    if filters.age_min is not None:
        query = query.where(Child.date_of_birth <= years_ago(today, filters.age_min))
    if filters.age_max is not None:
        query = query.where(Child.date_of_birth > years_ago(today, filters.age_max + 1))
    if filters.min_days_waiting is not None:
        query = query.where(Child.waiting_since <= today - timedelta(days=filters.min_days_waiting))
    if filters.max_days_waiting is not None:
        query = query.where(Child.waiting_since >= today - timedelta(days=filters.max_days_waiting))
    if filters.sibling_group_size_min is not None:
        query = query.where(size >= filters.sibling_group_size_min)
    if filters.sibling_group_size_max is not None:
        query = query.where(size <= filters.sibling_group_size_max)
    for need, level in filters.needs_at_most:
        query = query.where(getattr(Child, need_column_name(need)) <= int(level))
    if after is not None:
        query = query.where(tuple_(Child.waiting_since, Child.id) > tuple_(*after))
    rows = await session.execute(query.order_by(Child.waiting_since, Child.id).limit(limit))
    return [ChildRow(*row) for row in rows.all()]


async def get_group(session: AsyncSession, ref: str, *, for_update: bool = False) -> SiblingGroup:
    query = select(SiblingGroup).where(SiblingGroup.ref == ref)
    if for_update:
        query = query.with_for_update()
    group = await session.scalar(query)
    if group is None:
        raise NotFound(f"No sibling group {ref}.")
    return group


async def find_group(session: AsyncSession, ref: str, *, field: str) -> SiblingGroup:
    group = await session.scalar(select(SiblingGroup).where(SiblingGroup.ref == ref).with_for_update())
    if group is None:
        raise InvalidInput(
            f"{ref} is not a known sibling group.",
            extra={"errors": [{"field": field, "message": "unknown sibling group", "code": "unknown_reference"}]},
        )
    return group


async def group_agencies(session: AsyncSession, group: SiblingGroup) -> tuple[Agency, str]:
    la, raa_ref = (
        await session.execute(select(LA, RAA.ref).join(RAA, LA.parent_raa_id == RAA.id).where(LA.id == group.la_id))
    ).one()
    return la, raa_ref


async def child_refs(session: AsyncSession, group_id: int) -> list[str]:
    return list(await session.scalars(select(Child.ref).where(Child.sibling_group_id == group_id).order_by(Child.id)))


async def children_by_ref(session: AsyncSession, refs: list[str]) -> list[Child]:
    rows = list(await session.scalars(select(Child).where(Child.ref.in_(refs)).order_by(Child.id).with_for_update()))
    missing = sorted(set(refs) - {c.ref for c in rows})
    if missing:
        raise InvalidInput(
            f"Unknown children: {', '.join(missing)}.",
            extra={"errors": [{"field": "body.child_refs", "message": "unknown child", "code": "unknown_reference"}]},
        )
    return rows


async def list_groups(
    session: AsyncSession,
    *,
    status: SiblingGroupStatus | None,
    la_ref: str | None,
    raa_ref: str | None,
    after_id: int | None,
    limit: int,
) -> list[GroupRow]:
    refs = func.array_agg(aggregate_order_by(Child.ref, Child.id)).filter(Child.id.is_not(None))
    query = (
        select(SiblingGroup, LA.ref, RAA.ref, refs)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .outerjoin(Child, Child.sibling_group_id == SiblingGroup.id)
        .group_by(SiblingGroup.id, LA.ref, RAA.ref)
    )
    if status:
        query = query.where(SiblingGroup.status == status)
    if la_ref:
        query = query.where(LA.ref == la_ref)
    if raa_ref:
        query = query.where(RAA.ref == raa_ref)
    if after_id is not None:
        query = query.where(SiblingGroup.id > after_id)
    rows = await session.execute(query.order_by(SiblingGroup.id).limit(limit))
    return [GroupRow(g, la, raa, list(r or [])) for g, la, raa, r in rows.all()]


async def get_group_by_id(session: AsyncSession, group_id: int) -> SiblingGroup:
    return (await session.scalars(select(SiblingGroup).where(SiblingGroup.id == group_id).with_for_update())).one()


async def earliest_waiting_since(session: AsyncSession, group_id: int) -> date | None:
    return await session.scalar(select(func.min(Child.waiting_since)).where(Child.sibling_group_id == group_id))


async def la_ids_of_groups(session: AsyncSession, group_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(select(SiblingGroup.id, SiblingGroup.la_id).where(SiblingGroup.id.in_(group_ids)))
    return {int(group): int(la) for group, la in rows.all()}


async def group_size(session: AsyncSession, group_id: int) -> int:
    """How many children the group has (the unit placed together)."""
    return int(await session.scalar(select(func.count()).where(Child.sibling_group_id == group_id)) or 0)
