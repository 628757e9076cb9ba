"""Adopter-facing rules: anonymised profiles, the adopters' own household, and their
expressions of interest (capped, one open per profile)."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Response
from sqlalchemy import Row

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, Forbidden, InvalidInput
from services.core.http import Paging
from services.core.refs import new_ref
from services.register.ages import age_in_years
from services.register.audit.resources import AuditResource
from services.register.events import service as events
from services.register.events.vocabulary import EventKind
from services.register.households import repository as households
from services.register.households.schemas import HouseholdRead
from services.register.households.service import to_read as household_read
from services.register.interests import repository as interests
from services.register.interests import service as interest_rules
from services.register.models import Agency, ExpressionOfInterest, Household, need_column_name
from services.register.needs import contact_label
from services.register.profiles import repository
from services.register.profiles.repository import HouseholdFit, ProfileFilters
from services.register.profiles.schemas import (
    AgeBand,
    InterestCreate,
    InterestRead,
    ProfileRead,
    WaitBand,
)
from services.register.vocabulary import NEEDS, HouseholdStatus, InterestStatus, NeedLevel

# (lowest age in the band, its label), youngest first.
AGE_BANDS: tuple[tuple[int, AgeBand], ...] = ((0, "0-1"), (2, "2-4"), (5, "5-7"), (8, "8-10"), (11, "11-17"))
# (fewest days in the band, its label), shortest first.
WAIT_BANDS: tuple[tuple[int, WaitBand], ...] = (
    (0, "under 6 months"),
    (183, "6-12 months"),
    (365, "12-18 months"),
    (548, "18 months or more"),
)


def age_band(born: date, today: date) -> AgeBand:
    age = age_in_years(born, today)
    return [label for lowest, label in AGE_BANDS if age >= lowest][-1]


def wait_band(days: int) -> WaitBand:
    return [label for fewest, label in WAIT_BANDS if days >= fewest][-1]


NEED_LABELS = tuple(level.label for level in NeedLevel)
NEED_COLUMNS = tuple((need.value, need_column_name(need)) for need in NEEDS)
N_NEEDS = len(NEEDS)


def to_profile(profile_ref: str, children: list[Row[Any]], today: date) -> dict[str, Any]:
    """ProfileRead's fields from `repository.PROFILE_COLUMNS` rows, as plain values."""
    longest_wait = max((today - c.waiting_since).days for c in children)
    return {
        "ref": profile_ref,
        "region": children[0].region,
        "sibling_group_size": len(children),
        "waiting": wait_band(longest_wait),
        "contact_plan": contact_label(max(c.contact_plan for c in children)),
        "children": [
            {
                "age_band": age_band(c.date_of_birth, today),
                "sex": c.sex,
                "ethnicity": c.ethnicity,
                "needs": {need: NEED_LABELS[getattr(c, column)] for need, column in NEED_COLUMNS},
                "about": c.profile_text,
            }
            for c in children
        ],
    }


def page_item(profile_ref: str, children: list[Sequence[Any]], today: date) -> dict[str, Any]:
    """to_profile for the rows of `repository.page` (profile_ref, then PROFILE_COLUMNS),
    unpacked by position: a Row's attribute lookups cost more than the rest."""
    kids = []
    longest_wait = 0
    contact = 0
    for _, _, _, since, contact_plan, born, sex, ethnicity, *rest in children:
        longest_wait = max(longest_wait, (today - since).days)
        contact = max(contact, contact_plan)
        kids.append(
            {
                "age_band": age_band(born, today),
                "sex": sex,
                "ethnicity": ethnicity,
                "needs": {need: NEED_LABELS[level] for (need, _), level in zip(NEED_COLUMNS, rest, strict=False)},
                "about": rest[N_NEEDS],
            }
        )
    return {
        "ref": profile_ref,
        "region": children[0][2],
        "sibling_group_size": len(children),
        "waiting": wait_band(longest_wait),
        "contact_plan": contact_label(contact),
        "children": kids,
    }


async def own_household(ctx: RequestContext, *, for_update: bool = False) -> tuple[Household, Agency]:
    """The household an adopter's token is bound to; staff tokens have none."""
    if ctx.principal.household_ref is None:
        raise Forbidden("This is for adopters' accounts: the token is bound to no household.")
    household, agency = await households.get(ctx.session, ctx.principal.household_ref, for_update=for_update)
    ctx.audit(AuditAction.READ, AuditResource.HOUSEHOLD, household.ref)  # every household read is audited
    return household, agency


