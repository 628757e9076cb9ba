"""Business rules for children and sibling groups.

- A child always belongs to one sibling group (a single child is a group of one); the
  group is the unit of matching and carries the status, so siblings move together.
- Children move between groups only while every group involved is waiting: once linked,
  matched or placed, separating siblings is refused (`SiblingGroupSplit`).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import func

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput
from services.core.refs import new_ref
from services.register.access import ensure_may_write_for
from services.register.agencies import repository as agencies
from services.register.ages import age_in_years
from services.register.audit.resources import AuditResource
from services.register.children import repository
from services.register.children.repository import ChildRow, GroupRow
from services.register.children.schemas import (
    ChildCreate,
    ChildRead,
    ChildSummary,
    ChildUpdate,
    SiblingGroupCreate,
    SiblingGroupRead,
    SiblingGroupUpdate,
)
from services.register.errors import IllegalTransition, SiblingGroupSplit
from services.register.interests import service as interests
from services.register.lifecycle import SIBLING_GROUP_DIRECT, SIBLING_GROUP_TRANSITIONS, check_transition
from services.register.links import repository as links
from services.register.models import Child, SiblingGroup
from services.register.needs import Needs, contact_label, contact_level
from services.register.profiles import repository as profiles
from services.register.vocabulary import NEEDS, AgencyKind, ContactPlan, NeedLevel, SiblingGroupStatus

# About 1 km: a child's stored location is never more precise than this.
LOCATION_DECIMALS = 2
MAX_AGE_YEARS = 18


def new_sibling_group(la_id: int) -> SiblingGroup:
    return SiblingGroup(ref=new_ref("G"), profile_ref=new_ref("PR"), la_id=la_id)


def check_dates(
    *,
    date_of_birth: date,
    entered_care_on: date,
    placement_order_on: date | None,
    should_be_placed_on: date | None,
    today: date,
) -> None:
    problems = []
    if date_of_birth > today:
        problems.append(("date_of_birth", "is in the future"))
    if age_in_years(date_of_birth, today) >= MAX_AGE_YEARS:
        problems.append(("date_of_birth", "the child is 18 or over"))
    if entered_care_on < date_of_birth:
        problems.append(("entered_care_on", "is before the date of birth"))
    if entered_care_on > today:
        problems.append(("entered_care_on", "is in the future"))
    if placement_order_on is None and should_be_placed_on is None:
        problems.append(("placement_order_on", "a placement order or a 'should be placed' decision is required"))
    for name, value in (("placement_order_on", placement_order_on), ("should_be_placed_on", should_be_placed_on)):
        if value is not None and value > today:
            problems.append((name, "is in the future"))
        if value is not None and value < date_of_birth:
            problems.append((name, "is before the date of birth"))
    if problems:
        raise InvalidInput(
            "Some dates are not consistent.",
            extra={"errors": [{"field": f"body.{f}", "message": m, "code": "inconsistent_date"} for f, m in problems]},
        )


def to_summary(row: ChildRow, today: date) -> ChildSummary:
    c = row.child
    return ChildSummary(
        ref=c.ref,
        sibling_group_ref=row.group.ref,
        sibling_group_size=row.group_size,
        status=row.group.status,
        la_ref=row.la_ref,
        raa_ref=row.raa_ref,
        region=c.region,
        age_years=age_in_years(c.date_of_birth, today),
        sex=c.sex,
        ethnicity=c.ethnicity,
        needs=Needs.from_levels(c.needs()),
        waiting_since=c.waiting_since,
        days_waiting=((row.placed_on if row.placed_on is not None else today) - c.waiting_since).days,
        profile_visible_to_adopters=c.profile_visible_to_adopters,
    )


NEED_LABELS = tuple(level.label for level in NeedLevel)
NEED_NAMES = tuple(need.value for need in NEEDS)
N_NEEDS = len(NEEDS)


def summary_item(row: Sequence[Any], today: date) -> dict[str, Any]:
    """A list row (`repository.SUMMARY_COLUMNS`, then group_size) as ChildSummary's fields,
    without a model. Unpacked by position: a Row's attribute lookups were a third of this."""
    _, ref, group_ref, status, la_ref, raa_ref, placed_on, region, born, sex, ethnicity, *rest = row
    needs, (since, visible, size) = rest[:N_NEEDS], rest[N_NEEDS:]
    return {
        "ref": ref,
        "sibling_group_ref": group_ref,
        "sibling_group_size": size,
        "status": status,
        "la_ref": la_ref,
        "raa_ref": raa_ref,
        "region": region,
        "age_years": today.year - born.year - ((today.month, today.day) < (born.month, born.day)),
        "sex": sex,
        "ethnicity": ethnicity,
        "needs": {need: NEED_LABELS[level] for need, level in zip(NEED_NAMES, needs, strict=True)},
        "waiting_since": since,
        "days_waiting": ((placed_on if placed_on is not None else today) - since).days,
        "profile_visible_to_adopters": visible,
    }


