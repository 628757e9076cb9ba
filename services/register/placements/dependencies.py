"""Loaded-object dependencies for placement routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import PlacementWriter
from services.register.placements import repository
from services.register.placements.repository import PlacementRow


async def placement_for_update(ctx: PlacementWriter, ref: str, request: Request) -> PlacementRow:
    """The placement named in the path, locked for this transaction, at the version the
    caller last read (If-Match)."""
    row = await repository.get(ctx.session, ref, for_update=True)
    check_version(request, row.placement.version)
    return row


PlacementForUpdate = Annotated[PlacementRow, Depends(placement_for_update)]