async def read_own_household(ctx: RequestContext) -> HouseholdRead:
    household, agency = await own_household(ctx)
    return household_read(household, agency)


async def own_interests(ctx: RequestContext) -> list[InterestRead]:
    household, _ = await own_household(ctx)
    rows = await interests.for_household(ctx.session, household.id)
    return [to_interest(eoi, profile_ref) for eoi, profile_ref in rows]


async def list_profiles(ctx: RequestContext, filters: ProfileFilters, paging: Paging, today: date) -> Response:
    if filters.fits:
        if ctx.principal.household_ref is None:
            raise InvalidInput(
                "fits=true shows the children an adopter household's approval fits: it needs an adopter's token.",
                extra={"errors": [{"field": "query.fits", "message": "for adopters only", "code": "adopters_only"}]},
            )
        household, _ = await own_household(ctx)
        fit = HouseholdFit(
            approved_children=household.approved_children,
            age_min_years=household.age_min_years,
            age_max_years=household.age_max_years,
            accepts_sibling_group=household.accepts_sibling_group,
        )
        filters = replace(filters, fit=fit)
    after = paging.after(str)
    async with ctx.connection() as connection:
        groups = await repository.page(
            connection, filters, today=today, after_ref=after[0] if after else None, limit=paging.fetch
        )
    return paging.page_response(
        groups, key=lambda group: [group[0]], item=lambda group: page_item(group[0], group[1], today)
    )


async def read_profile(ctx: RequestContext, ref: str, today: date) -> ProfileRead:
    group = await repository.get_visible(ctx.session, ref)
    children = await repository.children_of(ctx.session, [group.id])
    ctx.audit(AuditAction.READ, AuditResource.PROFILE, ref)
    return ProfileRead.model_validate(to_profile(group.profile_ref, children[group.id], today))


def to_interest(eoi: ExpressionOfInterest, profile_ref: str) -> InterestRead:
    return InterestRead(
        ref=eoi.ref,
        profile_ref=profile_ref,
        status=eoi.status,
        answer_reason=eoi.answer_reason,
        outcome=eoi.outcome,
        outcome_explanation=eoi.outcome.explanation if eoi.outcome else None,
        created_at=eoi.created_at,
        answered_at=eoi.answered_at,
        version=eoi.version,
    )


async def express_interest(ctx: RequestContext, profile_ref: str, body: InterestCreate, open_max: int) -> InterestRead:
    household, _ = await own_household(ctx, for_update=True)  # serialises this household's requests
    if household.status is not HouseholdStatus.APPROVED:
        raise Conflict(f"Your household is {household.status}; its agency must make it available first.")
    group = await repository.get_visible(ctx.session, profile_ref)
    open_now = await interests.open_for_household(ctx.session, household.id)
    if any(e.sibling_group_id == group.id for e in open_now):
        raise Conflict("Your household already has an open expression of interest in this profile.")
    if len(open_now) >= open_max:
        raise Conflict(
            f"A household may have at most {open_max} open expressions of interest; withdraw one first.",
            extra={"open_max": open_max},
        )
    eoi = ExpressionOfInterest(
        ref=new_ref("EI"), household_id=household.id, sibling_group_id=group.id, message=body.message
    )
    ctx.session.add(eoi)
    await ctx.session.flush()
    await ctx.session.refresh(eoi)
    ctx.audit(AuditAction.CREATE, AuditResource.EXPRESSION_OF_INTEREST, eoi.ref)
    await events.emit(
        ctx.session,
        agency_id=group.la_id,
        kind=EventKind.INTEREST_RECEIVED,
        subject_type="expression_of_interest",
        subject_ref=eoi.ref,
        data={"sibling_group_ref": group.ref, "household_ref": household.ref},
    )
    return to_interest(eoi, group.profile_ref)


async def withdraw_interest(ctx: RequestContext, ref: str, expected_version: int) -> InterestRead:
    household, _ = await own_household(ctx)
    eoi, profile_ref = await interests.get_for_household(ctx.session, ref, household.id)
    interest_rules.check_answerable(eoi, expected_version)
    eoi.status = InterestStatus.WITHDRAWN
    eoi.answered_at = datetime.now(UTC)
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.EXPRESSION_OF_INTEREST, eoi.ref)
    return to_interest(eoi, profile_ref)
