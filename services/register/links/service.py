"""Links: the journey of one sibling group and one household from the request to the
adoption order, each step taken by the agency entitled to it, on the day it happened.

- The child's agency requests, records the panel, the decision, the placement, the order
  and a disruption; the household's agency agrees or refuses; either withdraws before the
  placement (`STEP_SIDES`).
- Statuses of the group and the household change here and only here (the rulebook is
  `register/lifecycle.py`); matching asks for a link through `request_from_proposal`.
- At most one active link per group (also a unique index); the children in a household's
  active links never exceed its approval, counted under the household's row lock.
"""

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, Forbidden, InvalidInput
from services.core.refs import new_ref
from services.register.access import may_write_for
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.events import service as events
from services.register.events.vocabulary import EventKind
from services.register.households import repository as households
from services.register.interests import service as interests
from services.register.lifecycle import (
    HOUSEHOLD_TRANSITIONS,
    LINK_STEPS,
    SIBLING_GROUP_TRANSITIONS,
    check_transition,
)
from services.register.links import repository
from services.register.links.models import Link, LinkStep
from services.register.links.repository import LinkRow
from services.register.links.schemas import (
    DisruptionStep,
    LinkCreate,
    LinkOriginRead,
    LinkRead,
    LinkStepRead,
    PanelStep,
    StepOn,
    StepWithReason,
)
from services.register.models import Agency, Household, Placement, SiblingGroup
from services.register.placements import repository as placements_repository
from services.register.placements import service as placements
from services.register.vocabulary import (
    HouseholdStatus,
    InterestStatus,
    LinkOrigin,
    LinkStatus,
    SiblingGroupStatus,
)


class Side(StrEnum):
    CHILD = "child"  # the child's local authority, or its RAA
    HOUSEHOLD = "household"  # the agency that approved the household, or its RAA
    EITHER = "either"


STEP_SIDES: dict[LinkStatus, Side] = {
    LinkStatus.REQUESTED: Side.CHILD,
    LinkStatus.AGREED: Side.HOUSEHOLD,
    LinkStatus.REFUSED: Side.HOUSEHOLD,
    LinkStatus.PANEL: Side.CHILD,
    LinkStatus.DECIDED: Side.CHILD,
    LinkStatus.PLACED: Side.CHILD,
    LinkStatus.ADOPTED: Side.CHILD,
    LinkStatus.WITHDRAWN: Side.EITHER,
    LinkStatus.DISRUPTED: Side.CHILD,
}

# A household can be asked while it is available or already in a link with room to spare.
HOUSEHOLD_OPEN_TO_LINKS = (HouseholdStatus.APPROVED, HouseholdStatus.LINKED, HouseholdStatus.MATCHED)


# --- reading ----------------------------------------------------------------------------


async def to_read(ctx: RequestContext, row: LinkRow) -> LinkRead:
    link = row.link
    placement_ref = None
    if link.placement_id is not None:
        placement_ref = (await placements_repository.get_by_id(ctx.session, link.placement_id)).ref
    steps = await repository.steps(ctx.session, link.id)
    return LinkRead(
        ref=link.ref,
        status=link.status,
        sibling_group_ref=row.sibling_group_ref,
        household_ref=row.household_ref,
        child_agency_ref=row.child_agency_ref,
        household_agency_ref=row.household_agency_ref,
        origin=LinkOriginRead(kind=link.origin, ref=link.origin_ref, reason=link.origin_reason),
        requested_on=link.requested_on,
        agreed_on=link.agreed_on,
        panel_on=link.panel_on,
        panel_recommendation=link.panel_recommendation,
        decided_on=link.decided_on,
        placed_on=link.placed_on,
        adoption_order_on=link.adoption_order_on,
        ended_on=link.refused_on or link.withdrawn_on or link.disrupted_on,
        disruption_reason=link.disruption_reason,
        end_reason=link.end_reason,
        placement_ref=placement_ref,
        version=link.version,
        steps=[
            LinkStepRead(
                step=s.step.step,
                on=s.step.occurred_on,
                by_agency_ref=s.by_agency_ref,
                recorded_by=s.step.recorded_by,
                recorded_at=s.step.recorded_at,
                note=s.step.note,
            )
            for s in steps
        ],
    )


async def read(ctx: RequestContext, ref: str) -> LinkRead:
    row = await repository.get(ctx.session, ref)
    await _ensure_party(ctx, row.link)
    ctx.audit(AuditAction.READ, AuditResource.LINK, row.link.ref)
    return await to_read(ctx, row)


