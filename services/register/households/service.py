"""Business rules for adopter households: the approving agency owns the record."""

from typing import Any

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, InvalidInput
from services.core.refs import new_ref
from services.register.access import ensure_may_write_for
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.errors import IllegalTransition
from services.register.households.schemas import HouseholdCreate, HouseholdRead, HouseholdSummary, HouseholdUpdate
from services.register.lifecycle import HOUSEHOLD_DIRECT, HOUSEHOLD_TRANSITIONS, check_transition
from services.register.links import repository as links
from services.register.models import Agency, Household
from services.register.needs import Needs, contact_label, contact_level

LOCATION_DECIMALS = 2


def to_summary(h: Household, agency: Agency) -> HouseholdSummary:
    return HouseholdSummary(
        ref=h.ref,
        approving_agency_ref=agency.ref,
        status=h.status,
        approved_on=h.approved_on,
        approved_children=h.approved_children,
        age_min_years=h.age_min_years,
        age_max_years=h.age_max_years,
        can_meet=Needs.from_levels(h.needs()),
        accepts_sibling_group=h.accepts_sibling_group,
        contact_openness=contact_label(h.contact_openness),
        region=h.region,
        profile_live=h.profile_live,
    )


def to_read(h: Household, agency: Agency) -> HouseholdRead:
    return HouseholdRead(
        **to_summary(h, agency).model_dump(),
        applicant_names=h.applicant_names,
        latitude=h.latitude,
        longitude=h.longitude,
        ethnicity=h.ethnicity,
        religion=h.religion,
        languages=h.languages,
        version=h.version,
    )


def _apply(h: Household, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if field == "can_meet":
            h.set_needs(Needs.model_validate(value).levels())
        elif field == "contact_openness":
            h.contact_openness = contact_level(value)
        elif field in ("latitude", "longitude"):
            setattr(h, field, round(value, LOCATION_DECIMALS))
        elif field == "applicant_names":
            h.applicant_names = [n.strip() for n in value]
        else:
            setattr(h, field, value)


async def read(ctx: RequestContext, h: Household, agency: Agency) -> HouseholdRead:
    ctx.audit(AuditAction.READ, AuditResource.HOUSEHOLD, h.ref)
    return to_read(h, agency)


async def create(ctx: RequestContext, body: HouseholdCreate) -> HouseholdRead:
    agency = await agencies.find(ctx.session, body.approving_agency_ref, field="body.approving_agency_ref")
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    h = Household(ref=new_ref("H"), approving_agency_id=agency.id)
    _apply(h, body.model_dump(exclude={"approving_agency_ref"}))
    ctx.session.add(h)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.HOUSEHOLD, h.ref)
    return to_read(h, agency)


async def update(ctx: RequestContext, h: Household, agency: Agency, body: HouseholdUpdate) -> HouseholdRead:
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    changes = body.model_dump(exclude_unset=True)
    nulls = sorted(f for f, v in changes.items() if v is None)
    if nulls:
        raise InvalidInput(
            "These fields cannot be cleared.",
            extra={
                "errors": [
                    {"field": f"body.{f}", "message": "may not be null", "code": "null_not_allowed"} for f in nulls
                ]
            },
        )
    if "status" in changes and changes["status"] is not h.status:
        # An agency puts its household on hold, makes it available again or withdraws it;
        # linked and matched follow its links (/v1/links).
        if changes["status"] not in HOUSEHOLD_DIRECT:
            raise IllegalTransition(
                f"A household becomes {changes['status']} through a link (/v1/links), not directly.",
                extra={"current_status": str(h.status), "requested_status": str(changes["status"])},
            )
        if await links.active_statuses_of_household(ctx.session, h.id):
            raise Conflict("The household has an active link: withdraw it (or record its outcome) first.")
        check_transition("household", HOUSEHOLD_TRANSITIONS, h.status, changes["status"])
    _apply(h, changes)
    if h.age_min_years > h.age_max_years:
        raise InvalidInput("age_min_years must not exceed age_max_years.")
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION if "status" in changes else AuditAction.UPDATE, AuditResource.HOUSEHOLD, h.ref)
    return to_read(h, agency)
