"""Business rules of adoption support (the rules themselves: `rules.py`).

- The responsible authority (placing authority for three years after the order, then the
  family's) assesses, applies to the fund and holds budgets; only it (or its RAA, or the
  national team) reads or changes a family's support record. Every read and write is audited.
- Applications to the Adoption Support Fund are paid within the child's remaining limit
  for the year; above it only match funding on a recorded criterion in a year that allows
  it; otherwise refused, naming what remains. The child's allowance rows are locked while
  an application is decided, and a CHECK keeps each within its limit.
- Approved lines never change: a correction reverses them.
- A personal budget's spend never exceeds it (locked row, and a CHECK).
"""

import csv
import io
from collections import defaultdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction
from services.core.context import RequestContext
from services.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.core.http import Paging
from services.core.refs import new_ref
from services.register.access import ensure_may_write_for, may_write_for
from services.register.audit.resources import AuditResource
from services.register.models import Child, Household, Placement
from services.register.scorecards.repository import Key
from services.register.support import repository
from services.register.support.errors import LimitRefused
from services.register.support.models import (
    AdoptionBreakdown,
    AsfApplication,
    AsfLimits,
    AsfLine,
    PassportEntitlement,
    SupportAssessment,
    SupportBudget,
    SupportBudgetLine,
)
from services.register.support.repository import FamilyPlacement
from services.register.support.rules import (
    FundRules,
    LimitExceeded,
    Responsibility,
    allocate,
    remaining,
    responsible_authority,
)
from services.register.support.schemas import (
    ApplicationCreate,
    ApplicationRead,
    AsfReportRow,
    AssessmentOpen,
    AssessmentOutcomeWrite,
    AssessmentRead,
    BreakdownCreate,
    BreakdownRead,
    BudgetCreate,
    BudgetRead,
    ChildAllowances,
    EntitlementCreate,
    EntitlementRead,
    EntitlementUpdate,
    FamilyApplication,
    FamilyAssessment,
    FamilySupport,
    LimitsRead,
    LimitsWrite,
    LineRead,
    Passport,
    Reversal,
    SpendCreate,
    SpendRead,
)
from services.register.support.vocabulary import Allowance, AssessmentOutcome


def responsibility(fp: FamilyPlacement, on: date) -> Responsibility:
    return responsible_authority(
        placing_authority_id=fp.placing_authority.id,
        family_authority_id=fp.family_authority_id,
        adoption_order_on=fp.placement.adoption_order_on,
        on=on,
    )


async def ensure_acts_for(ctx: RequestContext, agency_id: int) -> None:
    """Staff act for a family's support only as its authority (or that authority's RAA, or
    the national team): support records are not part of the national pool."""
    agency, parent_ref = await repository.agency_with_parent_ref(ctx.session, agency_id)
    ensure_may_write_for(ctx.principal, agency, parent_ref)


async def _own_household(ctx: RequestContext) -> Household:
    """An adopter's own household, from the token; nothing else is reachable."""
    ref = ctx.principal.household_ref
    household = await repository.household_by_ref(ctx.session, ref) if ref else None
    if household is None:
        raise NotFound("Your household is not on the register.")
    return household


# --- assessments -------------------------------------------------------------------------


async def assessment_read(session: AsyncSession, a: SupportAssessment) -> AssessmentRead:
    household = await repository.refs_of(session, Household, [a.household_id])
    placement = await repository.refs_of(session, Placement, [a.placement_id])
    agency, _ = await repository.agency_with_parent_ref(session, a.agency_id)
    return AssessmentRead(
        ref=a.ref,
        household_ref=household[a.household_id],
        placement_ref=placement[a.placement_id],
        responsible_agency_ref=agency.ref,
        responsibility_basis=a.responsibility_basis,
        requested_on=a.requested_on,
        requested_by_family=a.requested_by_family,
        outcome=a.outcome,
        outcome_on=a.outcome_on,
        days_to_outcome=a.days_to_outcome,
        support_plan=a.support_plan,
        version=a.version,
    )


