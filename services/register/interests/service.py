"""Staff side of expressions of interest: the child's agency answers; the household's
agency sees them too."""

from datetime import UTC, datetime

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, Forbidden, PreconditionFailed
from services.register.access import principal_agency_id
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.interests import repository
from services.register.interests.repository import InterestStaffRow
from services.register.interests.schemas import InterestAnswer, InterestStaffRead
from services.register.models import ExpressionOfInterest
from services.register.vocabulary import InterestOutcome, InterestStatus


def to_read(row: InterestStaffRow) -> InterestStaffRead:
    eoi = row.interest
    return InterestStaffRead(
        ref=eoi.ref,
        sibling_group_ref=row.sibling_group_ref,
        household_ref=row.household_ref,
        status=eoi.status,
        message=eoi.message,
        answer_reason=eoi.answer_reason,
        outcome=eoi.outcome,
        created_at=eoi.created_at,
        answered_at=eoi.answered_at,
        version=eoi.version,
    )


def check_answerable(eoi: ExpressionOfInterest, expected_version: int) -> None:
    if eoi.version != expected_version:
        raise PreconditionFailed(f"The expression of interest is now at version {eoi.version}.")
    if eoi.status is not InterestStatus.OPEN:
        raise Conflict(f"The expression of interest is already {eoi.status}.")


async def answer(ctx: RequestContext, ref: str, body: InterestAnswer, expected_version: int) -> InterestStaffRead:
    row = await repository.get_for_staff(ctx.session, ref, for_update=True)
    eoi = row.interest
    agency_id = await principal_agency_id(ctx)
    child_la_id = await agencies.id_of(ctx.session, row.child_la_ref)
    if agency_id is not None and agency_id not in (child_la_id, row.child_raa_id):
        raise Forbidden("Only the child's agency answers an expression of interest.")
    check_answerable(eoi, expected_version)
    eoi.status = InterestStatus(body.status)
    eoi.answer_reason = body.reason
    eoi.answered_at = datetime.now(UTC)
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.EXPRESSION_OF_INTEREST, eoi.ref)
    return to_read(row)


async def close_open_interests(
    ctx: RequestContext, open_interests: list[ExpressionOfInterest], *, linked_household_id: int | None
) -> None:
    """The children are linked (with `linked_household_id`) or have left the register (their
    plan withdrawn, their adoption order made, their profile hidden from adopters): every open
    interest in them closes with an outcome its adopters see, freeing their places."""
    for eoi in open_interests:
        if linked_household_id is None:
            eoi.outcome = InterestOutcome.LEFT_REGISTER
        elif eoi.household_id == linked_household_id:
            eoi.outcome = InterestOutcome.LINKED_WITH_YOU
        else:
            eoi.outcome = InterestOutcome.LINKED_ELSEWHERE
        eoi.status = InterestStatus.CLOSED
        eoi.answered_at = datetime.now(UTC)
        ctx.audit(AuditAction.TRANSITION, AuditResource.EXPRESSION_OF_INTEREST, eoi.ref)
    await ctx.session.flush()
