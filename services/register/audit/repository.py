"""All SQL for reading the audit trail and the record history."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditEvent, RecordVersion
from services.core.errors import NotFound
from services.register.audit.schemas import VersionedRecord
from services.register.family_profiles.models import FamilyProfile
from services.register.links.models import Link
from services.register.models import Agency, Child, Household, Placement, Record, SiblingGroup
from services.register.support.models import (
    AdoptionBreakdown,
    AsfLimits,
    PassportEntitlement,
    SupportAssessment,
    SupportBudget,
)

MODELS: dict[VersionedRecord, type[Record]] = {
    VersionedRecord.AGENCY: Agency,
    VersionedRecord.SIBLING_GROUP: SiblingGroup,
    VersionedRecord.CHILD: Child,
    VersionedRecord.HOUSEHOLD: Household,
    VersionedRecord.PLACEMENT: Placement,
    VersionedRecord.LINK: Link,
    VersionedRecord.SUPPORT_ASSESSMENT: SupportAssessment,
    VersionedRecord.ASF_LIMITS: AsfLimits,
    VersionedRecord.SUPPORT_BUDGET: SupportBudget,
    VersionedRecord.PASSPORT_ENTITLEMENT: PassportEntitlement,
    VersionedRecord.ADOPTION_BREAKDOWN: AdoptionBreakdown,
    VersionedRecord.FAMILY_PROFILE: FamilyProfile,
}


async def list_events(
    session: AsyncSession, *, resource_ref: str | None, principal: str | None, before_id: int | None, limit: int
) -> list[AuditEvent]:
    """Newest first; the cursor is the last row's id."""
    query = select(AuditEvent)
    if resource_ref:
        query = query.where(AuditEvent.resource_ref == resource_ref)
    if principal:
        query = query.where(AuditEvent.principal == principal)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(await session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


async def record_versions(session: AsyncSession, record: VersionedRecord, ref: str) -> list[RecordVersion]:
    model = MODELS[record]
    record_id = await session.scalar(select(model.id).where(model.ref == ref))
    if record_id is None:
        raise NotFound(f"No {record} {ref}.")
    rows = await session.scalars(
        select(RecordVersion)
        .where(RecordVersion.table_name == model.__tablename__, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version)
    )
    return list(rows)