async def _new_assessment(
    ctx: RequestContext, fp: FamilyPlacement, requested_on: date, *, by_family: bool
) -> SupportAssessment:
    responsible = responsibility(fp, requested_on)
    assessment = SupportAssessment(
        ref=new_ref("SA"),
        household_id=fp.household.id,
        placement_id=fp.placement.id,
        agency_id=responsible.agency_id,
        responsibility_basis=responsible.basis,
        requested_on=requested_on,
        requested_by_family=by_family,
    )
    ctx.session.add(assessment)
    await ctx.session.flush()
    await ctx.session.refresh(assessment)  # the database computes days_to_outcome
    ctx.audit(AuditAction.CREATE, AuditResource.SUPPORT_ASSESSMENT, assessment.ref)
    return assessment


async def open_assessment(ctx: RequestContext, body: AssessmentOpen, today: date) -> AssessmentRead:
    placement_id = await repository.placement_id_by_ref(ctx.session, body.placement_ref)
    if placement_id is None:
        raise InvalidInput(
            f"{body.placement_ref} is not a known placement.",
            extra={
                "errors": [{"field": "body.placement_ref", "message": "unknown placement", "code": "unknown_reference"}]
            },
        )
    requested_on = body.requested_on or today
    if requested_on > today:
        raise InvalidInput("requested_on is in the future.")
    fp = await repository.family_placement(ctx.session, placement_id)
    if requested_on < fp.placement.placed_on:
        raise InvalidInput("requested_on is before the placement.")
    await ensure_acts_for(ctx, responsibility(fp, requested_on).agency_id)
    return await assessment_read(ctx.session, await _new_assessment(ctx, fp, requested_on, by_family=False))


async def request_assessment(ctx: RequestContext, today: date) -> FamilyAssessment:
    """A family asks; the authority responsible today must assess."""
    household = await _own_household(ctx)
    placement_id = await repository.latest_placement_id(ctx.session, household.id)
    if placement_id is None:
        raise Conflict("Adoption support is for families with a child placed or adopted: your household has none.")
    for existing in await repository.assessments_of_household(ctx.session, household.id):
        if existing.outcome is None:
            raise Conflict(
                f"Your request {existing.ref} of {existing.requested_on} is still being assessed.",
                extra={"assessment_ref": existing.ref},
            )
    fp = await repository.family_placement(ctx.session, placement_id)
    assessment = await _new_assessment(ctx, fp, today, by_family=True)
    return _family_assessment(assessment, await _agency_refs(ctx.session, [assessment.agency_id]))


async def read_assessment(ctx: RequestContext, assessment: SupportAssessment) -> AssessmentRead:
    await ensure_acts_for(ctx, assessment.agency_id)
    ctx.audit(AuditAction.READ, AuditResource.SUPPORT_ASSESSMENT, assessment.ref)
    return await assessment_read(ctx.session, assessment)


async def list_assessments(ctx: RequestContext, paging: Paging, *, open_only: bool) -> list[SupportAssessment]:
    agency_ids = None
    if ctx.principal.agency_ref is not None:
        agency_ids = await repository.agency_ids_acting_as(ctx.session, ctx.principal.agency_ref)
    after = paging.after(int)
    rows = await repository.list_assessments(
        ctx.session,
        agency_ids=agency_ids,
        open_only=open_only,
        after_id=after[0] if after else None,
        limit=paging.fetch,
    )
    for row in rows[: paging.limit]:
        ctx.audit(AuditAction.READ, AuditResource.SUPPORT_ASSESSMENT, row.ref)
    return rows


async def record_outcome(
    ctx: RequestContext, assessment: SupportAssessment, body: AssessmentOutcomeWrite, today: date
) -> AssessmentRead:
    await ensure_acts_for(ctx, assessment.agency_id)
    if assessment.outcome is not None:
        raise Conflict("The outcome is already recorded; a new need is a new assessment.")
    if not assessment.requested_on <= body.outcome_on <= today:
        raise InvalidInput("outcome_on must be between the request and today.")
    assessment.outcome = body.outcome
    assessment.outcome_on = body.outcome_on
    assessment.support_plan = body.support_plan
    await ctx.session.flush()
    await ctx.session.refresh(assessment)
    ctx.audit(AuditAction.UPDATE, AuditResource.SUPPORT_ASSESSMENT, assessment.ref)
    return await assessment_read(ctx.session, assessment)