def to_read(row: ChildRow, today: date) -> ChildRead:
    c = row.child
    return ChildRead(
        **to_summary(row, today).model_dump(),
        first_name=c.first_name,
        surname=c.surname,
        date_of_birth=c.date_of_birth,
        religion=c.religion,
        languages=c.languages,
        latitude=c.latitude,
        longitude=c.longitude,
        entered_care_on=c.entered_care_on,
        placement_order_on=c.placement_order_on,
        should_be_placed_on=c.should_be_placed_on,
        contact_plan=contact_label(c.contact_plan),
        contact_notes=c.contact_notes,
        birth_family_latitude=c.birth_family_latitude,
        birth_family_longitude=c.birth_family_longitude,
        excluded_regions=c.excluded_regions,
        min_distance_km=c.min_distance_km,
        profile_text=c.profile_text,
        version=c.version,
    )


def _apply(child: Child, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if field == "needs":
            child.set_needs(Needs.model_validate(value).levels())
        elif field == "contact_plan":
            child.contact_plan = contact_level(value)
        elif field in ("latitude", "longitude", "birth_family_latitude", "birth_family_longitude"):
            setattr(child, field, None if value is None else round(value, LOCATION_DECIMALS))
        else:
            setattr(child, field, value)


N_SUMMARY = len(repository.SUMMARY_COLUMNS) + 1  # and group_size
DATE_OF_BIRTH = 8  # its place in SUMMARY_COLUMNS (summary_item unpacks it as `born`)
CONTACT_LABELS = tuple(contact_label(level) for level in ContactPlan)


async def read_child(ctx: RequestContext, ref: str, today: date) -> dict[str, Any]:
    """ChildRead's fields as plain values. The audit event is written by the read's own
    statement (one round trip, committed with the request's transaction before the
    response), and only when the child exists."""
    audit = {
        "principal": ctx.principal.audit_name,
        "action": AuditAction.READ.value,
        "resource_type": AuditResource.CHILD.value,
        "request_id": ctx.request_id,
        "route": ctx.route,
    }
    async with ctx.connection() as connection:
        row = cast(tuple[Any, ...], await repository.read_record_audited(connection, ref, audit))
    item = summary_item(row[:N_SUMMARY], today)
    (
        item["first_name"],
        item["surname"],
        item["religion"],
        item["languages"],
        item["latitude"],
        item["longitude"],
        item["entered_care_on"],
        item["placement_order_on"],
        item["should_be_placed_on"],
        contact_plan,
        item["contact_notes"],
        item["birth_family_latitude"],
        item["birth_family_longitude"],
        item["excluded_regions"],
        item["min_distance_km"],
        item["profile_text"],
        item["version"],
    ) = row[N_SUMMARY:]
    item["date_of_birth"] = row[DATE_OF_BIRTH]
    item["contact_plan"] = CONTACT_LABELS[contact_plan]
    return item


async def create_child(ctx: RequestContext, body: ChildCreate, today: date) -> ChildRead:
    check_dates(
        date_of_birth=body.date_of_birth,
        entered_care_on=body.entered_care_on,
        placement_order_on=body.placement_order_on,
        should_be_placed_on=body.should_be_placed_on,
        today=today,
    )
    if body.sibling_group_ref is not None:
        group = await repository.find_group(ctx.session, body.sibling_group_ref, field="body.sibling_group_ref")
        la, raa_ref = await repository.group_agencies(ctx.session, group)
        ensure_may_write_for(ctx.principal, la, raa_ref)
        if group.status is not SiblingGroupStatus.WAITING:
            raise Conflict("A child can join a sibling group only while the group is waiting.")
        _touch(group)
    else:
        assert body.la_ref is not None  # the schema requires one of the two
        la = await agencies.find(ctx.session, body.la_ref, field="body.la_ref", kinds=(AgencyKind.LA,))
        _, parent_ref = await agencies.get_with_parent_ref(ctx.session, la.ref)
        ensure_may_write_for(ctx.principal, la, parent_ref)
        group = new_sibling_group(la.id)
        ctx.session.add(group)
        await ctx.session.flush()
        ctx.audit(AuditAction.CREATE, AuditResource.SIBLING_GROUP, group.ref)
    child = Child(ref=new_ref("C"), sibling_group_id=group.id, first_name=body.first_name, surname=body.surname)
    _apply(child, body.model_dump(exclude={"first_name", "surname", "la_ref", "sibling_group_ref"}))
    ctx.session.add(child)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.CHILD, child.ref)
    return to_read(await repository.get_child(ctx.session, child.ref), today)


