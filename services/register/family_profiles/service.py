"""A household's profile: its adopters write it (`PUT /v1/households/me/profile`) and send it
to their agency; staff of that agency approve it or return it with a reason. Family finders
of other agencies read only the last approved text, which an edit does not change until the
new text is approved in turn."""

from datetime import UTC, datetime

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired
from services.core.refs import new_ref
from services.register.access import ensure_may_write_for, may_write_for
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.events import service as events
from services.register.events.vocabulary import EventKind
from services.register.family_profiles import repository
from services.register.family_profiles.models import FamilyProfile
from services.register.family_profiles.schemas import FamilyProfileRead, FamilyProfileReturn, FamilyProfileWrite
from services.register.family_profiles.vocabulary import FamilyProfileState
from services.register.households import repository as households
from services.register.models import Agency, Household
from services.register.profiles.service import own_household


def _empty(household_ref: str) -> FamilyProfileRead:
    """What an adopter sees before the first save: an empty draft at version 0."""
    return FamilyProfileRead(
        ref=None,
        household_ref=household_ref,
        narrative="",
        what_we_offer=[],
        languages_spoken=[],
        state=FamilyProfileState.DRAFT,
        returned_reason="",
        approved_at=None,
        version=0,
    )


def to_current(profile: FamilyProfile, household_ref: str) -> FamilyProfileRead:
    return FamilyProfileRead(
        ref=profile.ref,
        household_ref=household_ref,
        narrative=profile.narrative,
        what_we_offer=profile.what_we_offer,
        languages_spoken=profile.languages_spoken,
        state=profile.state,
        returned_reason=profile.returned_reason,
        approved_at=profile.approved_at,
        version=profile.version,
    )


def to_approved(profile: FamilyProfile, household_ref: str) -> FamilyProfileRead:
    """The last approved text, as other agencies read it."""
    return FamilyProfileRead(
        ref=profile.ref,
        household_ref=household_ref,
        narrative=profile.approved_narrative or "",
        what_we_offer=profile.approved_what_we_offer or [],
        languages_spoken=profile.approved_languages_spoken or [],
        state=FamilyProfileState.APPROVED,
        returned_reason="",
        approved_at=profile.approved_at,
        version=profile.approved_version or profile.version,
    )


def _check_version(profile: FamilyProfile | None, expected: int | None) -> None:
    current = profile.version if profile else 0
    if expected is None:
        if profile is not None:
            raise PreconditionRequired("Read the profile first and send its ETag in an If-Match header.")
        return
    if expected != current:
        raise PreconditionFailed(
            f"The profile is now at version {current}; read it again and reapply your change.",
            extra={"current_version": current},
        )


# --- the adopters ---------------------------------------------------------------------------


async def read_own(ctx: RequestContext) -> FamilyProfileRead:
    household, _ = await own_household(ctx)
    profile = await repository.of_household(ctx.session, household.id)
    if profile is None:
        return _empty(household.ref)
    ctx.audit(AuditAction.READ, AuditResource.FAMILY_PROFILE, profile.ref)
    return to_current(profile, household.ref)