# --- the fund's limits ----------------------------------------------------------------------


def limits_read(limits: AsfLimits) -> LimitsRead:
    return LimitsRead(
        financial_year=limits.financial_year,
        fair_access_pence=limits.fair_access_pence,
        specialist_assessment_pence=limits.specialist_assessment_pence,
        match_funding=limits.match_funding,
        fund_share_num=limits.fund_share_num,
        fund_share_den=limits.fund_share_den,
        source=limits.source,
        version=limits.version,
    )


def fund_rules(limits: AsfLimits) -> FundRules:
    return FundRules(
        financial_year=limits.financial_year,
        fair_access_pence=limits.fair_access_pence,
        specialist_assessment_pence=limits.specialist_assessment_pence,
        match_funding=limits.match_funding,
        fund_share=(limits.fund_share_num, limits.fund_share_den),
    )


async def put_limits(ctx: RequestContext, year: int, body: LimitsWrite) -> tuple[LimitsRead, bool]:
    """Set a year's rules (national team). A year with spend against it is never changed:
    the limits an application was decided on stay the ones it was decided on."""
    if body.fund_share_num > body.fund_share_den:
        raise InvalidInput("fund_share_num cannot exceed fund_share_den.")
    current = await repository.limits_for(ctx.session, year, for_update=True)
    if current is not None:
        if await repository.year_has_lines(ctx.session, year):
            raise Conflict(f"Applications were approved under the {year} limits: they cannot change.")
        for name, value in body.model_dump().items():
            setattr(current, name, value)
        await ctx.session.flush()
        ctx.audit(AuditAction.UPDATE, AuditResource.ASF_LIMITS, current.ref)
        return limits_read(current), False
    limits = AsfLimits(ref=f"ASF-{year}", financial_year=year, **body.model_dump())
    ctx.session.add(limits)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.ASF_LIMITS, limits.ref)
    return limits_read(limits), True


async def _limits_or_refuse(session: AsyncSession, year: int) -> AsfLimits:
    limits = await repository.limits_for(session, year)
    if limits is None:
        raise Conflict(
            f"No Adoption Support Fund limits are set for {year}/{(year + 1) % 100:02d}; "
            "the national team sets them (PUT /v1/support/asf/limits/{year})."
        )
    return limits


def _capped(rules: FundRules) -> dict[str, int]:
    capped = {Allowance.FAIR_ACCESS.value: rules.fair_access_pence}
    if rules.specialist_assessment_pence is not None:
        capped[Allowance.SPECIALIST_ASSESSMENT.value] = rules.specialist_assessment_pence
    return capped


# --- applications ----------------------------------------------------------------------------


async def application_read(session: AsyncSession, application: AsfApplication) -> ApplicationRead:
    lines = await repository.lines_of(session, [application.id])
    return _application_read(
        application,
        lines,
        (await repository.refs_of(session, SupportAssessment, [application.assessment_id]))[application.assessment_id],
        (await repository.refs_of(session, Child, [application.child_id]))[application.child_id],
        (await _agency_refs(session, [application.agency_id]))[application.agency_id],
    )


def _application_read(
    application: AsfApplication, lines: list[AsfLine], assessment_ref: str, child_ref: str, agency_ref: str
) -> ApplicationRead:
    return ApplicationRead(
        ref=application.ref,
        assessment_ref=assessment_ref,
        child_ref=child_ref,
        agency_ref=agency_ref,
        financial_year=application.financial_year,
        category=application.category,
        provider=application.provider,
        amount_pence=application.amount_pence,
        match_funding_criterion=application.match_funding_criterion,
        fund_pence=sum(line.amount_pence for line in lines if line.payer == "fund"),
        authority_pence=sum(line.amount_pence for line in lines if line.payer == "authority"),
        reversed=any(line.reverses_line_id is not None for line in lines),
        lines=[
            LineRead(
                id=line.id,
                allowance=line.allowance,
                payer=line.payer,
                amount_pence=line.amount_pence,
                reverses_line_id=line.reverses_line_id,
                reason=line.reason,
            )
            for line in lines
        ],
    )