async def visible_agency_ids(ctx: RequestContext, agency_ref: str | None) -> tuple[int, ...] | None:
    """The agencies whose links the caller sees: its own (an RAA: and its local
    authorities'); a national principal sees every link, or one agency's."""
    ref = ctx.principal.agency_ref or agency_ref
    if ref is None:
        return None
    return await agencies.acted_for(ctx.session, ref)


# --- who may take a step ----------------------------------------------------------------


async def _sides_of(ctx: RequestContext, link: Link) -> set[Side]:
    group = await children.get_group_by_id(ctx.session, link.sibling_group_id)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    household = await households.get_by_id(ctx.session, link.household_id)
    approving, parent_ref = await agencies.get_by_id_with_parent_ref(ctx.session, household.approving_agency_id)
    sides = set()
    if may_write_for(ctx.principal, la, raa_ref):
        sides.add(Side.CHILD)
    if may_write_for(ctx.principal, approving, parent_ref):
        sides.add(Side.HOUSEHOLD)
    return sides


async def _ensure_party(ctx: RequestContext, link: Link) -> None:
    if not await _sides_of(ctx, link):
        raise Forbidden("Only the two agencies of a link see it.", extra={"error": "agency_mismatch"})


async def _ensure_side(ctx: RequestContext, link: Link, step: LinkStatus) -> None:
    needed = STEP_SIDES[step]
    sides = await _sides_of(ctx, link)
    if needed is Side.EITHER and sides:
        return
    if needed in sides:
        return
    whose = {Side.CHILD: "the child's agency", Side.HOUSEHOLD: "the household's agency"}[needed]
    raise Forbidden(f"Only {whose} records '{step}' on a link.", extra={"error": "agency_mismatch"})


def _check_day(on: date, *, after: date | None, after_what: str, today: date) -> None:
    problems = []
    if on > today:
        problems.append("is in the future")
    if after is not None and on < after:
        problems.append(f"is before the {after_what} on {after.isoformat()}")
    if problems:
        raise InvalidInput(
            f"The date {on.isoformat()} {' and '.join(problems)}.",
            extra={"errors": [{"field": "body.on", "message": p, "code": "inconsistent_date"} for p in problems]},
        )


async def _add_step(ctx: RequestContext, link: Link, step: LinkStatus, on: date, note: str) -> None:
    """The step as it was recorded, by whom and for which agency (append-only)."""
    by_agency = await agencies.id_of(ctx.session, ctx.principal.agency_ref) if ctx.principal.agency_ref else None
    ctx.session.add(
        LinkStep(
            link_id=link.id,
            step=step,
            occurred_on=on,
            by_agency_id=by_agency,
            recorded_by=ctx.principal.audit_name,
            note=note,
        )
    )
    await ctx.session.flush()


async def _record(ctx: RequestContext, link: Link, step: LinkStatus, on: date, note: str = "") -> None:
    check_transition("link", LINK_STEPS, link.status, step)
    link.status = step
    await _add_step(ctx, link, step, on, note)
    ctx.audit(AuditAction.TRANSITION, AuditResource.LINK, link.ref)
    await _tell_the_other_side(ctx, link)


def _move_group(ctx: RequestContext, group: SiblingGroup, status: SiblingGroupStatus) -> None:
    if group.status is status:
        return
    check_transition("sibling group", SIBLING_GROUP_TRANSITIONS, group.status, status)
    group.status = status
    ctx.audit(AuditAction.TRANSITION, AuditResource.SIBLING_GROUP, group.ref)


async def _settle_household(ctx: RequestContext, household: Household, *, after_disruption: bool = False) -> None:
    """The household's status follows its most advanced active link (an agency's own
    decision to put it on hold or withdraw it stands, except that a disruption puts it on
    hold for review)."""
    await ctx.session.flush()
    active = set(await repository.active_statuses_of_household(ctx.session, household.id))
    if after_disruption:
        target = HouseholdStatus.ON_HOLD
    elif active & {LinkStatus.DECIDED, LinkStatus.PLACED}:
        target = HouseholdStatus.MATCHED
    elif active & {LinkStatus.AGREED, LinkStatus.PANEL}:
        target = HouseholdStatus.LINKED
    elif household.status in (HouseholdStatus.LINKED, HouseholdStatus.MATCHED):
        target = HouseholdStatus.APPROVED
    else:
        return
    if household.status is target:
        return
    check_transition("household", HOUSEHOLD_TRANSITIONS, household.status, target)
    household.status = target
    ctx.audit(AuditAction.TRANSITION, AuditResource.HOUSEHOLD, household.ref)


