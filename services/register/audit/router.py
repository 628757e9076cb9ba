"""HTTP for the audit trail and record history (`audit:read`)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from services.core.audit import AuditAction, AuditEvent, RecordVersion
from services.core.auth import Scope
from services.core.context import RequestContext, requires
from services.core.errors import NotFound
from services.core.http import Page, next_cursor, parse_cursor
from services.register.models import Agency, Child, Household, Placement, SiblingGroup

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Auditor = Annotated[RequestContext, requires(Scope.AUDIT_READ)]

RESOURCES = {
    "agency": Agency,
    "sibling_group": SiblingGroup,
    "child": Child,
    "household": Household,
    "placement": Placement,
}


class AuditEventRead(BaseModel):
    occurred_at: datetime
    principal: str
    action: str
    resource_type: str
    resource_ref: str
    request_id: str
    route: str


class RecordVersionRead(BaseModel):
    version: int
    changed_at: datetime
    principal: str
    request_id: str
    data: dict[str, Any]


@router.get("/events", response_model=Page[AuditEventRead])
async def list_events(
    ctx: Auditor,
    resource_ref: Annotated[str | None, Query(max_length=32)] = None,
    principal: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AuditEventRead]:
    """Newest first. Reading the trail is itself audited."""
    # The filter used, so investigators see whose trail was looked at (not the ref itself:
    # that would add this read to the very trail being read).
    looked_up = f"resource_ref:{resource_ref}" if resource_ref else f"principal:{principal}" if principal else "*"
    ctx.audit(AuditAction.READ, "audit_events", looked_up)
    query = select(AuditEvent)
    if resource_ref:
        query = query.where(AuditEvent.resource_ref == resource_ref)
    if principal:
        query = query.where(AuditEvent.principal == principal)
    if cursor:
        query = query.where(AuditEvent.id < parse_cursor(cursor, int)[0])
    rows = list(await ctx.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    cursor_after = next_cursor(rows, limit, lambda row: [row.id])
    return Page(
        items=[AuditEventRead.model_validate(r, from_attributes=True) for r in rows[:limit]], next_cursor=cursor_after
    )


@router.get("/versions/{resource_type}/{ref}", response_model=list[RecordVersionRead])
async def record_versions(
    ctx: Auditor, resource_type: Literal["agency", "sibling_group", "child", "household", "placement"], ref: str
) -> list[RecordVersionRead]:
    """Every state the record has had, oldest first. Reading any record's history is audited."""
    model = RESOURCES[resource_type]
    record_id = await ctx.session.scalar(select(model.id).where(model.ref == ref))
    if record_id is None:
        raise NotFound(f"No {resource_type} {ref}.")
    rows = await ctx.session.scalars(
        select(RecordVersion)
        .where(RecordVersion.table_name == model.__tablename__, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version)
    )
    ctx.audit(AuditAction.READ, resource_type, ref)
    return [RecordVersionRead.model_validate(r, from_attributes=True) for r in rows]