async def apply(ctx: RequestContext, body: ApplicationCreate, today: date) -> ApplicationRead:
    """The responsible authority applies for one child after its assessment of need."""
    assessment = await repository.get_assessment(ctx.session, body.assessment_ref)
    fp = await repository.family_placement(ctx.session, assessment.placement_id)
    responsible = responsibility(fp, today)
    await ensure_acts_for(ctx, responsible.agency_id)
    if assessment.outcome != AssessmentOutcome.SUPPORT_PLAN:
        raise Conflict("The fund pays for support an assessment found needed: record a support plan first.")
    child = await repository.child_in_placement(ctx.session, body.child_ref, fp.placement.id)
    if child is None:
        raise InvalidInput(
            f"{body.child_ref} is not a child of this family's placement.",
            extra={
                "errors": [{"field": "body.child_ref", "message": "not in the placement", "code": "unknown_reference"}]
            },
        )
    limits = await _limits_or_refuse(ctx.session, body.financial_year)
    rules = fund_rules(limits)
    # Waits here for any other application for this child and year to commit.
    used = await repository.lock_allowances(ctx.session, child.id, body.financial_year, _capped(rules))
    spent = {Allowance(a): pence for a, pence in used.items()}
    try:
        shares = allocate(rules, body.category, body.amount_pence, spent, body.match_funding_criterion)
    except LimitExceeded as refused:
        raise LimitRefused(
            refused.reason,
            extra={
                "financial_year": body.financial_year,
                "remaining_pence": refused.remaining,
                "match_funding": rules.match_funding,
            },
        ) from refused
    matched = any(s.allowance is Allowance.MATCH_FUNDING for s in shares)
    application = AsfApplication(
        ref=new_ref("ASF"),
        child_id=child.id,
        assessment_id=assessment.id,
        agency_id=responsible.agency_id,
        financial_year=body.financial_year,
        category=body.category,
        provider=body.provider,
        amount_pence=body.amount_pence,
        # Recorded only when it decided something: match funding above the limit.
        match_funding_criterion=body.match_funding_criterion if matched else None,
        applied_by=ctx.principal.audit_name,
    )
    ctx.session.add(application)
    await ctx.session.flush()
    for share in shares:
        ctx.session.add(
            AsfLine(
                application_id=application.id,
                child_id=child.id,
                financial_year=body.financial_year,
                allowance=share.allowance,
                payer=share.payer,
                amount_pence=share.amount_pence,
                raised_by=ctx.principal.audit_name,
            )
        )
        if share.allowance is not Allowance.MATCH_FUNDING:
            await repository.use_allowance(
                ctx.session, child.id, body.financial_year, share.allowance, share.amount_pence
            )
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.ASF_APPLICATION, application.ref)
    return await application_read(ctx.session, application)


async def read_application(ctx: RequestContext, ref: str) -> ApplicationRead:
    application = await repository.get_application(ctx.session, ref)
    await ensure_acts_for(ctx, application.agency_id)
    ctx.audit(AuditAction.READ, AuditResource.ASF_APPLICATION, application.ref)
    return await application_read(ctx.session, application)


async def reverse(ctx: RequestContext, ref: str, body: Reversal) -> ApplicationRead:
    """Withdraw an approved application: each of its lines is reversed by a negative line
    (the originals stay as they were), and what it used of the limit is given back."""
    application = await repository.get_application(ctx.session, ref)
    await ensure_acts_for(ctx, application.agency_id)
    limits = await _limits_or_refuse(ctx.session, application.financial_year)
    await repository.lock_allowances(
        ctx.session, application.child_id, application.financial_year, _capped(fund_rules(limits))
    )
    lines = await repository.lines_of(ctx.session, [application.id])
    if any(line.reverses_line_id is not None for line in lines):
        raise Conflict("This application is already reversed.")
    for line in lines:
        ctx.session.add(
            AsfLine(
                application_id=application.id,
                child_id=line.child_id,
                financial_year=line.financial_year,
                allowance=line.allowance,
                payer=line.payer,
                amount_pence=-line.amount_pence,
                reverses_line_id=line.id,
                reason=body.reason,
                raised_by=ctx.principal.audit_name,
            )
        )
        if line.allowance != Allowance.MATCH_FUNDING:
            await repository.use_allowance(
                ctx.session, line.child_id, line.financial_year, line.allowance, -line.amount_pence
            )
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.ASF_APPLICATION, application.ref)
    return await application_read(ctx.session, application)


