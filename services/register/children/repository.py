"""All SQL for children and sibling groups."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Label

from services.core.audit import AuditEvent
from services.core.database import DriverStatement, Queryable, driver_statement, fetch
from services.core.errors import InvalidInput, NotFound
from services.register.ages import years_ago
from services.register.models import Agency, Child, Placement, SiblingGroup, need_column_name
from services.register.vocabulary import NEEDS, NeedLevel, Region, SiblingGroupStatus

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


SIBLING = aliased(Child, name="sibling")


@lru_cache(maxsize=1)
def _group_size() -> Label[int]:
    # Counted per row through the sibling_group_id index: cheap for a page of 50, unlike an
    # aggregate over the whole table.
    return (
        select(func.count())
        .where(SIBLING.sibling_group_id == Child.sibling_group_id)
        .scalar_subquery()
        .label("group_size")
    )


def _child_rows() -> Select[Child, SiblingGroup, str, str, int, date | None]:
    return (
        select(Child, SiblingGroup, LA.ref, RAA.ref, _group_size(), Placement.placed_on)
        .join(SiblingGroup, Child.sibling_group_id == SiblingGroup.id)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .outerjoin(Placement, (Placement.sibling_group_id == SiblingGroup.id) & Placement.ended_on.is_(None))
    )


@lru_cache(maxsize=2)
def _one_child(for_update: bool) -> Select[Child, SiblingGroup, str, str, int, date | None]:
    """Built once (per locking mode) and reused, the ref a bound parameter."""
    query = _child_rows().where(Child.ref == bindparam("ref"))
    return query.with_for_update(of=[Child, SiblingGroup]) if for_update else query


async def get_child(session: AsyncSession, ref: str, *, for_update: bool = False) -> ChildRow:
    row = (await session.execute(_one_child(for_update), {"ref": ref})).one_or_none()
    if row is None:
        raise NotFound(f"No child {ref}.")
    return ChildRow(*row)


# What a family finder's list row shows, and nothing else: no name, no date of birth leaves
# the database for a summary except to compute the age (no birth family, no notes).
SUMMARY_COLUMNS = (
    Child.id,
    Child.ref,
    SiblingGroup.ref.label("group_ref"),
    SiblingGroup.status,
    LA.ref.label("la_ref"),
    RAA.ref.label("raa_ref"),
    Placement.placed_on,
    Child.region,
    Child.date_of_birth,
    Child.sex,
    Child.ethnicity,
    *(getattr(Child, need_column_name(need)) for need in NEEDS),
    Child.waiting_since,
    Child.profile_visible_to_adopters,
)


@lru_cache(maxsize=256)
def _list_statement(shape: tuple[tuple[str, ...], tuple[str, ...], bool, int]) -> DriverStatement:
    """The list query for one combination of filters, built and compiled once, run by the
    driver (`core.database.fetch`); the filters' values are bound parameters. The statuses
    are one parameter each (`IN ($1, $2)`, as many as asked): with `= ANY(array)` PostgreSQL's
    generic plan of the prepared statement took 7 ms instead of 1 ms for the default list."""
    present, needs, paged, n_statuses = shape
    size = _group_size()
    query = (
        select(*SUMMARY_COLUMNS, size)
        .join(SiblingGroup, Child.sibling_group_id == SiblingGroup.id)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .outerjoin(Placement, (Placement.sibling_group_id == SiblingGroup.id) & Placement.ended_on.is_(None))
    )
    conditions = {
        "region": lambda: Child.region == bindparam("region", type_=Child.region.type),
        "la_ref": lambda: LA.ref == bindparam("la_ref"),
        "raa_ref": lambda: RAA.ref == bindparam("raa_ref"),
        "statuses": lambda: SiblingGroup.status.in_(
            [bindparam(f"status_{i}", type_=SiblingGroup.status.type) for i in range(n_statuses)]
        ),
        "born_by": lambda: Child.date_of_birth <= bindparam("born_by"),
        "born_after": lambda: Child.date_of_birth > bindparam("born_after"),
        "waiting_by": lambda: Child.waiting_since <= bindparam("waiting_by"),
        "waiting_from": lambda: Child.waiting_since >= bindparam("waiting_from"),
        "size_min": lambda: size >= bindparam("size_min"),
        "size_max": lambda: size <= bindparam("size_max"),
    }
    for name in present:
        query = query.where(conditions[name]())
    for i, need in enumerate(needs):
        query = query.where(getattr(Child, need_column_name(need)) <= bindparam(f"need_{i}"))
    if paged:
        query = query.where(
            tuple_(Child.waiting_since, Child.id) > tuple_(bindparam("after_since"), bindparam("after_id"))
        )
    return driver_statement(query.order_by(Child.waiting_since, Child.id).limit(bindparam("limit")))


# The full record's further columns, after SUMMARY_COLUMNS and group_size.
RECORD_COLUMNS = (
    Child.first_name,
    Child.surname,
    Child.religion,
    Child.languages,
    Child.latitude,
    Child.longitude,
    Child.entered_care_on,
    Child.placement_order_on,
    Child.should_be_placed_on,
    Child.contact_plan,
    Child.contact_notes,
    Child.birth_family_latitude,
    Child.birth_family_longitude,
    Child.excluded_regions,
    Child.min_distance_km,
    Child.profile_text,
    Child.version,
)


@lru_cache(maxsize=1)
def _record_with_audit() -> DriverStatement:
    """One child's full record and its audit row in ONE statement (compiled once): the INSERT
    is a data-modifying CTE fed by the read, so it writes exactly one row when the child
    exists and none when it does not, in the request's transaction."""
    record = (
        select(*SUMMARY_COLUMNS, _group_size(), *RECORD_COLUMNS)
        .join(SiblingGroup, Child.sibling_group_id == SiblingGroup.id)
        .join(LA, SiblingGroup.la_id == LA.id)
        .join(RAA, LA.parent_raa_id == RAA.id)
        .outerjoin(Placement, (Placement.sibling_group_id == SiblingGroup.id) & Placement.ended_on.is_(None))
        .where(Child.ref == bindparam("ref"))
        .cte("record")
    )
    audit = insert(AuditEvent).from_select(
        ["principal", "action", "resource_type", "resource_ref", "request_id", "route"],
        select(
            bindparam("principal"),
            bindparam("action"),
            bindparam("resource_type"),
            record.c.ref,
            bindparam("request_id"),
            bindparam("route"),
        ),
    )
    return driver_statement(select(record).add_cte(audit.cte("audit")))