# --- telling the other agency -----------------------------------------------------------

STEP_EVENTS: dict[LinkStatus, EventKind] = {
    LinkStatus.REQUESTED: EventKind.LINK_REQUESTED,
    LinkStatus.AGREED: EventKind.LINK_AGREED,
    LinkStatus.REFUSED: EventKind.LINK_REFUSED,
    LinkStatus.PANEL: EventKind.LINK_PANEL,
    LinkStatus.DECIDED: EventKind.LINK_DECIDED,
    LinkStatus.PLACED: EventKind.PLACEMENT_RECORDED,
    LinkStatus.ADOPTED: EventKind.ADOPTION_ORDER_RECORDED,
    LinkStatus.WITHDRAWN: EventKind.LINK_WITHDRAWN,
    LinkStatus.DISRUPTED: EventKind.PLACEMENT_DISRUPTED,
}


async def _tell_the_other_side(ctx: RequestContext, link: Link) -> None:
    """An event, in this transaction, for the agency that did not take this step (both,
    when the national team took it): references and codes only."""
    group = await children.get_group_by_id(ctx.session, link.sibling_group_id)
    household = await households.get_by_id(ctx.session, link.household_id)
    sides = await _sides_of(ctx, link)
    national = ctx.principal.agency_ref is None
    recipients = []
    if national or Side.CHILD not in sides:
        recipients.append(group.la_id)
    if national or Side.HOUSEHOLD not in sides:
        recipients.append(household.approving_agency_id)
    for agency_id in recipients:
        await events.emit(
            ctx.session,
            agency_id=agency_id,
            kind=STEP_EVENTS[link.status],
            subject_type="link",
            subject_ref=link.ref,
            data={"status": link.status.value, "sibling_group_ref": group.ref, "household_ref": household.ref},
        )


# --- the request ------------------------------------------------------------------------


async def _request(
    ctx: RequestContext,
    *,
    group: SiblingGroup,
    household: Household,
    approving: Agency,
    origin: LinkOrigin,
    origin_ref: str | None,
    reason: str,
    on: date,
    today: date,
) -> Link:
    """Both rows are locked by the caller (group first, then household: one order everywhere)."""
    la, raa_ref = await children.group_agencies(ctx.session, group)
    if not may_write_for(ctx.principal, la, raa_ref):
        raise Forbidden("Only the child's agency asks for a link.", extra={"error": "agency_mismatch"})
    if group.status is not SiblingGroupStatus.WAITING:
        raise Conflict(f"The children are {group.status}; only waiting children can be linked.")
    if await repository.active_link_of_group(ctx.session, group.id) is not None:
        raise Conflict("These children already have an active link; withdraw it first.")
    if household.status not in HOUSEHOLD_OPEN_TO_LINKS:
        raise Conflict(f"The household is {household.status}; its agency must make it available first.")
    size = await children.group_size(ctx.session, group.id)
    if size == 0:
        raise Conflict("An empty sibling group cannot be linked.")
    if size > 1 and not household.accepts_sibling_group:
        raise Conflict("The household is not approved for a sibling group.")
    taken = await repository.children_in_active_links(ctx.session, household.id)
    if taken + size > household.approved_children:
        raise Conflict(
            f"The household is approved for {household.approved_children} children; its active links already "
            f"hold {taken} and these are {size}."
        )
    earliest = await children.earliest_waiting_since(ctx.session, group.id)
    _check_day(on, after=earliest, after_what="children's placement order", today=today)
    child_agency = await placements_repository.accountable_agency(ctx.session, la)
    household_agency = await placements_repository.accountable_agency(ctx.session, approving)
    link = Link(
        ref=new_ref("L"),
        sibling_group_id=group.id,
        household_id=household.id,
        child_agency_id=child_agency.id,
        household_agency_id=household_agency.id,
        status=LinkStatus.REQUESTED,
        origin=origin,
        origin_ref=origin_ref,
        origin_reason=reason,
        requested_on=on,
    )
    ctx.session.add(link)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.LINK, link.ref)
    await _add_step(ctx, link, LinkStatus.REQUESTED, on, reason)
    await _tell_the_other_side(ctx, link)
    return link