async def child_allowances(ctx: RequestContext, child_ref: str, year: int, today: date) -> ChildAllowances:
    """What a child has used and has left of the fund in a year (for the responsible authority)."""
    child = await repository.child_by_ref(ctx.session, child_ref)
    if child is None:
        raise NotFound(f"No child {child_ref}.")
    placement_id = await repository.current_placement_of_child(ctx.session, child.id)
    if placement_id is None:
        raise NotFound(f"{child_ref} is not placed with a family.")
    await ensure_acts_for(
        ctx, responsibility(await repository.family_placement(ctx.session, placement_id), today).agency_id
    )
    limits = await _limits_or_refuse(ctx.session, year)
    rules = fund_rules(limits)
    used = await repository.allowances_used(ctx.session, child.id, year)
    ctx.audit(AuditAction.READ, AuditResource.ASF_ALLOWANCE, child_ref)
    return ChildAllowances(
        child_ref=child_ref,
        financial_year=year,
        limits=limits_read(limits),
        used_pence={a: used.get(a, 0) for a in _capped(rules)},
        remaining_pence=remaining(rules, {Allowance(a): p for a, p in used.items()}),
    )


# --- personal budgets -------------------------------------------------------------------------


async def budget_read(session: AsyncSession, budget: SupportBudget) -> BudgetRead:
    lines = await repository.budget_lines(session, [budget.id])
    return _budget_read(
        budget,
        lines,
        (await repository.refs_of(session, SupportAssessment, [budget.assessment_id]))[budget.assessment_id],
        (await repository.refs_of(session, Household, [budget.household_id]))[budget.household_id],
        (await _agency_refs(session, [budget.agency_id]))[budget.agency_id],
    )


def _budget_read(
    budget: SupportBudget, lines: list[SupportBudgetLine], assessment_ref: str, household_ref: str, agency_ref: str
) -> BudgetRead:
    return BudgetRead(
        ref=budget.ref,
        assessment_ref=assessment_ref,
        household_ref=household_ref,
        agency_ref=agency_ref,
        amount_pence=budget.amount_pence,
        spent_pence=budget.spent_pence,
        balance_pence=budget.amount_pence - budget.spent_pence,
        period_start=budget.period_start,
        period_end=budget.period_end,
        managed_by=budget.managed_by,
        manager_name=budget.manager_name,
        spend=[
            SpendRead(
                ref=line.ref,
                spent_on=line.spent_on,
                provider=line.provider,
                category=line.category,
                amount_pence=line.amount_pence,
            )
            for line in lines
        ],
        version=budget.version,
    )


async def create_budget(ctx: RequestContext, body: BudgetCreate) -> BudgetRead:
    """A support plan delivered as a personal budget: the family chooses type and provider."""
    assessment = await repository.get_assessment(ctx.session, body.assessment_ref)
    await ensure_acts_for(ctx, assessment.agency_id)
    if assessment.outcome != AssessmentOutcome.SUPPORT_PLAN:
        raise Conflict("A personal budget delivers a support plan: record the assessment's support plan first.")
    if body.period_start > body.period_end:
        raise InvalidInput("period_start must not be after period_end.")
    budget = SupportBudget(
        ref=new_ref("PB"),
        assessment_id=assessment.id,
        household_id=assessment.household_id,
        agency_id=assessment.agency_id,
        amount_pence=body.amount_pence,
        period_start=body.period_start,
        period_end=body.period_end,
        managed_by=body.managed_by,
        manager_name=body.manager_name,
    )
    ctx.session.add(budget)
    await ctx.session.flush()
    await ctx.session.refresh(budget)
    ctx.audit(AuditAction.CREATE, AuditResource.SUPPORT_BUDGET, budget.ref)
    return await budget_read(ctx.session, budget)


