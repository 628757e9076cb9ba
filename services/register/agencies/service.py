"""Business rules for agencies: a local authority always belongs to an RAA in its region."""

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput
from services.register.agencies import repository
from services.register.agencies.schemas import AgencyCreate, AgencyRead, AgencyUpdate
from services.register.audit.resources import AuditResource
from services.register.models import Agency
from services.register.vocabulary import AgencyKind


def to_read(agency: Agency, parent_raa_ref: str | None) -> AgencyRead:
    return AgencyRead(
        ref=agency.ref,
        name=agency.name,
        kind=agency.kind,
        region=agency.region,
        parent_raa_ref=parent_raa_ref,
        latitude=agency.latitude,
        longitude=agency.longitude,
        synthetic=agency.synthetic,
        version=agency.version,
    )


async def create(ctx: RequestContext, body: AgencyCreate) -> AgencyRead:
    parent_id = None
    if body.kind is AgencyKind.LA:
        if body.parent_raa_ref is None:
            raise InvalidInput("A local authority must name its regional adoption agency (parent_raa_ref).")
        parent = await repository.find(
            ctx.session, body.parent_raa_ref, field="body.parent_raa_ref", kinds=(AgencyKind.RAA,)
        )
        if parent.region != body.region:
            raise InvalidInput("A local authority's RAA must be in the same region.")
        parent_id = parent.id
    elif body.parent_raa_ref is not None:
        raise InvalidInput("Only a local authority has a parent RAA.")
    if await repository.exists(ctx.session, body.ref):
        raise Conflict(f"An agency {body.ref} already exists.")
    agency = Agency(
        ref=body.ref,
        name=body.name,
        kind=body.kind,
        region=body.region,
        parent_raa_id=parent_id,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    ctx.session.add(agency)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.AGENCY, agency.ref)
    return to_read(agency, body.parent_raa_ref if parent_id else None)


async def update(ctx: RequestContext, agency: Agency, parent_ref: str | None, body: AgencyUpdate) -> AgencyRead:
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None:
            raise InvalidInput(f"{field} cannot be null.")
        setattr(agency, field, value)
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.AGENCY, agency.ref)
    return to_read(agency, parent_ref)
