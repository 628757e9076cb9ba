"""HTTP for agency staff: expressions of interest in their children or by their households."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.http import Page, expected_version, next_cursor, parse_cursor, set_etag
from services.register.interests import repository, service
from services.register.interests.schemas import InterestAnswer, InterestStaffRead
from services.register.vocabulary import InterestStatus

router = APIRouter(prefix="/v1/interests", tags=["interests"])

Reader = Annotated[RequestContext, requires(Scope.CHILDREN_READ)]
Writer = Annotated[RequestContext, requires(Scope.CHILDREN_WRITE)]


@router.get("", response_model=Page[InterestStaffRead])
async def list_interests(
    ctx: Reader,
    status: InterestStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[InterestStaffRead]:
    after = parse_cursor(cursor, int)[0] if cursor else None
    rows = await repository.list_for_agency(
        ctx.session, await service.principal_agency_id(ctx), status=status, after_id=after, limit=limit + 1
    )
    cursor_after = next_cursor(rows, limit, lambda row: [row[0].id])
    return Page(items=[service.to_read(r) for r in rows[:limit]], next_cursor=cursor_after)


@router.post("/{ref}/answer", response_model=InterestStaffRead)
async def answer_interest(
    ctx: Writer, ref: str, body: InterestAnswer, request: Request, response: Response
) -> InterestStaffRead:
    """Accept (the agency will consider the household) or decline, with a reason."""
    answered = await service.answer(ctx, ref, body, expected_version(request))
    set_etag(response, answered.version)
    return answered
