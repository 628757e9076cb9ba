"""Loaded-object dependencies for agency routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import AgencyAdmin
from services.register.agencies import repository
from services.register.models import Agency


async def agency_for_update(ctx: AgencyAdmin, ref: str, request: Request) -> tuple[Agency, str | None]:
    """The agency in the path (with its parent RAA's ref), locked, at the caller's If-Match version."""
    agency, parent_ref = await repository.get_with_parent_ref(ctx.session, ref, for_update=True)
    check_version(request, agency.version)
    return agency, parent_ref


AgencyForUpdate = Annotated[tuple[Agency, str | None], Depends(agency_for_update)]
