"""HTTP for agency staff: expressions of interest in their children or by their households."""

from fastapi import APIRouter, Request, Response

from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, expected_version, set_etag
from services.permissions import InterestAnswerer, InterestReader
from services.register.access import principal_agency_id
from services.register.interests import repository, service
from services.register.interests.schemas import InterestAnswer, InterestStaffRead
from services.register.vocabulary import InterestStatus

router = APIRouter(prefix="/v1/interests", tags=["interests"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[InterestStaffRead])
async def list_interests(
    ctx: InterestReader, paging: PagingParams, status: InterestStatus | None = None
) -> Page[InterestStaffRead]:
    after = paging.after(int)
    rows = await repository.list_for_agency(
        ctx.session,
        await principal_agency_id(ctx),
        status=status,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return paging.page(rows, key=lambda row: [row.interest.id], item=service.to_read)


@router.post("/{ref}/answer", response_model=InterestStaffRead)
async def answer_interest(
    ctx: InterestAnswerer, ref: str, body: InterestAnswer, request: Request, response: Response
) -> InterestStaffRead:
    """Accept (the agency will consider the household) or decline, with a reason."""
    answered = await service.answer(ctx, ref, body, expected_version(request))
    set_etag(response, answered.version)
    return answered
