"""Which agency's records a principal may change: the one place this rule lives.

Staff and systems of an agency read the national pool but write only their own agency's
records. An RAA acts for its local authorities. A principal bound to no agency is a
national lead and may write for any agency its scopes allow.
"""

from services.core.auth import Principal
from services.core.context import RequestContext
from services.core.errors import Forbidden
from services.register.agencies import repository as agencies
from services.register.models import Agency


def may_write_for(principal: Principal, agency: Agency, parent_raa_ref: str | None) -> bool:
    if principal.household_ref is not None:
        return False  # adopters never write register records
    if principal.agency_ref is None:
        return True
    return principal.agency_ref in (agency.ref, parent_raa_ref)


def ensure_may_write_for(principal: Principal, agency: Agency, parent_raa_ref: str | None) -> None:
    if not may_write_for(principal, agency, parent_raa_ref):
        raise Forbidden(
            f"Only {agency.ref} (or its regional adoption agency) may change this record.",
            extra={"error": "agency_mismatch"},
        )


async def principal_agency_id(ctx: RequestContext) -> int | None:
    """The id of the agency the caller is bound to; None for a national principal."""
    if ctx.principal.agency_ref is None:
        return None
    agency_id = await agencies.id_of(ctx.session, ctx.principal.agency_ref)
    if agency_id is None:
        raise Forbidden("The token's agency is not known to the register.")
    return agency_id
