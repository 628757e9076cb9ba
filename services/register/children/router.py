"""HTTP for children and sibling groups."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.core.http import Page, check_version, next_cursor, parse_cursor, set_etag
from services.register.children import repository, service
from services.register.children.dependencies import ChildReader, ChildWriter, Today, child_filters
from services.register.children.repository import ChildFilters
from services.register.children.schemas import (
    ChildCreate,
    ChildRead,
    ChildSummary,
    ChildUpdate,
    SiblingGroupCreate,
    SiblingGroupRead,
    SiblingGroupUpdate,
)
from services.register.vocabulary import SiblingGroupStatus

router = APIRouter(tags=["children"])

Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/v1/children", response_model=Page[ChildSummary])
async def list_children(
    ctx: ChildReader,
    today: Today,
    filters: Annotated[ChildFilters, Depends(child_filters)],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ChildSummary]:
    """The national pool, longest waiting first. Rows carry no names or dates of birth."""
    after = parse_cursor(cursor, date.fromisoformat, int) if cursor else None
    rows = await repository.list_children(ctx.session, filters, today=today, after=after, limit=limit + 1)
    cursor_after = next_cursor(rows, limit, lambda row: [row.child.waiting_since.isoformat(), row.child.id])
    return Page(items=[service.to_summary(r, today) for r in rows[:limit]], next_cursor=cursor_after)


@router.get("/v1/children/{ref}", response_model=ChildRead)
async def get_child(ctx: ChildReader, ref: str, today: Today, response: Response) -> ChildRead:
    """The full record, restricted fields included. Every call is audited."""
    child = await service.read_child(ctx, ref, today)
    set_etag(response, child.version)
    return child


@router.post("/v1/children", response_model=ChildRead, status_code=status.HTTP_201_CREATED)
async def create_child(ctx: ChildWriter, body: ChildCreate, today: Today, response: Response) -> ChildRead:
    child = await service.create_child(ctx, body, today)
    set_etag(response, child.version)
    response.headers["Location"] = f"/v1/children/{child.ref}"
    return child


@router.patch("/v1/children/{ref}", response_model=ChildRead)
async def update_child(
    ctx: ChildWriter, ref: str, body: ChildUpdate, today: Today, request: Request, response: Response
) -> ChildRead:
    row = await repository.get_child(ctx.session, ref, for_update=True)
    check_version(request, row.child.version)
    child = await service.update_child(ctx, row, body, today)
    set_etag(response, child.version)
    return child


@router.get("/v1/sibling-groups", response_model=Page[SiblingGroupRead])
async def list_sibling_groups(
    ctx: ChildReader,
    status: SiblingGroupStatus | None = None,
    la_ref: Annotated[str | None, Query(max_length=32)] = None,
    raa_ref: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SiblingGroupRead]:
    after = parse_cursor(cursor, int)[0] if cursor else None
    rows = await repository.list_groups(
        ctx.session, status=status, la_ref=la_ref, raa_ref=raa_ref, after_id=after, limit=limit + 1
    )
    items = [
        SiblingGroupRead(
            ref=g.ref, status=g.status, la_ref=la, raa_ref=raa, child_refs=refs, size=len(refs), version=g.version
        )
        for g, la, raa, refs in rows[:limit]
    ]
    cursor_after = next_cursor(rows, limit, lambda row: [row[0].id])
    return Page(items=items, next_cursor=cursor_after)


@router.get("/v1/sibling-groups/{ref}", response_model=SiblingGroupRead)
async def get_sibling_group(ctx: ChildReader, ref: str, response: Response) -> SiblingGroupRead:
    group = await service.group_read(ctx, await repository.get_group(ctx.session, ref))
    set_etag(response, group.version)
    return group


@router.post("/v1/sibling-groups", response_model=SiblingGroupRead, status_code=status.HTTP_201_CREATED)
async def create_sibling_group(ctx: ChildWriter, body: SiblingGroupCreate, response: Response) -> SiblingGroupRead:
    """Form a group from waiting children of one local authority, who will be placed together."""
    group = await service.create_group(ctx, body)
    set_etag(response, group.version)
    response.headers["Location"] = f"/v1/sibling-groups/{group.ref}"
    return group


@router.patch("/v1/sibling-groups/{ref}", response_model=SiblingGroupRead)
async def update_sibling_group(
    ctx: ChildWriter, ref: str, body: SiblingGroupUpdate, request: Request, response: Response
) -> SiblingGroupRead:
    """Change the group's status (all its children move together), within the legal transitions."""
    group = await repository.get_group(ctx.session, ref, for_update=True)
    check_version(request, group.version)
    updated = await service.update_group(ctx, group, body)
    set_etag(response, updated.version)
    return updated
