"""Links between a sibling group and a household: the only way matching changes the
register's state (statuses follow the rulebook in `register/lifecycle.py`)."""

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict
from services.register.access import ensure_may_write_for
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.households import repository as households
from services.register.lifecycle import HOUSEHOLD_TRANSITIONS, SIBLING_GROUP_TRANSITIONS, check_transition
from services.register.vocabulary import HouseholdStatus, SiblingGroupStatus


async def ensure_child_agency(ctx: RequestContext, sibling_group_id: int) -> None:
    """Only the child's agency (or its RAA, or the national team) acts on a pairing."""
    group = await children.get_group_by_id(ctx.session, sibling_group_id)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)


async def link_pair(ctx: RequestContext, sibling_group_id: int, household_id: int) -> None:
    """The child's agency takes a pairing forward: the children and the household become linked."""
    group = await children.get_group_by_id(ctx.session, sibling_group_id)
    la, raa_ref = await children.group_agencies(ctx.session, group)
    ensure_may_write_for(ctx.principal, la, raa_ref)
    household = await households.get_by_id(ctx.session, household_id, for_update=True)
    check_transition("sibling group", SIBLING_GROUP_TRANSITIONS, group.status, SiblingGroupStatus.LINKED)
    check_transition("household", HOUSEHOLD_TRANSITIONS, household.status, HouseholdStatus.LINKED)
    if group.status is not SiblingGroupStatus.WAITING or household.status is not HouseholdStatus.APPROVED:
        raise Conflict("The children or the household are no longer available for a new link.")
    group.status, household.status = SiblingGroupStatus.LINKED, HouseholdStatus.LINKED
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.SIBLING_GROUP, group.ref)
    ctx.audit(AuditAction.TRANSITION, AuditResource.HOUSEHOLD, household.ref)