async def create(ctx: RequestContext, body: LinkCreate, today: date) -> LinkRead:
    group = await children.find_group(ctx.session, body.sibling_group_ref, field="body.sibling_group_ref")
    household, approving = await households.find(ctx.session, body.household_ref, field="body.household_ref")
    if body.origin is LinkOrigin.INTEREST:
        interest = await repository.interest_for_pair(ctx.session, body.origin_ref or "")
        if (
            interest is None
            or interest.sibling_group_id != group.id
            or interest.household_id != household.id
            or interest.status is not InterestStatus.ACCEPTED
        ):
            raise InvalidInput(
                "origin_ref must be this household's expression of interest in these children, answered yes.",
                extra={"errors": [{"field": "body.origin_ref", "message": "no such accepted interest", "code": "x"}]},
            )
    link = await _request(
        ctx,
        group=group,
        household=household,
        approving=approving,
        origin=body.origin,
        origin_ref=body.origin_ref if body.origin is LinkOrigin.INTEREST else None,
        reason=body.reason,
        on=body.requested_on,
        today=today,
    )
    return await to_read(ctx, await repository.get(ctx.session, link.ref))


async def request_from_proposal(
    ctx: RequestContext, *, sibling_group_id: int, household_id: int, proposal_ref: str, on: date, today: date
) -> str:
    """Accepting a match proposal asks the household's agency for a link; returns its ref."""
    group = await children.get_group_by_id(ctx.session, sibling_group_id)
    household = await households.get_by_id(ctx.session, household_id, for_update=True)
    approving, _ = await agencies.get_by_id_with_parent_ref(ctx.session, household.approving_agency_id)
    link = await _request(
        ctx,
        group=group,
        household=household,
        approving=approving,
        origin=LinkOrigin.PROPOSAL,
        origin_ref=proposal_ref,
        reason="",
        on=on,
        today=today,
    )
    return link.ref


# --- the steps --------------------------------------------------------------------------


async def _loaded(ctx: RequestContext, link: Link) -> tuple[SiblingGroup, Household]:
    """The link's group and household, locked in the same order as a request locks them."""
    group = await children.get_group_by_id(ctx.session, link.sibling_group_id)
    household = await households.get_by_id(ctx.session, link.household_id, for_update=True)
    return group, household


async def agree(ctx: RequestContext, link: Link, body: StepOn, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.AGREED)
    _check_day(body.on, after=link.requested_on, after_what="request", today=today)
    group, household = await _loaded(ctx, link)
    link.agreed_on = body.on
    await _record(ctx, link, LinkStatus.AGREED, body.on, body.note)
    _move_group(ctx, group, SiblingGroupStatus.LINKED)
    await _settle_household(ctx, household)
    await interests.close_open_interests(
        ctx, await repository.open_interests_in_group(ctx.session, group.id), linked_household_id=household.id
    )


async def refuse(ctx: RequestContext, link: Link, body: StepWithReason, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.REFUSED)
    _check_day(body.on, after=link.requested_on, after_what="request", today=today)
    link.refused_on, link.end_reason = body.on, body.reason
    await _record(ctx, link, LinkStatus.REFUSED, body.on, body.reason)


async def panel(ctx: RequestContext, link: Link, body: PanelStep, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.PANEL)
    _check_day(body.on, after=link.agreed_on, after_what="agreement", today=today)
    link.panel_on, link.panel_recommendation = body.on, body.recommendation
    await _record(ctx, link, LinkStatus.PANEL, body.on, body.note)


async def decide(ctx: RequestContext, link: Link, body: StepOn, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.DECIDED)
    _check_day(body.on, after=link.panel_on, after_what="panel", today=today)
    group, household = await _loaded(ctx, link)
    link.decided_on = body.on
    await _record(ctx, link, LinkStatus.DECIDED, body.on, body.note)
    _move_group(ctx, group, SiblingGroupStatus.MATCHED)
    group.matched_on = body.on  # the decision maker's date: scorecard A2 ends here
    await _settle_household(ctx, household)


async def place(ctx: RequestContext, link: Link, body: StepOn, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.PLACED)
    _check_day(body.on, after=link.decided_on, after_what="match decision", today=today)
    group, household = await _loaded(ctx, link)
    check_transition("link", LINK_STEPS, link.status, LinkStatus.PLACED)
    placement = await placements.record_placement(
        ctx,
        sibling_group_id=group.id,
        household=household,
        child_agency_id=link.child_agency_id,
        household_agency_id=link.household_agency_id,
        placed_on=body.on,
        today=today,
    )
    link.placed_on, link.placement_id = body.on, placement.id
    await _record(ctx, link, LinkStatus.PLACED, body.on, body.note)
    _move_group(ctx, group, SiblingGroupStatus.PLACED)
    await _settle_household(ctx, household)


