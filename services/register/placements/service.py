"""Business rules for placements.

A placement is of a whole sibling group that has been matched, with a household that has
been matched and is approved for that many children. It makes the group `placed`. The two
accountable agencies are recorded as they are on the day, and the interagency fees due so
far are raised in the same transaction (see `fees.service.raise_due_fees`).
"""

from datetime import date

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput
from services.core.refs import new_ref
from services.register.access import ensure_may_write_for
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.fees import service as fees
from services.register.households import repository as households
from services.register.lifecycle import SIBLING_GROUP_TRANSITIONS, check_transition
from services.register.models import Placement
from services.register.placements import repository
from services.register.placements.repository import PlacementRow
from services.register.placements.schemas import PlacementCreate, PlacementRead, PlacementUpdate
from services.register.vocabulary import HouseholdStatus, SiblingGroupStatus


def to_read(row: PlacementRow) -> PlacementRead:
    p = row.placement
    return PlacementRead(
        ref=p.ref,
        sibling_group_ref=row.sibling_group_ref,
        household_ref=row.household_ref,
        child_agency_ref=row.child_agency_ref,
        household_agency_ref=row.household_agency_ref,
        cross_agency=row.child_agency_ref != row.household_agency_ref,
        placed_on=p.placed_on,
        adoption_order_on=p.adoption_order_on,
        version=p.version,
    )


async def create(ctx: RequestContext, body: PlacementCreate, today: date) -> PlacementRead:
    group = await children.find_group(ctx.session, body.sibling_group_ref, field="body.sibling_group_ref")
    la, raa_ref = await children.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    household, approving = await households.find(ctx.session, body.household_ref, field="body.household_ref")
    if body.placed_on > today:
        raise InvalidInput("placed_on is in the future.")
    if group.status is not SiblingGroupStatus.MATCHED:
        raise Conflict(f"Only a matched sibling group can be placed; {group.ref} is {group.status}.")
    if household.status is not HouseholdStatus.MATCHED:
        raise Conflict(f"Only a matched household can receive a placement; {household.ref} is {household.status}.")
    child_refs = await children.child_refs(ctx.session, group.id)
    if len(child_refs) > household.approved_children:
        raise Conflict(
            f"The household is approved for {household.approved_children} children; the group has {len(child_refs)}."
        )
    check_transition("sibling group", SIBLING_GROUP_TRANSITIONS, group.status, SiblingGroupStatus.PLACED)
    child_agency = await repository.accountable_agency(ctx.session, la)
    household_agency = await repository.accountable_agency(ctx.session, approving)
    placement = Placement(
        ref=new_ref("P"),
        sibling_group_id=group.id,
        household_id=household.id,
        child_agency_id=child_agency.id,
        household_agency_id=household_agency.id,
        placed_on=body.placed_on,
    )
    group.status = SiblingGroupStatus.PLACED
    ctx.session.add(placement)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.PLACEMENT, placement.ref)
    ctx.audit(AuditAction.TRANSITION, AuditResource.SIBLING_GROUP, group.ref)
    await fees.raise_due_fees(ctx.session, placement, as_of=today, raised_by=ctx.principal.audit_name)
    return to_read(await repository.get(ctx.session, placement.ref))


async def record_adoption_order(
    ctx: RequestContext, row: PlacementRow, body: PlacementUpdate, today: date
) -> PlacementRead:
    placement = row.placement
    group = await children.get_group(ctx.session, row.sibling_group_ref)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    if placement.adoption_order_on is not None:
        raise Conflict("The adoption order is already recorded; it cannot be changed.")
    if not placement.placed_on <= body.adoption_order_on <= today:
        raise InvalidInput("adoption_order_on must be between the placement date and today.")
    placement.adoption_order_on = body.adoption_order_on
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.PLACEMENT, placement.ref)
    await fees.raise_due_fees(ctx.session, placement, as_of=today, raised_by=ctx.principal.audit_name)
    return to_read(await repository.get(ctx.session, placement.ref))
