"""Loaded-object dependencies of support routes: the record in the path, locked for the
transaction, at the version the caller last read (If-Match)."""

from typing import Annotated

from fastapi import Depends, Request

from services.core.http import check_version
from services.permissions import SupportWriter
from services.register.support import repository
from services.register.support.models import PassportEntitlement, SupportAssessment, SupportBudget


async def assessment_for_update(ctx: SupportWriter, ref: str, request: Request) -> SupportAssessment:
    assessment = await repository.get_assessment(ctx.session, ref, for_update=True)
    check_version(request, assessment.version)
    return assessment


async def budget_for_update(ctx: SupportWriter, ref: str, request: Request) -> SupportBudget:
    """Locked, so two lines of spend never both fit into the same balance."""
    budget = await repository.get_budget(ctx.session, ref, for_update=True)
    check_version(request, budget.version)
    return budget


async def entitlement_for_update(ctx: SupportWriter, ref: str, request: Request) -> PassportEntitlement:
    entitlement = await repository.get_entitlement(ctx.session, ref, for_update=True)
    check_version(request, entitlement.version)
    return entitlement


AssessmentForUpdate = Annotated[SupportAssessment, Depends(assessment_for_update)]
BudgetForUpdate = Annotated[SupportBudget, Depends(budget_for_update)]
EntitlementForUpdate = Annotated[PassportEntitlement, Depends(entitlement_for_update)]
