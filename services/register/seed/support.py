"""Synthetic adoption support for the synthetic register: needs assessments, Adoption Support
Fund applications and personal budgets for a share of its adoptive families, paid by the
same rules as a live application (`support/rules.py`) under the limits in `asf_limits`.

Calibration (shared/design/domain.md and below):
- Families supported: about 12,500 in the fund's first 20 months (May 2015 to January 2017),
  i.e. 7,500 a year. The fund serves every adoptive family in England, not only recent
  ones: taking adoptions from care at about 4,000 a year over the 18 years a child is a child
  (DfE SSDA903: 3,000 to 5,360 a year), some 72,000 families are eligible, so about 10.4% of
  adoptive families are supported in a year. The synthetic register holds only its last
  three years of placements, so each of its families is supported in a year with that
  probability (special guardianship families, also covered by the fund, are not in the
  register).
- Spend: the fund's average was under £4,000 per child in 2016/17; amounts asked per child
  are drawn around £3,800 and then paid by the year's rules (capped at £3,000 from April
  2025, match-funded above £5,000 before it).
- Time from request to outcome and the share of plans delivered as personal budgets have
  no published figure: they are assumptions, stated below.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.refs import new_ref
from services.register.fees.calculation import financial_year
from services.register.seed import repository
from services.register.support import repository as support_repository
from services.register.support.models import (
    AsfAllowance,
    AsfApplication,
    AsfLine,
    SupportAssessment,
    SupportBudget,
    SupportBudgetLine,
)
from services.register.support.rules import FundRules, LimitExceeded, allocate, responsible_authority
from services.register.support.service import fund_rules
from services.register.support.vocabulary import (
    Allowance,
    AsfCategory,
    AssessmentOutcome,
    BudgetManager,
    MatchFundingCriterion,
    SupportCategory,
)

FAMILIES_SUPPORTED_FIRST_20_MONTHS = 12_500
FAMILIES_SUPPORTED_PER_YEAR = FAMILIES_SUPPORTED_FIRST_20_MONTHS * 12 / 20  # 7,500
ELIGIBLE_FAMILIES = 4_000 * 18  # adoptions a year x years of childhood
SHARE_SUPPORTED_PER_YEAR = FAMILIES_SUPPORTED_PER_YEAR / ELIGIBLE_FAMILIES  # ~0.104
MEAN_ASKED_PER_CHILD_PENCE = 380_000  # published: average under £4,000 per child (2016/17)
ASKED_SIGMA = 0.55
SHARE_NEEDING_SPECIALIST_ASSESSMENT = 0.15  # assumption
MEAN_DAYS_TO_OUTCOME = 56  # assumption: about eight weeks; no published figure
SHARE_NO_SUPPORT_NEEDED = 0.10  # assumption
SHARE_PERSONAL_BUDGET = 0.20  # assumption: plans delivered as a personal budget
PROVIDERS = (
    "Family Futures (synthetic)",
    "PAC-UK (synthetic)",
    "Theraplay practitioners (synthetic)",
    "DDP practitioners (synthetic)",
    "Local CAMHS partnership (synthetic)",
)
SEEDED_BY = "seed:synthetic"


@dataclass
class SupportRows:
    assessments: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)  # each with "lines" and "assessment" index
    allowances: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)
    budgets: list[dict[str, Any]] = field(default_factory=list)  # each with "spend" and "assessment" index


def generate_support(
    candidates: list[dict[str, Any]], rules: dict[int, FundRules], today: date, seed: int
) -> SupportRows:
    rng = np.random.default_rng(seed)
    rows = SupportRows()
    first_year = min((financial_year(c["placed_on"]) for c in candidates), default=financial_year(today))
    for year in range(first_year, financial_year(today) + 1):
        year_start, year_end = date(year, 4, 1), min(date(year + 1, 3, 31), today)
        for c in candidates:
            if c["placed_on"] >= year_end or rng.random() >= SHARE_SUPPORTED_PER_YEAR:
                continue
            start = max(year_start, c["placed_on"])
            requested = start + timedelta(days=int(rng.integers(0, max((year_end - start).days, 1))))
            days = int(rng.lognormal(np.log(MEAN_DAYS_TO_OUTCOME) - 0.18, 0.6))
            decided = requested + timedelta(days=days)
            responsible = responsible_authority(
                placing_authority_id=c["la_id"],
                family_authority_id=None if c["approving_kind"] == "vaa" else c["approving_id"],
                adoption_order_on=c["adoption_order_on"],
                on=requested,
            )
            needed = rng.random() >= SHARE_NO_SUPPORT_NEEDED
            assessment = {
                "ref": new_ref("SA"),
                "household_id": c["household_id"],
                "placement_id": c["placement_id"],
                "agency_id": responsible.agency_id,
                "responsibility_basis": responsible.basis,
                "requested_on": requested,
                "requested_by_family": bool(rng.random() < 0.7),
                "outcome": None,
                "outcome_on": None,
                "support_plan": "",
            }
            if decided <= today:
                assessment["outcome"] = (
                    AssessmentOutcome.SUPPORT_PLAN.value if needed else AssessmentOutcome.NO_SUPPORT_NEEDED.value
                )
                assessment["outcome_on"] = decided
                assessment["support_plan"] = "Therapeutic support (synthetic)" if needed else ""
            index = len(rows.assessments)
            rows.assessments.append(assessment)
            if assessment["outcome"] != AssessmentOutcome.SUPPORT_PLAN.value or year not in rules:
                continue
            for child_id in c["child_ids"]:
                _apply_for_child(rows, rng, rules[year], index, child_id, responsible.agency_id)
            if rng.random() < SHARE_PERSONAL_BUDGET:
                _budget(rows, rng, index, c["household_id"], responsible.agency_id, decided, today)
    return rows


def _apply_for_child(
    rows: SupportRows, rng: np.random.Generator, rules: FundRules, index: int, child_id: int, agency_id: int
) -> None:
    asked = int(rng.lognormal(np.log(MEAN_ASKED_PER_CHILD_PENCE) - ASKED_SIGMA**2 / 2, ASKED_SIGMA)) // 100 * 100
    requests = []
    if rng.random() < SHARE_NEEDING_SPECIALIST_ASSESSMENT:
        assessment_cost = min(asked // 3, 250_000)
        requests.append((AsfCategory.SPECIALIST_ASSESSMENT, assessment_cost))
        asked -= assessment_cost
    requests.append((AsfCategory.THERAPY, asked))
    for category, pence in requests:
        if pence <= 0:
            continue
        spent = {
            Allowance(a): row["used_pence"]
            for (c, y, a), row in rows.allowances.items()
            if c == child_id and y == rules.financial_year
        }
        criterion = list(MatchFundingCriterion)[int(rng.integers(len(MatchFundingCriterion)))]
        try:
            shares = allocate(rules, category, pence, spent, criterion)
        except LimitExceeded as refused:
            # No match funding this year: the authority asks for what the limit leaves.
            left = sum(refused.remaining.values())
            if left <= 0:
                continue
            shares = allocate(rules, category, min(pence, left), spent, None)
            pence = min(pence, left)
        matched = any(s.allowance is Allowance.MATCH_FUNDING for s in shares)
        rows.applications.append(
            {
                "ref": new_ref("ASF"),
                "assessment": index,
                "child_id": child_id,
                "agency_id": agency_id,
                "financial_year": rules.financial_year,
                "category": category.value,
                "provider": PROVIDERS[int(rng.integers(len(PROVIDERS)))],
                "amount_pence": pence,
                "match_funding_criterion": criterion.value if matched else None,
                "applied_by": SEEDED_BY,
                "lines": [
                    {"allowance": s.allowance.value, "payer": s.payer.value, "amount_pence": s.amount_pence}
                    for s in shares
                ],
            }
        )
        for s in shares:
            if s.allowance is Allowance.MATCH_FUNDING:
                continue
            key = (child_id, rules.financial_year, s.allowance.value)
            row = rows.allowances.setdefault(
                key,
                {
                    "child_id": child_id,
                    "financial_year": rules.financial_year,
                    "allowance": s.allowance.value,
                    "limit_pence": rules.limit(s.allowance),
                    "used_pence": 0,
                },
            )
            row["used_pence"] += s.amount_pence


def _budget(
    rows: SupportRows,
    rng: np.random.Generator,
    index: int,
    household_id: int,
    agency_id: int,
    start: date,
    today: date,
) -> None:
    amount = int(rng.integers(10, 51)) * 10_000  # £1,000 to £5,000
    end = start + timedelta(days=364)
    spend, spent = [], 0
    for _ in range(int(rng.integers(0, 5))):
        pence = int(rng.integers(5, 41)) * 2_500
        on = start + timedelta(days=int(rng.integers(0, 365)))
        if spent + pence > amount or on > today:
            continue
        spent += pence
        spend.append(
            {
                "ref": new_ref("PBL"),
                "spent_on": on,
                "provider": PROVIDERS[int(rng.integers(len(PROVIDERS)))],
                "category": list(SupportCategory)[int(rng.integers(len(SupportCategory)))].value,
                "amount_pence": pence,
                "raised_by": SEEDED_BY,
            }
        )
    rows.budgets.append(
        {
            "ref": new_ref("PB"),
            "assessment": index,
            "household_id": household_id,
            "agency_id": agency_id,
            "amount_pence": amount,
            "spent_pence": spent,
            "period_start": start,
            "period_end": end,
            "managed_by": list(BudgetManager)[int(rng.integers(len(BudgetManager)))].value,
            "spend": spend,
        }
    )


async def load_support(session: AsyncSession, today: date, seed: int) -> tuple[dict[str, int], str]:
    """Generates and inserts the synthetic support (bulk, one statement per table); returns
    counts and a calibration note."""
    candidates = await support_repository.seed_candidates(session)
    rules = {limits.financial_year: fund_rules(limits) for limits in await support_repository.all_limits(session)}
    rows = generate_support(candidates, rules, today, seed)
    assessment_ids = await repository.insert_returning_ids(session, SupportAssessment, rows.assessments)
    application_ids = await repository.insert_returning_ids(
        session,
        AsfApplication,
        [
            {k: v for k, v in a.items() if k not in ("lines", "assessment")}
            | {"assessment_id": assessment_ids[a["assessment"]]}
            for a in rows.applications
        ],
    )
    await repository.insert_rows(
        session,
        AsfLine,
        [
            {
                **line,
                "application_id": app_id,
                "child_id": a["child_id"],
                "financial_year": a["financial_year"],
                "raised_by": SEEDED_BY,
            }
            for app_id, a in zip(application_ids, rows.applications, strict=True)
            for line in a["lines"]
        ],
    )
    await repository.insert_rows(session, AsfAllowance, list(rows.allowances.values()))
    budget_ids = await repository.insert_returning_ids(
        session,
        SupportBudget,
        [
            {k: v for k, v in b.items() if k not in ("spend", "assessment")}
            | {"assessment_id": assessment_ids[b["assessment"]]}
            for b in rows.budgets
        ],
    )
    await repository.insert_rows(
        session,
        SupportBudgetLine,
        [
            {**line, "budget_id": budget_id}
            for budget_id, b in zip(budget_ids, rows.budgets, strict=True)
            for line in b["spend"]
        ],
    )
    return (
        {
            "support assessments": len(rows.assessments),
            "ASF applications": len(rows.applications),
            "personal budgets": len(rows.budgets),
        },
        calibration_note(rows, candidates, rules, today),
    )


def calibration_note(
    rows: SupportRows, candidates: list[dict[str, Any]], rules: dict[int, FundRules], today: date
) -> str:
    """Families supported a year against the scaled national figure, and the fund's average
    per child in the years of the 2017/18 rules against the published "under £4,000"."""
    per_year: dict[int, set[int]] = {}
    for a in rows.assessments:
        per_year.setdefault(financial_year(a["requested_on"]), set()).add(a["household_id"])
    # Of the families placed before each year's end (the only ones the register can support).
    shares = []
    for year, supported in per_year.items():
        placed = len({c["household_id"] for c in candidates if c["placed_on"] < min(date(year + 1, 3, 31), today)})
        if placed:
            shares.append(len(supported) / placed)
    share = sum(shares) / len(shares) if shares else 0.0
    families = sum(len(v) for v in per_year.values()) / len(per_year) if per_year else 0.0
    fund_by_child: dict[tuple[int, int], int] = {}
    for a in rows.applications:
        if rules[a["financial_year"]].match_funding:
            key = (a["child_id"], a["financial_year"])
            fund_by_child[key] = fund_by_child.get(key, 0) + sum(
                line["amount_pence"] for line in a["lines"] if line["payer"] == "fund"
            )
    average = sum(fund_by_child.values()) / len(fund_by_child) / 100 if fund_by_child else 0.0
    return (
        f"Adoption support: {families:,.0f} families a year, {share:.1%} of the register's adoptive families "
        f"(target {SHARE_SUPPORTED_PER_YEAR:.1%}: 12,500 families in the fund's first 20 months, of about "
        f"{ELIGIBLE_FAMILIES:,} eligible); average fund spend per child under the 2017/18 rules "
        f"£{average:,.0f} (published: under £4,000 in 2016/17)."
    )