async def read_budget(ctx: RequestContext, ref: str) -> BudgetRead:
    budget = await repository.get_budget(ctx.session, ref)
    await ensure_acts_for(ctx, budget.agency_id)
    ctx.audit(AuditAction.READ, AuditResource.SUPPORT_BUDGET, budget.ref)
    return await budget_read(ctx.session, budget)


async def add_spend(ctx: RequestContext, budget: SupportBudget, body: SpendCreate, today: date) -> BudgetRead:
    """A line of spend against a (locked) budget; the balance never goes below zero."""
    await ensure_acts_for(ctx, budget.agency_id)
    if not budget.period_start <= body.spent_on <= budget.period_end or body.spent_on > today:
        raise InvalidInput("spent_on must fall in the budget's period, and not in the future.")
    balance = budget.amount_pence - budget.spent_pence
    if body.amount_pence > balance:
        raise Conflict(
            f"The budget has £{balance / 100:,.2f} left; this spend is £{body.amount_pence / 100:,.2f}.",
            extra={"balance_pence": balance},
        )
    ctx.session.add(
        SupportBudgetLine(
            ref=new_ref("PBL"),
            budget_id=budget.id,
            spent_on=body.spent_on,
            provider=body.provider,
            category=body.category,
            amount_pence=body.amount_pence,
            raised_by=ctx.principal.audit_name,
        )
    )
    budget.spent_pence += body.amount_pence
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.SUPPORT_BUDGET, budget.ref)
    return await budget_read(ctx.session, budget)


# --- what a family sees -------------------------------------------------------------------------


