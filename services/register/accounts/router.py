"""HTTP for agency staff: their households' adopter accounts (invite, list, disable, invite
again). The adopters' own password pages are `pages.py`."""

from fastapi import APIRouter, Request, Response, status

from services.core.errors import ERROR_RESPONSES
from services.permissions import AdopterAccountAdmin, AdopterAccountReader
from services.register.accounts import service
from services.register.accounts.schemas import AdopterAccountRead, AdopterInvite

router = APIRouter(tags=["adopter accounts"], responses=ERROR_RESPONSES)


@router.post("/v1/households/{ref}/adopters", response_model=AdopterAccountRead, status_code=status.HTTP_201_CREATED)
async def invite_adopter(
    ctx: AdopterAccountAdmin, ref: str, body: AdopterInvite, request: Request, response: Response
) -> AdopterAccountRead:
    """Make an account for an adopter of your agency's household and email them an invitation
    link to choose their password (the account cannot sign in until they do)."""
    created = await service.invite(ctx, request.app.state.settings, ref, body)
    response.headers["Location"] = f"/v1/adopter-accounts/{created.ref}"
    return created


@router.get("/v1/households/{ref}/adopters", response_model=list[AdopterAccountRead])
async def list_adopters(ctx: AdopterAccountReader, ref: str) -> list[AdopterAccountRead]:
    return await service.list_for_household(ctx, ref)


@router.post("/v1/adopter-accounts/{ref}/disable", response_model=AdopterAccountRead)
async def disable_adopter(ctx: AdopterAccountAdmin, ref: str) -> AdopterAccountRead:
    """The account can no longer sign in; its tokens and links stop working at once."""
    return await service.disable(ctx, ref)


@router.post("/v1/adopter-accounts/{ref}/invitation", response_model=AdopterAccountRead)
async def reinvite_adopter(ctx: AdopterAccountAdmin, ref: str, request: Request) -> AdopterAccountRead:
    """Email a fresh invitation link (the earlier one stops working)."""
    return await service.reinvite(ctx, request.app.state.settings, ref)
