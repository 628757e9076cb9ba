"""Business rules for placements.

A placement is created only by a link's `placed` step (`register/links/service.py`): a whole
sibling group, after the match decision, with a household approved for that many children.
The two accountable agencies are the link's; the interagency fees due so far are raised in
the same transaction (`fees.service.raise_due_fees`). A placement ends early only by a
disruption; it is never deleted.
"""

from datetime import date

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict
from services.core.refs import new_ref
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.fees import service as fees
from services.register.models import Household, Placement
from services.register.placements import repository
from services.register.placements.repository import PlacementRow
from services.register.placements.schemas import PlacementRead


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
        ended_on=p.ended_on,
        version=p.version,
    )


async def record_placement(
    ctx: RequestContext,
    *,
    sibling_group_id: int,
    household: Household,
    child_agency_id: int,
    household_agency_id: int,
    placed_on: date,
    today: date,
) -> Placement:
    """The caller holds the household's row lock: capacity is counted and used in one go,
    so parallel placements into one household never exceed its approval."""
    size = await children.group_size(ctx.session, sibling_group_id)
    already = await repository.children_placed_without_order(ctx.session, household.id)
    if already + size > household.approved_children:
        raise Conflict(
            f"The household is approved for {household.approved_children} children and already has {already} "
            f"placed; this group has {size}."
        )
    placement = Placement(
        ref=new_ref("P"),
        sibling_group_id=sibling_group_id,
        household_id=household.id,
        child_agency_id=child_agency_id,
        household_agency_id=household_agency_id,
        placed_on=placed_on,
    )
    ctx.session.add(placement)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.PLACEMENT, placement.ref)
    await fees.raise_due_fees(ctx.session, placement, as_of=today, raised_by=ctx.principal.audit_name)
    return placement


async def record_adoption_order(ctx: RequestContext, placement: Placement, on: date, today: date) -> None:
    placement.adoption_order_on = on
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.PLACEMENT, placement.ref)
    await fees.raise_due_fees(ctx.session, placement, as_of=today, raised_by=ctx.principal.audit_name)


async def end_placement(ctx: RequestContext, placement: Placement, on: date, today: date) -> None:
    """A disruption: the fees due up to the end stay raised; nothing after it is raised."""
    await fees.raise_due_fees(ctx.session, placement, as_of=min(on, today), raised_by=ctx.principal.audit_name)
    placement.ended_on = on
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.PLACEMENT, placement.ref)