async def _agency_refs(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    return await repository.agency_refs(session, ids)


def _family_assessment(a: SupportAssessment, agency_refs: dict[int, str]) -> FamilyAssessment:
    return FamilyAssessment(
        ref=a.ref,
        responsible_agency_ref=agency_refs[a.agency_id],
        requested_on=a.requested_on,
        outcome=a.outcome,
        outcome_on=a.outcome_on,
        support_plan=a.support_plan,
    )


async def family_support(ctx: RequestContext) -> FamilySupport:
    """The family's own support record: its assessments, budgets and fund applications.
    Found by the token's household only, so no other family's can be asked for."""
    household = await _own_household(ctx)
    assessments = await repository.assessments_of_household(ctx.session, household.id)
    budgets = await repository.budgets_of_household(ctx.session, household.id)
    applications = await repository.applications_of_assessments(ctx.session, [a.id for a in assessments])
    lines = await repository.lines_of(ctx.session, [a.id for a in applications])
    agency_refs = await _agency_refs(ctx.session, [a.agency_id for a in assessments] + [b.agency_id for b in budgets])
    assessment_refs = {a.id: a.ref for a in assessments}
    spend = await repository.budget_lines(ctx.session, [b.id for b in budgets])
    by_budget: dict[int, list[SupportBudgetLine]] = defaultdict(list)
    for line in spend:
        by_budget[line.budget_id].append(line)
    by_application: dict[int, list[AsfLine]] = defaultdict(list)
    for asf_line in lines:
        by_application[asf_line.application_id].append(asf_line)
    ctx.audit(AuditAction.READ, AuditResource.SUPPORT_RECORD, household.ref)
    return FamilySupport(
        household_ref=household.ref,
        assessments=[_family_assessment(a, agency_refs) for a in assessments],
        budgets=[
            _budget_read(b, by_budget[b.id], assessment_refs[b.assessment_id], household.ref, agency_refs[b.agency_id])
            for b in budgets
        ],
        asf_applications=[
            FamilyApplication(
                ref=a.ref,
                financial_year=a.financial_year,
                category=a.category,
                provider=a.provider,
                fund_pence=sum(line.amount_pence for line in by_application[a.id] if line.payer == "fund"),
                reversed=any(line.reverses_line_id is not None for line in by_application[a.id]),
            )
            for a in applications
        ],
    )


# --- the passport --------------------------------------------------------------------------------


def entitlement_read(e: PassportEntitlement, agency_ref: str | None) -> EntitlementRead:
    return EntitlementRead(
        ref=e.ref,
        scope="national" if e.agency_id is None else "local",
        agency_ref=agency_ref,
        title=e.title,
        summary=e.summary,
        source=e.source,
        position=e.position,
        withdrawn=e.withdrawn,
        version=e.version,
    )


async def passport(ctx: RequestContext, today: date) -> Passport:
    """The national entitlements and the own additions of the family's responsible
    authority (for each child placed with it; before any placement, none)."""
    household = await _own_household(ctx)
    placement_id = await repository.latest_placement_id(ctx.session, household.id)
    agency_ids: list[int] = []
    if placement_id is not None:
        agency_ids.append(responsibility(await repository.family_placement(ctx.session, placement_id), today).agency_id)
    rows = await repository.entitlements(ctx.session, agency_ids=agency_ids, national=True)
    refs = await _agency_refs(ctx.session, agency_ids)
    return Passport(
        national=[entitlement_read(e, ref) for e, ref in rows if e.agency_id is None],
        local=[entitlement_read(e, ref) for e, ref in rows if e.agency_id is not None],
        responsible_agency_refs=[refs[i] for i in agency_ids],
    )


async def list_entitlements(ctx: RequestContext, agency_ref: str | None) -> list[EntitlementRead]:
    agency_ids: list[int] = []
    if agency_ref:
        agency = await repository.agency_by_ref(ctx.session, agency_ref)
        if agency is None:
            raise NotFound(f"No agency {agency_ref}.")
        agency_ids.append(agency.id)
    rows = await repository.entitlements(ctx.session, agency_ids=agency_ids, national=True, include_withdrawn=True)
    return [entitlement_read(e, ref) for e, ref in rows]


async def create_entitlement(ctx: RequestContext, body: EntitlementCreate) -> EntitlementRead:
    """An authority's own addition to the passport (its duty to inform)."""
    agency = await repository.agency_by_ref(ctx.session, body.agency_ref)
    if agency is None:
        raise InvalidInput(
            f"{body.agency_ref} is not a known agency.",
            extra={"errors": [{"field": "body.agency_ref", "message": "unknown agency", "code": "unknown_reference"}]},
        )
    await ensure_acts_for(ctx, agency.id)
    entitlement = PassportEntitlement(ref=new_ref("PE"), agency_id=agency.id, **body.model_dump(exclude={"agency_ref"}))
    ctx.session.add(entitlement)
    await ctx.session.flush()
    await ctx.session.refresh(entitlement)
    ctx.audit(AuditAction.CREATE, AuditResource.PASSPORT_ENTITLEMENT, entitlement.ref)
    return entitlement_read(entitlement, agency.ref)


async def update_entitlement(
    ctx: RequestContext, entitlement: PassportEntitlement, body: EntitlementUpdate
) -> EntitlementRead:
    """An authority edits its own additions; the national list is changed by the national team."""
    if entitlement.agency_id is None:
        if ctx.principal.agency_ref is not None:
            raise Forbidden("The national entitlements are changed by the national team.")
        agency_ref = None
    else:
        await ensure_acts_for(ctx, entitlement.agency_id)
        agency_ref = (await _agency_refs(ctx.session, [entitlement.agency_id]))[entitlement.agency_id]
    changes = body.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise InvalidInput("Fields of an entitlement cannot be cleared.")
    for name, value in changes.items():
        setattr(entitlement, name, value)
    await ctx.session.flush()
    ctx.audit(AuditAction.UPDATE, AuditResource.PASSPORT_ENTITLEMENT, entitlement.ref)
    return entitlement_read(entitlement, agency_ref)


# --- breakdowns ----------------------------------------------------------------------------------


async def record_breakdown(
    ctx: RequestContext, placement_ref: str, body: BreakdownCreate, today: date
) -> list[BreakdownRead]:
    """Children returning to care after an adoption order: recorded by the placing authority
    (or the authority now responsible)."""
    placement_id = await repository.placement_id_by_ref(ctx.session, placement_ref, for_update=True)
    if placement_id is None:
        raise NotFound(f"No placement {placement_ref}.")
    fp = await repository.family_placement(ctx.session, placement_id)
    placing, responsible = fp.placing_authority, responsibility(fp, today)
    if not (
        may_write_for(ctx.principal, placing, fp.placing_raa_ref)
        or may_write_for(ctx.principal, *await repository.agency_with_parent_ref(ctx.session, responsible.agency_id))
    ):
        raise Forbidden("Only the placing or the responsible authority records a breakdown.")
    order_on = fp.placement.adoption_order_on
    if order_on is None:
        raise Conflict("A breakdown follows an adoption order; before the order the placement is disrupted instead.")
    if not order_on <= body.returned_to_care_on <= today:
        raise InvalidInput("returned_to_care_on must be between the adoption order and today.")
    children = await repository.children_of_placement(ctx.session, placement_id)
    wanted = set(body.child_refs) if body.child_refs else {c.ref for c in children}
    chosen = [c for c in children if c.ref in wanted]
    if len(chosen) != len(wanted):
        raise InvalidInput("child_refs must name children of this placement.")
    already = {b.child_id for b in await repository.breakdowns_of_placement(ctx.session, placement_id)}
    if any(c.id in already for c in chosen):
        raise Conflict("A breakdown is already recorded for one of these children.")
    recorded = []
    for child in chosen:
        breakdown = AdoptionBreakdown(
            ref=new_ref("BD"),
            placement_id=placement_id,
            child_id=child.id,
            returned_to_care_on=body.returned_to_care_on,
            reason=body.reason,
        )
        ctx.session.add(breakdown)
        await ctx.session.flush()
        ctx.audit(AuditAction.CREATE, AuditResource.ADOPTION_BREAKDOWN, breakdown.ref)
        recorded.append(
            BreakdownRead(
                ref=breakdown.ref,
                placement_ref=placement_ref,
                child_ref=child.ref,
                returned_to_care_on=breakdown.returned_to_care_on,
                reason=breakdown.reason,
            )
        )
    return recorded


async def breakdown_counts(session: AsyncSession, start: date, end: date) -> dict[Key, dict]:
    """Per nation, RAA and local authority (the placing one): children whose placement
    reached its 1st, 2nd, 5th anniversary in the period, and how many had ended by then."""
    out = {}
    for row in await repository.breakdown_counts(session, start, end):
        if row["no_raa"]:
            key = Key("national", None)
        else:
            key = Key("raa", row["raa_ref"]) if row["no_la"] else Key("la", row["la_ref"])
        out[key] = row
    return out


# --- reports --------------------------------------------------------------------------------------


async def asf_report(ctx: RequestContext, year: int | None) -> list[AsfReportRow]:
    """Spend per authority and year, with England's total first in each year."""
    times = {
        (r["agency_ref"] if not r["all_agencies"] else None, r["financial_year"]): r
        for r in await repository.assessment_times(ctx.session)
    }
    rows = []
    for r in await repository.asf_report(ctx.session, year):
        agency_ref = None if r["all_agencies"] else r["agency_ref"]
        decided = times.get((agency_ref, r["financial_year"]))
        children = int(r["children"])
        rows.append(
            AsfReportRow(
                financial_year=r["financial_year"],
                agency_ref=agency_ref,
                agency_name=None if agency_ref is None else r["agency_name"],
                region=None if agency_ref is None else r["region"],
                applications=int(r["applications"]),
                children_supported=children,
                families_supported=int(r["families"]),
                fund_pence=int(r["fund_pence"]),
                authority_match_pence=int(r["authority_pence"]),
                average_fund_pence_per_child=int(r["fund_pence"]) // children if children else 0,
                match_funded_percent=round(100 * int(r["match_funded_applications"]) / int(r["applications"]), 1),
                assessments_decided=int(decided["assessments"]) if decided else 0,
                mean_days_request_to_outcome=round(float(decided["mean_days_to_outcome"]), 1) if decided else None,
            )
        )
    ctx.audit(AuditAction.READ, AuditResource.SUPPORT_REPORT, f"asf:{year or 'all'}")
    return rows


def report_csv(rows: list[AsfReportRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(AsfReportRow.model_fields))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.model_dump().items()})
    return out.getvalue()


async def spend_by_region(session: AsyncSession, year: int) -> list[tuple[str, int, int]]:
    return await repository.spend_by_region(session, year)
