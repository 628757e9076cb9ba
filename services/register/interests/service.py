"""Staff side of expressions of interest: the child's agency answers; the household's
agency sees them too."""

from datetime import UTC, datetime

from sqlalchemy import select

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Forbidden
from services.register.interests import repository
from services.register.interests.schemas import InterestAnswer, InterestStaffRead
from services.register.models import Agency
from services.register.vocabulary import InterestStatus


def to_read(row) -> InterestStaffRead:
    eoi, group_ref, household_ref = row[0], row[1], row[2]
    return InterestStaffRead(
        ref=eoi.ref,
        sibling_group_ref=group_ref,
        household_ref=household_ref,
        status=eoi.status,
        message=eoi.message,
        answer_reason=eoi.answer_reason,
        created_at=eoi.created_at,
        answered_at=eoi.answered_at,
        version=eoi.version,
    )


async def principal_agency_id(ctx: RequestContext) -> int | None:
    if ctx.principal.agency_ref is None:
        return None
    agency_id = await ctx.session.scalar(select(Agency.id).where(Agency.ref == ctx.principal.agency_ref))
    if agency_id is None:
        raise Forbidden("The token's agency is not known to the register.")
    return agency_id


async def answer(ctx: RequestContext, ref: str, body: InterestAnswer, expected_version: int) -> InterestStaffRead:
    row = await repository.get_for_staff(ctx.session, ref, for_update=True)
    eoi, child_la_ref, child_raa_id = row[0], row[3], row[4]
    agency_id = await principal_agency_id(ctx)
    child_la_id = await ctx.session.scalar(select(Agency.id).where(Agency.ref == child_la_ref))
    if agency_id is not None and agency_id not in (child_la_id, child_raa_id):
        raise Forbidden("Only the child's agency answers an expression of interest.")
    repository.check_answerable(eoi, expected_version)
    eoi.status = InterestStatus(body.status)
    eoi.answer_reason = body.reason
    eoi.answered_at = datetime.now(UTC)
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, "expression_of_interest", eoi.ref)
    return to_read(row)
