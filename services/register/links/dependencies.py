"""Loaded-object dependencies for link routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import LinkWriter
from services.register.links import repository
from services.register.links.models import Link


async def link_for_update(ctx: LinkWriter, ref: str, request: Request) -> Link:
    """The link in the path, locked for this transaction, at the caller's If-Match version."""
    row = await repository.get(ctx.session, ref, for_update=True)
    check_version(request, row.link.version)
    return row.link


LinkForUpdate = Annotated[Link, Depends(link_for_update)]
