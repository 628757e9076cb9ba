"""All SQL for adopter-facing profiles: only groups in active family finding whose every
child's agency allows adopters to see the profile."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.database import DriverStatement, Queryable, driver_statement, fetch
from services.core.errors import NotFound
from services.register.ages import band_end, band_start, years_ago
from services.register.models import Child, SiblingGroup, need_column_name
from services.register.vocabulary import NEEDS, NeedLevel, Region, SiblingGroupStatus


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


@lru_cache(maxsize=256)
def _page_statement(shape: tuple[tuple[str, ...], tuple[str, ...]]) -> DriverStatement:
    """A page of visible groups with their children's PROFILE_COLUMNS, for one combination of
    filters: built and compiled once, run by the driver (`core.database.fetch`), the filters'
    values bound parameters. Rows: profile_ref, then PROFILE_COLUMNS, ordered by profile_ref
    then child."""
    present, needs = shape
    member = Child.sibling_group_id == SiblingGroup.id
    size = select(func.count()).where(member).scalar_subquery()
    conditions = {
        "region": lambda: exists().where(member, Child.region == bindparam("region", type_=Child.region.type)),
        "size": lambda: size == bindparam("size"),
        # Every child of the group in range, widened to whole age bands: adopters see bands,
        # never exact ages.
        "oldest_born": lambda: not_(exists().where(member, Child.date_of_birth > bindparam("oldest_born"))),
        "youngest_born": lambda: not_(exists().where(member, Child.date_of_birth <= bindparam("youngest_born"))),
        # The household's approval: how many children, every child's age, siblings at all.
        "fit_size": lambda: size <= bindparam("fit_size"),
        "fit_born": lambda: not_(
            exists().where(
                member,
                (Child.date_of_birth > bindparam("fit_born_after")) | (Child.date_of_birth <= bindparam("fit_born_by")),
            )
        ),
        "after_ref": lambda: SiblingGroup.profile_ref > bindparam("after_ref"),
    }
    groups = select(SiblingGroup.id, SiblingGroup.profile_ref).where(_visible())
    for name in present:
        groups = groups.where(conditions[name]())
    for i, need in enumerate(needs):
        groups = groups.where(
            not_(exists().where(member, getattr(Child, need_column_name(need)) > bindparam(f"need_{i}")))
        )
    page = groups.order_by(SiblingGroup.profile_ref).limit(bindparam("limit")).subquery("page")
    return driver_statement(
        select(page.c.profile_ref, *PROFILE_COLUMNS)
        .join_from(page, Child, Child.sibling_group_id == page.c.id)
        .order_by(page.c.profile_ref, Child.id)
    )


async def page(
    db: Queryable, filters: ProfileFilters, *, today: date, after_ref: str | None, limit: int
) -> list[tuple[str, list[Sequence[Any]]]]:
    """A page of visible groups, each as (profile_ref, its children's PROFILE_COLUMNS rows
    after the profile_ref): the groups and their children in one statement."""
    params: dict[str, object] = {"region": filters.region, "size": filters.sibling_group_size, "after_ref": after_ref}
    if filters.age_min_years is not None:
        params["oldest_born"] = years_ago(today, band_start(filters.age_min_years))
    if filters.age_max_years is not None:
        params["youngest_born"] = years_ago(today, band_end(filters.age_max_years) + 1)
    present = [name for name, value in params.items() if value is not None and value != ""]
    if (fit := filters.fit) is not None:
        params["fit_size"] = fit.approved_children if fit.accepts_sibling_group else 1
        params["fit_born_after"] = years_ago(today, fit.age_min_years)
        params["fit_born_by"] = years_ago(today, fit.age_max_years + 1)
        present += ["fit_size", "fit_born"]
    for i, (_, level) in enumerate(filters.needs_at_most):
        params[f"need_{i}"] = int(level)
    params["limit"] = limit
    shape = (tuple(present), tuple(need for need, _ in filters.needs_at_most))
    params = {name: value for name, value in params.items() if value is not None}
    groups: dict[str, list[Sequence[Any]]] = {}
    for row in await fetch(db, _page_statement(shape), params):
        groups.setdefault(row[0], []).append(row)
    return list(groups.items())


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


# What a profile shows of each child, or derives from: never a name, a date of birth beyond
# the age band, the birth family or the case notes.
PROFILE_COLUMNS = (
    Child.sibling_group_id,
    Child.region,
    Child.waiting_since,
    Child.contact_plan,
    Child.date_of_birth,
    Child.sex,
    Child.ethnicity,
    *(getattr(Child, need_column_name(need)) for need in NEEDS),
    Child.profile_text,
)
_CHILDREN_OF = (
    select(*PROFILE_COLUMNS)
    .where(Child.sibling_group_id.in_(bindparam("group_ids", expanding=True)))
    .order_by(Child.id)
)


async def children_of(session: AsyncSession, group_ids: list[int]) -> dict[int, list[Row[Any]]]:
    """PROFILE_COLUMNS of the groups' children, by group (one statement, built once)."""
    found: dict[int, list[Row[Any]]] = {gid: [] for gid in group_ids}
    if group_ids:
        for child in await session.execute(_CHILDREN_OF, {"group_ids": group_ids}):
            found[child.sibling_group_id].append(child)
    return found
