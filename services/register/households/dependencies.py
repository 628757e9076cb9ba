"""Loaded-object dependencies for household routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import HouseholdWriter
from services.register.households import repository
from services.register.models import Agency, Household


async def household_for_update(ctx: HouseholdWriter, ref: str, request: Request) -> tuple[Household, Agency]:
    """The household in the path with its approving agency, locked, at the caller's If-Match version."""
    household, agency = await repository.get(ctx.session, ref, for_update=True)
    check_version(request, household.version)
    return household, agency


HouseholdForUpdate = Annotated[tuple[Household, Agency], Depends(household_for_update)]
