"""HTTP for family profiles: the adopters' own (`/v1/households/me/profile`) and the staff
view and decision (`/v1/households/{ref}/profile`). The `me` routes come first, so `me` is
never taken for a household's reference."""

from fastapi import APIRouter, Request, Response

from services.core.errors import ERROR_RESPONSES
from services.core.http import expected_version, set_etag
from services.permissions import AdopterReader, FamilyProfileApprover, FamilyProfileReader, FamilyProfileWriter
from services.register.family_profiles import service
from services.register.family_profiles.schemas import FamilyProfileRead, FamilyProfileReturn, FamilyProfileWrite

router = APIRouter(tags=["family profiles"], responses=ERROR_RESPONSES)


@router.get("/v1/households/me/profile", response_model=FamilyProfileRead)
async def my_profile(ctx: AdopterReader, response: Response) -> FamilyProfileRead:
    """Your family's profile as you last saved it (an empty draft at version 0 before the first save)."""
    profile = await service.read_own(ctx)
    set_etag(response, profile.version)
    return profile


@router.put("/v1/households/me/profile", response_model=FamilyProfileRead)
async def write_my_profile(
    ctx: FamilyProfileWriter, body: FamilyProfileWrite, request: Request, response: Response
) -> FamilyProfileRead:
    """Save your family's profile; `submit: true` sends it to your agency for approval. The first
    save needs no If-Match; every later one needs the ETag you read."""
    expected = expected_version(request) if "if-match" in request.headers else None
    saved = await service.write_own(ctx, body, expected)
    set_etag(response, saved.version)
    return saved


@router.get("/v1/households/{ref}/profile", response_model=FamilyProfileRead)
async def household_profile(ctx: FamilyProfileReader, ref: str, response: Response) -> FamilyProfileRead:
    """The household's agency sees the current version; other agencies the last approved one."""
    profile, current = await service.read_for_staff(ctx, ref)
    if current:
        set_etag(response, profile.version)
    return profile


@router.post("/v1/households/{ref}/profile/approve", response_model=FamilyProfileRead)
async def approve_profile(
    ctx: FamilyProfileApprover, ref: str, request: Request, response: Response
) -> FamilyProfileRead:
    approved = await service.approve(ctx, ref, expected_version(request))
    set_etag(response, approved.version)
    return approved


@router.post("/v1/households/{ref}/profile/return", response_model=FamilyProfileRead)
async def return_profile(
    ctx: FamilyProfileApprover, ref: str, body: FamilyProfileReturn, request: Request, response: Response
) -> FamilyProfileRead:
    returned = await service.send_back(ctx, ref, expected_version(request), body)
    set_etag(response, returned.version)
    return returned