async def read_record_audited(db: Queryable, ref: str, audit: dict[str, str]) -> Any:
    """SUMMARY_COLUMNS, group_size, then RECORD_COLUMNS of one child, with the audit event
    (`audit`: principal, action, resource_type, request_id, route) inserted by the same
    round trip. NotFound, and nothing written, when there is no such child."""
    rows = await fetch(db, _record_with_audit(), {"ref": ref, **audit})
    if not rows:
        raise NotFound(f"No child {ref}.")
    return rows[0]


async def list_children(
    db: Queryable, filters: ChildFilters, *, today: date, after: tuple[date, int] | None, limit: int
) -> list[Any]:
    """Longest waiting first; the cursor is the last row's (waiting_since, id). Rows carry
    SUMMARY_COLUMNS and group_size."""
    values: dict[str, object] = {
        "region": filters.region,
        "la_ref": filters.la_ref,
        "raa_ref": filters.raa_ref,
        "statuses": filters.statuses or None,
        "born_by": years_ago(today, filters.age_min) if filters.age_min is not None else None,
        "born_after": years_ago(today, filters.age_max + 1) if filters.age_max is not None else None,
        "waiting_by": today - timedelta(days=filters.min_days_waiting)
        if filters.min_days_waiting is not None
        else None,
        "waiting_from": today - timedelta(days=filters.max_days_waiting)
        if filters.max_days_waiting is not None
        else None,
        "size_min": filters.sibling_group_size_min,
        "size_max": filters.sibling_group_size_max,
    }
    params = {name: value for name, value in values.items() if value is not None and value != ""}
    shape = (
        tuple(params),
        tuple(need for need, _ in filters.needs_at_most),
        after is not None,
        len(filters.statuses),
    )
    for i, status in enumerate(filters.statuses):
        params[f"status_{i}"] = status
    for i, (_, level) in enumerate(filters.needs_at_most):
        params[f"need_{i}"] = int(level)
    if after is not None:
        params["after_since"], params["after_id"] = after
    params["limit"] = limit
    return await fetch(db, _list_statement(shape), params)


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