REQUIRED_ON_UPDATE = {
    "first_name",
    "surname",
    "date_of_birth",
    "sex",
    "ethnicity",
    "religion",
    "languages",
    "region",
    "latitude",
    "longitude",
    "entered_care_on",
    "needs",
    "contact_plan",
    "contact_notes",
    "excluded_regions",
    "min_distance_km",
    "profile_text",
    "profile_visible_to_adopters",
    "sibling_group_ref",
}


async def update_child(ctx: RequestContext, row: ChildRow, body: ChildUpdate, today: date) -> ChildRead:
    la, raa_ref = await repository.group_agencies(ctx.session, row.group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(f for f in REQUIRED_ON_UPDATE if f in changes and changes[f] is None)
    if nulls:
        raise InvalidInput(
            "These fields cannot be cleared.",
            extra={
                "errors": [
                    {"field": f"body.{f}", "message": "may not be null", "code": "null_not_allowed"} for f in nulls
                ]
            },
        )
    child = row.child
    target_ref = changes.pop("sibling_group_ref", None)
    _apply(child, changes)
    check_dates(
        date_of_birth=child.date_of_birth,
        entered_care_on=child.entered_care_on,
        placement_order_on=child.placement_order_on,
        should_be_placed_on=child.should_be_placed_on,
        today=today,
    )
    touched = [row.group]
    if target_ref is not None and target_ref != row.group.ref:
        target = await repository.find_group(ctx.session, target_ref, field="body.sibling_group_ref")
        await _move_children(ctx, [child], target, {row.group.id: row.group})
        touched.append(target)
    await ctx.session.flush()
    for group in touched:
        await close_interests_if_hidden(ctx, group)
    ctx.audit(AuditAction.UPDATE, AuditResource.CHILD, child.ref)
    return to_read(await repository.get_child(ctx.session, child.ref), today)


async def close_interests_if_hidden(ctx: RequestContext, group: SiblingGroup) -> None:
    """A group adopters can no longer see (a child's profile hidden, the group emptied) has
    left the register for them: their open interests in it close (`left_register`)."""
    if not await profiles.is_visible(ctx.session, group.id):
        await interests.close_open_interests(
            ctx, await links.open_interests_in_group(ctx.session, group.id), linked_household_id=None
        )


def _touch(group: SiblingGroup) -> None:
    # Its membership changed: a new version, so a stale ETag on the group is detected.
    group.updated_at = func.now()


async def _move_children(
    ctx: RequestContext, children: list[Child], target: SiblingGroup, sources: dict[int, SiblingGroup]
) -> None:
    groups = [target, *sources.values()]
    not_waiting = sorted({g.ref for g in groups if g.status is not SiblingGroupStatus.WAITING})
    if not_waiting:
        raise SiblingGroupSplit(
            "Children can change sibling group only while every group involved is waiting; "
            f"not waiting: {', '.join(not_waiting)}.",
            extra={"sibling_group_refs": not_waiting},
        )
    if any(g.la_id != target.la_id for g in groups):
        raise InvalidInput("Siblings in one group must have the same responsible local authority.")
    for child in children:
        child.sibling_group_id = target.id
    _touch(target)
    await ctx.session.flush()
    for source in sources.values():
        if source.id == target.id:
            continue
        _touch(source)
        if not await repository.child_refs(ctx.session, source.id):
            source.status = SiblingGroupStatus.WITHDRAWN  # an empty group is never matched
        ctx.audit(AuditAction.UPDATE, AuditResource.SIBLING_GROUP, source.ref)


def group_row_read(row: GroupRow) -> SiblingGroupRead:
    g = row.group
    return SiblingGroupRead(
        ref=g.ref,
        status=g.status,
        la_ref=row.la_ref,
        raa_ref=row.raa_ref,
        child_refs=row.child_refs,
        size=len(row.child_refs),
        version=g.version,
    )


async def group_read(ctx: RequestContext, group: SiblingGroup) -> SiblingGroupRead:
    la, raa_ref = await repository.group_agencies(ctx.session, group)
    refs = await repository.child_refs(ctx.session, group.id)
    return SiblingGroupRead(
        ref=group.ref,
        status=group.status,
        la_ref=la.ref,
        raa_ref=raa_ref,
        child_refs=refs,
        size=len(refs),
        version=group.version,
    )


async def create_group(ctx: RequestContext, body: SiblingGroupCreate) -> SiblingGroupRead:
    if len(set(body.child_refs)) != len(body.child_refs):
        raise InvalidInput("A child is listed twice.")
    children = await repository.children_by_ref(ctx.session, body.child_refs)
    sources: dict[int, SiblingGroup] = {}
    for child in children:
        if child.sibling_group_id not in sources:
            sources[child.sibling_group_id] = await repository.get_group_by_id(ctx.session, child.sibling_group_id)
    first = next(iter(sources.values()))
    la, raa_ref = await repository.group_agencies(ctx.session, first)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    group = new_sibling_group(first.la_id)
    ctx.session.add(group)
    await ctx.session.flush()
    await _move_children(ctx, children, group, sources)
    for source in sources.values():
        await close_interests_if_hidden(ctx, source)
    ctx.audit(AuditAction.CREATE, AuditResource.SIBLING_GROUP, group.ref)
    return await group_read(ctx, group)


async def update_group(ctx: RequestContext, group: SiblingGroup, body: SiblingGroupUpdate) -> SiblingGroupRead:
    """An agency's own decisions about its children's plan: withdrawn (the plan is no longer
    adoption) or waiting again. Linked, matched and placed follow a link (`/v1/links`)."""
    la, raa_ref = await repository.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    if body.status not in SIBLING_GROUP_DIRECT and body.status is not group.status:
        raise IllegalTransition(
            f"A sibling group becomes {body.status} through its link (/v1/links), not directly.",
            extra={"current_status": str(group.status), "requested_status": str(body.status)},
        )
    if body.status is not group.status and await links.active_link_of_group(ctx.session, group.id):
        raise Conflict("These children have an active link: withdraw it (or record its outcome) first.")
    check_transition("sibling group", SIBLING_GROUP_TRANSITIONS, group.status, body.status)
    if body.status is SiblingGroupStatus.WAITING and not await repository.child_refs(ctx.session, group.id):
        raise Conflict("An empty sibling group cannot wait for a family.")
    if body.status is SiblingGroupStatus.WITHDRAWN and group.status is not SiblingGroupStatus.WITHDRAWN:
        await interests.close_open_interests(
            ctx, await links.open_interests_in_group(ctx.session, group.id), linked_household_id=None
        )
    group.status = body.status
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.SIBLING_GROUP, group.ref)
    return await group_read(ctx, group)