async def write_own(ctx: RequestContext, body: FamilyProfileWrite, expected: int | None) -> FamilyProfileRead:
    """Save the adopters' words (the first save needs no If-Match); `submit` sends them to the
    agency. The approved text, if any, stays as it was until the agency approves again."""
    household, _ = await own_household(ctx, for_update=True)  # serialises this household's writes
    profile = await repository.of_household(ctx.session, household.id, for_update=True)
    _check_version(profile, expected)
    created = profile is None
    if profile is None:
        profile = FamilyProfile(ref=new_ref("FP"), household_id=household.id, returned_reason="")
    profile.narrative = body.narrative
    profile.what_we_offer = list(body.what_we_offer)
    if body.languages_spoken is not None:
        profile.languages_spoken = list(body.languages_spoken)
    elif created:
        profile.languages_spoken = []
    if body.submit:
        profile.state = FamilyProfileState.SUBMITTED
        profile.returned_reason = ""
    else:
        # A returned profile keeps its reason in view while the adopters rework it.
        profile.state = (
            FamilyProfileState.RETURNED if profile.state is FamilyProfileState.RETURNED else (FamilyProfileState.DRAFT)
        )
    if created:
        await repository.add(ctx.session, profile)
    else:
        await ctx.session.flush()
    ctx.audit(AuditAction.CREATE if created else AuditAction.UPDATE, AuditResource.FAMILY_PROFILE, profile.ref)
    if body.submit:
        # The approving agency acts on it (approve or return); it hears of it like any other
        # event (its RAA's webhooks too), with references only.
        await events.emit(
            ctx.session,
            agency_id=household.approving_agency_id,
            kind=EventKind.FAMILY_PROFILE_SUBMITTED,
            subject_type="family_profile",
            subject_ref=profile.ref,
            data={"household_ref": household.ref},
        )
    return to_current(profile, household.ref)


# --- staff ----------------------------------------------------------------------------------


async def _household(ctx: RequestContext, ref: str, *, for_update: bool = False) -> tuple[Household, Agency, bool]:
    """The household, its agency, and whether the caller is staff of that agency (or its RAA,
    or the national team)."""
    household, agency = await households.get(ctx.session, ref, for_update=for_update)
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    return household, agency, may_write_for(ctx.principal, agency, parent_ref)


async def read_for_staff(ctx: RequestContext, household_ref: str) -> tuple[FamilyProfileRead, bool]:
    """The household's agency sees the current version (and gets its ETag); any other agency
    the last approved one, or 404. Returns the view and whether it is the current version."""
    household, _, own = await _household(ctx, household_ref)
    profile = await repository.of_household(ctx.session, household.id)
    if profile is None or (not own and profile.approved_at is None):
        raise NotFound(f"Household {household_ref} has no approved family profile.")
    ctx.audit(AuditAction.READ, AuditResource.FAMILY_PROFILE, profile.ref)
    return (to_current(profile, household.ref), True) if own else (to_approved(profile, household.ref), False)


async def _for_decision(ctx: RequestContext, household_ref: str, expected: int) -> tuple[FamilyProfile, str]:
    household, agency, _ = await _household(ctx, household_ref, for_update=True)
    _, parent_ref = await agencies.get_with_parent_ref(ctx.session, agency.ref)
    ensure_may_write_for(ctx.principal, agency, parent_ref)
    profile = await repository.of_household(ctx.session, household.id, for_update=True)
    if profile is None:
        raise NotFound(f"Household {household_ref} has no family profile yet.")
    _check_version(profile, expected)
    if profile.state is not FamilyProfileState.SUBMITTED:
        raise Conflict(
            f"The profile is {profile.state}: only a submitted profile is approved or returned.",
            extra={"state": str(profile.state)},
        )
    return profile, household.ref


async def approve(ctx: RequestContext, household_ref: str, expected: int) -> FamilyProfileRead:
    """The submitted text becomes what other agencies' family finders read."""
    profile, ref = await _for_decision(ctx, household_ref, expected)
    profile.state = FamilyProfileState.APPROVED
    profile.approved_at = datetime.now(UTC)
    profile.approved_narrative = profile.narrative
    profile.approved_what_we_offer = list(profile.what_we_offer)
    profile.approved_languages_spoken = list(profile.languages_spoken)
    profile.approved_version = profile.version + 1  # the version this update makes
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.FAMILY_PROFILE, profile.ref)
    return to_current(profile, ref)


async def send_back(
    ctx: RequestContext, household_ref: str, expected: int, body: FamilyProfileReturn
) -> FamilyProfileRead:
    """Returned to the adopters with the agency's reason; the approved text, if any, stays."""
    profile, ref = await _for_decision(ctx, household_ref, expected)
    profile.state = FamilyProfileState.RETURNED
    profile.returned_reason = body.reason
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.FAMILY_PROFILE, profile.ref)
    return to_current(profile, ref)
