"""HTTP for children and sibling groups."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams, json_response, paging_of, set_etag
from services.permissions import ChildReader, ChildWriter
from services.register.children import repository, service
from services.register.children.dependencies import ChildForUpdate, ChildListParams, GroupForUpdate
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

router = APIRouter(tags=["children"], responses=ERROR_RESPONSES)


@router.get("/v1/children", response_model=Page[ChildSummary])
async def list_children(ctx: ChildReader, today: Today, query: ChildListParams) -> Response:
    """The national pool, longest waiting first. Rows carry no names or dates of birth."""
    paging = paging_of(query)
    after = paging.after(date.fromisoformat, int)
    async with ctx.connection() as connection:
        rows = await repository.list_children(connection, query.filters(), today=today, after=after, limit=paging.fetch)
    return paging.page_response(
        rows,
        key=lambda row: [row["waiting_since"].isoformat(), row["id"]],
        item=lambda row: service.summary_item(row, today),
    )


@router.get("/v1/children/{ref}", response_model=ChildRead)
async def get_child(ctx: ChildReader, ref: str, today: Today) -> Response:
    """The full record, restricted fields included. Every call is audited."""
    child = await service.read_child(ctx, ref, today)
    response = json_response(child)
    set_etag(response, child["version"])
    return response


@router.post("/v1/children", response_model=ChildRead, status_code=status.HTTP_201_CREATED)
async def create_child(ctx: ChildWriter, body: ChildCreate, today: Today, response: Response) -> ChildRead:
    child = await service.create_child(ctx, body, today)
    set_etag(response, child.version)
    response.headers["Location"] = f"/v1/children/{child.ref}"
    return child


@router.patch("/v1/children/{ref}", response_model=ChildRead)
async def update_child(
    ctx: ChildWriter, row: ChildForUpdate, body: ChildUpdate, today: Today, response: Response
) -> ChildRead:
    child = await service.update_child(ctx, row, body, today)
    set_etag(response, child.version)
    return child


@router.get("/v1/sibling-groups", response_model=Page[SiblingGroupRead])
async def list_sibling_groups(
    ctx: ChildReader,
    paging: PagingParams,
    status: SiblingGroupStatus | None = None,
    la_ref: Annotated[str | None, Query(max_length=32)] = None,
    raa_ref: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[SiblingGroupRead]:
    after = paging.after(int)
    rows = await repository.list_groups(
        ctx.session,
        status=status,
        la_ref=la_ref,
        raa_ref=raa_ref,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    return paging.page(rows, key=lambda row: [row.group.id], item=service.group_row_read)


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
    ctx: ChildWriter, group: GroupForUpdate, body: SiblingGroupUpdate, response: Response
) -> SiblingGroupRead:
    """Change the group's status (all its children move together), within the legal transitions."""
    updated = await service.update_group(ctx, group, body)
    set_etag(response, updated.version)
    return updated