async def record_adoption_order(ctx: RequestContext, link: Link, body: StepOn, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.ADOPTED)
    _check_day(body.on, after=link.placed_on, after_what="placement", today=today)
    link.adoption_order_on = body.on
    await _record(ctx, link, LinkStatus.ADOPTED, body.on, body.note)
    placement = await _placement_of(ctx, link)
    await placements.record_adoption_order(ctx, placement, body.on, today)
    # The children have left the register: any interest still open in them closes (those
    # of other families closed when the link was agreed; this is the safety net).
    await interests.close_open_interests(
        ctx, await repository.open_interests_in_group(ctx.session, link.sibling_group_id), linked_household_id=None
    )


async def withdraw(ctx: RequestContext, link: Link, body: StepWithReason, today: date) -> None:
    await _ensure_side(ctx, link, LinkStatus.WITHDRAWN)
    latest = max(_days(link.requested_on, link.agreed_on, link.panel_on, link.decided_on))
    _check_day(body.on, after=latest, after_what="link's last step", today=today)
    group, household = await _loaded(ctx, link)
    link.withdrawn_on, link.end_reason = body.on, body.reason
    await _record(ctx, link, LinkStatus.WITHDRAWN, body.on, body.reason)
    if group.status in (SiblingGroupStatus.LINKED, SiblingGroupStatus.MATCHED):
        _move_group(ctx, group, SiblingGroupStatus.WAITING)
        group.matched_on = None
    await _settle_household(ctx, household)


async def disrupt(ctx: RequestContext, link: Link, body: DisruptionStep, today: date) -> None:
    """The placement ended before the adoption order: the children wait again (their
    placement order date is kept, so their wait counts from it), the household is put on
    hold, fees raised stay and later ones are not raised."""
    await _ensure_side(ctx, link, LinkStatus.DISRUPTED)
    _check_day(body.on, after=link.placed_on, after_what="placement", today=today)
    group, household = await _loaded(ctx, link)
    link.disrupted_on, link.disruption_reason, link.end_reason = body.on, body.reason, body.note
    await _record(ctx, link, LinkStatus.DISRUPTED, body.on, body.note)
    await placements.end_placement(ctx, await _placement_of(ctx, link), body.on, today)
    _move_group(ctx, group, SiblingGroupStatus.WAITING)
    group.matched_on = None
    await _settle_household(ctx, household, after_disruption=True)


async def _placement_of(ctx: RequestContext, link: Link) -> Placement:
    if link.placement_id is None:
        raise Conflict("The link has no placement.")
    return await placements_repository.get_by_id(ctx.session, link.placement_id, for_update=True)


def _days(*days: date | None) -> Iterable[date]:
    return [d for d in days if d is not None]


# --- what the rest of the register (and matching) asks of links --------------------------


async def ensure_child_side(ctx: RequestContext, sibling_group_id: int) -> None:
    """Only the child's agency (or the national team) decides about a pairing for them."""
    group = await children.get_group_by_id(ctx.session, sibling_group_id)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    if not may_write_for(ctx.principal, la, raa_ref):
        raise Forbidden(
            f"Only {la.ref} (or its regional adoption agency) decides for these children.",
            extra={"error": "agency_mismatch"},
        )


async def ensure_no_active_link(ctx: RequestContext, *, sibling_group_id: int | None = None) -> None:
    if sibling_group_id is not None and await repository.active_link_of_group(ctx.session, sibling_group_id):
        raise Conflict("These children have an active link: withdraw it (or record its outcome) first.")


async def household_has_active_link(ctx: RequestContext, household_id: int) -> bool:
    return bool(await repository.active_statuses_of_household(ctx.session, household_id))


async def describe_a_recent_adoption(session: AsyncSession) -> str:
    """One link's journey in a few lines (what `demo` prints)."""
    row = await repository.latest_adopted(session)
    if row is None:
        return "No link has reached an adoption order yet."
    days = [(s.step.step, s.step.occurred_on) for s in await repository.steps(session, row.link.id)]
    journey = "; ".join(f"{step} {on.isoformat()}" for step, on in days)
    return (
        f"A link's journey: {row.link.ref}, children {row.sibling_group_ref} ({row.child_agency_ref}) with household "
        f"{row.household_ref} ({row.household_agency_ref}): {journey}. See GET /v1/links/{row.link.ref}."
    )
