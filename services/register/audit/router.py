"""HTTP for the audit trail and record history (`audit:read`). Reading the trail is itself
audited: who looked at whose history is part of the record."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.core.audit import AuditAction
from services.core.errors import ERROR_RESPONSES
from services.core.http import Page, PagingParams
from services.permissions import Auditor
from services.register.audit import repository
from services.register.audit.resources import AuditResource
from services.register.audit.schemas import AuditEventRead, RecordVersionRead, VersionedRecord

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/events", response_model=Page[AuditEventRead])
async def list_events(
    ctx: Auditor,
    paging: PagingParams,
    resource_ref: Annotated[str | None, Query(max_length=32)] = None,
    principal: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AuditEventRead]:
    """Newest first. Reading the trail is itself audited."""
    after = paging.after(int)
    rows = await repository.list_events(
        ctx.session,
        resource_ref=resource_ref,
        principal=principal,
        before_id=after[0] if after else None,
        limit=paging.fetch,
    )
    # The filter used, so investigators see whose trail was looked at (not the ref itself:
    # that would add this read to the very trail being read).
    looked_up = f"resource_ref:{resource_ref}" if resource_ref else f"principal:{principal}" if principal else "*"
    ctx.audit(AuditAction.READ, AuditResource.AUDIT_TRAIL, looked_up)
    return paging.page(
        rows, key=lambda row: [row.id], item=lambda row: AuditEventRead.model_validate(row, from_attributes=True)
    )


@router.get("/versions/{resource_type}/{ref}", response_model=list[RecordVersionRead])
async def record_versions(ctx: Auditor, resource_type: VersionedRecord, ref: str) -> list[RecordVersionRead]:
    """Every state the record has had, oldest first. Reading a record's history is audited
    as a read of that record."""
    rows = await repository.record_versions(ctx.session, resource_type, ref)
    ctx.audit(AuditAction.READ, AuditResource(resource_type.value), ref)
    return [RecordVersionRead.model_validate(r, from_attributes=True) for r in rows]
