"""All SQL of adoption support."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import NotFound
from services.register.models import Agency, Child, Household, Placement, Record, SiblingGroup
from services.register.support.models import (
    AdoptionBreakdown,
    AsfAllowance,
    AsfApplication,
    AsfLimits,
    AsfLine,
    PassportEntitlement,
    SupportAssessment,
    SupportBudget,
    SupportBudgetLine,
)
from services.register.vocabulary import AgencyKind

Raa = aliased(Agency, name="raa")


@dataclass(frozen=True)
class FamilyPlacement:
    """A placement with what adoption support needs to know about it."""

    placement: Placement
    household: Household
    placing_authority: Agency  # the child's local authority
    placing_raa_ref: str
    approving_agency: Agency  # the household's; "where the family lives" is the best the register holds

    @property
    def family_authority_id(self) -> int | None:
        if self.approving_agency.kind is AgencyKind.VAA:
            return None
        return self.approving_agency.id


async def family_placement(session: AsyncSession, placement_id: int) -> FamilyPlacement:
    approving = aliased(Agency, name="approving")
    row = (
        await session.execute(
            select(Placement, Household, Agency, Raa.ref, approving)
            .join(Household, Household.id == Placement.household_id)
            .join(SiblingGroup, SiblingGroup.id == Placement.sibling_group_id)
            .join(Agency, Agency.id == SiblingGroup.la_id)
            .join(Raa, Raa.id == Agency.parent_raa_id)
            .join(approving, approving.id == Household.approving_agency_id)
            .where(Placement.id == placement_id)
        )
    ).one()
    return FamilyPlacement(*row)


async def placement_id_by_ref(session: AsyncSession, ref: str, *, for_update: bool = False) -> int | None:
    query = select(Placement.id).where(Placement.ref == ref)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def household_by_ref(session: AsyncSession, ref: str) -> Household | None:
    return await session.scalar(select(Household).where(Household.ref == ref))


async def latest_placement_id(session: AsyncSession, household_id: int) -> int | None:
    """The household's most recent placement that has not ended."""
    return await session.scalar(
        select(Placement.id)
        .where(Placement.household_id == household_id, Placement.ended_on.is_(None))
        .order_by(Placement.placed_on.desc(), Placement.id.desc())
        .limit(1)
    )


async def agency_with_parent_ref(session: AsyncSession, agency_id: int) -> tuple[Agency, str | None]:
    row = (
        await session.execute(
            select(Agency, Raa.ref).outerjoin(Raa, Raa.id == Agency.parent_raa_id).where(Agency.id == agency_id)
        )
    ).one()
    return row[0], row[1]


async def agency_by_ref(session: AsyncSession, ref: str) -> Agency | None:
    return await session.scalar(select(Agency).where(Agency.ref == ref))


async def refs_of(session: AsyncSession, model: type[Record], ids: list[int]) -> dict[int, str]:
    rows = await session.execute(select(model.id, model.ref).where(model.id.in_(ids)))
    return dict(rows.all())


async def children_of_placement(session: AsyncSession, placement_id: int) -> list[Child]:
    return list(
        await session.scalars(
            select(Child)
            .join(Placement, Placement.sibling_group_id == Child.sibling_group_id)
            .where(Placement.id == placement_id)
            .order_by(Child.id)
        )
    )


# --- assessments -----------------------------------------------------------------------


async def get_assessment(session: AsyncSession, ref: str, *, for_update: bool = False) -> SupportAssessment:
    query = select(SupportAssessment).where(SupportAssessment.ref == ref)
    if for_update:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"No support assessment {ref}.")
    return found


async def assessments_of_household(session: AsyncSession, household_id: int) -> list[SupportAssessment]:
    return list(
        await session.scalars(
            select(SupportAssessment)
            .where(SupportAssessment.household_id == household_id)
            .order_by(SupportAssessment.id)
        )
    )


async def list_assessments(
    session: AsyncSession, *, agency_ids: list[int] | None, open_only: bool, after_id: int | None, limit: int
) -> list[SupportAssessment]:
    query = select(SupportAssessment)
    if agency_ids is not None:
        query = query.where(SupportAssessment.agency_id.in_(agency_ids))
    if open_only:
        query = query.where(SupportAssessment.outcome.is_(None))
    if after_id is not None:
        query = query.where(SupportAssessment.id > after_id)
    return list(await session.scalars(query.order_by(SupportAssessment.id).limit(limit)))


async def agency_ids_acting_as(session: AsyncSession, agency_ref: str) -> list[int]:
    """The agency and, for an RAA, the local authorities it acts for."""
    rows = await session.scalars(
        select(Agency.id)
        .outerjoin(Raa, Raa.id == Agency.parent_raa_id)
        .where((Agency.ref == agency_ref) | (Raa.ref == agency_ref))
    )
    return list(rows)


# --- the fund ---------------------------------------------------------------------------


async def limits_for(session: AsyncSession, year: int, *, for_update: bool = False) -> AsfLimits | None:
    query = select(AsfLimits).where(AsfLimits.financial_year == year)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def all_limits(session: AsyncSession) -> list[AsfLimits]:
    return list(await session.scalars(select(AsfLimits).order_by(AsfLimits.financial_year)))


async def year_has_lines(session: AsyncSession, year: int) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(AsfLine).where(AsfLine.financial_year == year)))


async def lock_allowances(session: AsyncSession, child_id: int, year: int, limits: dict[str, int]) -> dict[str, int]:
    """What the child has used of each capped allowance this year, with the rows locked until
    the transaction ends: a parallel application for the same child waits here, then reads
    what this one used."""
    await session.execute(
        insert(AsfAllowance)
        .values(
            [
                {"child_id": child_id, "financial_year": year, "allowance": allowance, "limit_pence": limit}
                for allowance, limit in limits.items()
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = await session.execute(
        select(AsfAllowance.allowance, AsfAllowance.used_pence)
        .where(AsfAllowance.child_id == child_id, AsfAllowance.financial_year == year)
        .order_by(AsfAllowance.allowance)
        .with_for_update()
    )
    return dict(rows.all())


async def use_allowance(session: AsyncSession, child_id: int, year: int, allowance: str, pence: int) -> None:
    await session.execute(
        update(AsfAllowance)
        .where(
            AsfAllowance.child_id == child_id,
            AsfAllowance.financial_year == year,
            AsfAllowance.allowance == allowance,
        )
        .values(used_pence=AsfAllowance.used_pence + pence)
    )


async def get_application(session: AsyncSession, ref: str) -> AsfApplication:
    found = await session.scalar(select(AsfApplication).where(AsfApplication.ref == ref))
    if found is None:
        raise NotFound(f"No ASF application {ref}.")
    return found


async def lines_of(session: AsyncSession, application_ids: list[int]) -> list[AsfLine]:
    return list(
        await session.scalars(select(AsfLine).where(AsfLine.application_id.in_(application_ids)).order_by(AsfLine.id))
    )


async def applications_of_assessments(session: AsyncSession, assessment_ids: list[int]) -> list[AsfApplication]:
    return list(
        await session.scalars(
            select(AsfApplication).where(AsfApplication.assessment_id.in_(assessment_ids)).order_by(AsfApplication.id)
        )
    )


async def child_in_placement(session: AsyncSession, child_ref: str, placement_id: int) -> Child | None:
    return await session.scalar(
        select(Child)
        .join(Placement, Placement.sibling_group_id == Child.sibling_group_id)
        .where(Child.ref == child_ref, Placement.id == placement_id)
    )


# --- budgets ----------------------------------------------------------------------------


async def get_budget(session: AsyncSession, ref: str, *, for_update: bool = False) -> SupportBudget:
    query = select(SupportBudget).where(SupportBudget.ref == ref)
    if for_update:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"No personal budget {ref}.")
    return found


async def budgets_of_household(session: AsyncSession, household_id: int) -> list[SupportBudget]:
    return list(
        await session.scalars(
            select(SupportBudget).where(SupportBudget.household_id == household_id).order_by(SupportBudget.id)
        )
    )


async def budget_lines(session: AsyncSession, budget_ids: list[int]) -> list[SupportBudgetLine]:
    return list(
        await session.scalars(
            select(SupportBudgetLine)
            .where(SupportBudgetLine.budget_id.in_(budget_ids))
            .order_by(SupportBudgetLine.spent_on, SupportBudgetLine.id)
        )
    )


# --- the passport -----------------------------------------------------------------------


async def entitlements(
    session: AsyncSession, *, agency_ids: list[int], national: bool, include_withdrawn: bool = False
) -> list[tuple[PassportEntitlement, str | None]]:
    """National entitlements (if asked) and those of the given authorities, with the
    authority's ref, national ones first."""
    owners: ColumnElement[bool] = PassportEntitlement.agency_id.in_(agency_ids)
    if national:
        owners = owners | PassportEntitlement.agency_id.is_(None)
    query = (
        select(PassportEntitlement, Agency.ref)
        .outerjoin(Agency, Agency.id == PassportEntitlement.agency_id)
        .where(owners)
        .order_by(PassportEntitlement.agency_id.nulls_first(), PassportEntitlement.position, PassportEntitlement.id)
    )
    if not include_withdrawn:
        query = query.where(PassportEntitlement.withdrawn.is_(False))
    return [(e, ref) for e, ref in (await session.execute(query)).all()]


async def get_entitlement(session: AsyncSession, ref: str, *, for_update: bool = False) -> PassportEntitlement:
    query = select(PassportEntitlement).where(PassportEntitlement.ref == ref)
    if for_update:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"No passport entitlement {ref}.")
    return found


# --- breakdowns and their indicator -------------------------------------------------------


async def breakdowns_of_placement(session: AsyncSession, placement_id: int) -> list[AdoptionBreakdown]:
    return list(await session.scalars(select(AdoptionBreakdown).where(AdoptionBreakdown.placement_id == placement_id)))


def placement_endings_sql() -> str:
    """Each placed child with the day their placement ended, if it has: a disruption before
    the adoption order (the placement's `ended_on`) or a breakdown after it (a child's return
    to care, `adoption_breakdowns`). The one place the breakdown indicator reads endings
    from: a new kind of ending (the links work's disruption records) is added here."""
    return """
    SELECT p.id AS placement_id, c.id AS child_id, g.la_id, p.placed_on,
           LEAST(p.ended_on, b.returned_to_care_on) AS ended_on
    FROM placements p
    JOIN sibling_groups g ON g.id = p.sibling_group_id
    JOIN children c ON c.sibling_group_id = g.id
    LEFT JOIN adoption_breakdowns b ON b.placement_id = p.id AND b.child_id = c.id
    """


# For each horizon (1, 2, 5 years), the children whose placement's anniversary at that horizon
# falls in the period, and how many of them had seen the placement end by then: each share
# is of children followed for the whole horizon, so recent placements do not flatter it.
BREAKDOWN_SQL = """
WITH endings AS ({endings}),
horizons AS (SELECT unnest(ARRAY[1, 2, 5]) AS years),
cohort AS (
    SELECT e.*, h.years, (e.placed_on + make_interval(years => h.years))::date AS anniversary
    FROM endings e CROSS JOIN horizons h
)
SELECT raa.ref AS raa_ref, la.ref AS la_ref, GROUPING(raa.ref) AS no_raa, GROUPING(la.ref) AS no_la,
       count(*) FILTER (WHERE years = 1) AS children_1,
       count(*) FILTER (WHERE years = 1 AND ended_on < anniversary) AS ended_1,
       count(*) FILTER (WHERE years = 2) AS children_2,
       count(*) FILTER (WHERE years = 2 AND ended_on < anniversary) AS ended_2,
       count(*) FILTER (WHERE years = 5) AS children_5,
       count(*) FILTER (WHERE years = 5 AND ended_on < anniversary) AS ended_5
FROM cohort
JOIN agencies la ON la.id = cohort.la_id
JOIN agencies raa ON raa.id = la.parent_raa_id
WHERE anniversary BETWEEN CAST(:start AS date) AND CAST(:end AS date)
GROUP BY GROUPING SETS ((), (raa.ref), (raa.ref, la.ref))
"""


async def breakdown_counts(session: AsyncSession, start: date, end: date) -> list[dict]:
    rows = await session.execute(
        text(BREAKDOWN_SQL.format(endings=placement_endings_sql())), {"start": start, "end": end}
    )
    return [r._asdict() for r in rows]


# --- reports ----------------------------------------------------------------------------

ASF_REPORT_SQL = """
WITH lines AS (
    SELECT a.agency_id, a.financial_year, a.id AS application_id, a.child_id, a.assessment_id,
           l.payer, l.allowance, l.amount_pence
    FROM asf_applications a JOIN asf_lines l ON l.application_id = a.id
    WHERE (CAST(:year AS integer) IS NULL OR a.financial_year = CAST(:year AS integer))
),
per_application AS (
    SELECT agency_id, financial_year, application_id, child_id, assessment_id,
           sum(amount_pence) FILTER (WHERE payer = 'fund') AS fund_pence,
           sum(amount_pence) FILTER (WHERE payer = 'authority') AS authority_pence,
           sum(amount_pence) FILTER (WHERE allowance = 'match_funding') AS matched_pence,
           sum(amount_pence) AS total_pence
    FROM lines GROUP BY agency_id, financial_year, application_id, child_id, assessment_id
),
live AS (SELECT * FROM per_application WHERE total_pence > 0)  -- fully reversed ones do not count
SELECT ag.ref AS agency_ref, ag.name AS agency_name, ag.region, GROUPING(ag.ref) AS all_agencies,
       live.financial_year,
       count(*) AS applications,
       count(DISTINCT live.child_id) AS children,
       count(DISTINCT s.household_id) AS families,
       coalesce(sum(fund_pence), 0) AS fund_pence,
       coalesce(sum(authority_pence), 0) AS authority_pence,
       count(*) FILTER (WHERE matched_pence > 0) AS match_funded_applications
FROM live
JOIN agencies ag ON ag.id = live.agency_id
JOIN support_assessments s ON s.id = live.assessment_id
GROUP BY GROUPING SETS ((live.financial_year), (ag.ref, ag.name, ag.region, live.financial_year))
ORDER BY live.financial_year, GROUPING(ag.ref) DESC, ag.ref
"""

ASSESSMENT_TIMES_SQL = """
WITH decided AS (
    SELECT agency_id, days_to_outcome,
           CASE WHEN extract(month FROM outcome_on) >= 4 THEN extract(year FROM outcome_on)
                ELSE extract(year FROM outcome_on) - 1 END::int AS financial_year
    FROM support_assessments WHERE outcome_on IS NOT NULL
)
SELECT ag.ref AS agency_ref, GROUPING(ag.ref) AS all_agencies, d.financial_year,
       count(*) AS assessments, avg(d.days_to_outcome) AS mean_days_to_outcome
FROM decided d JOIN agencies ag ON ag.id = d.agency_id
GROUP BY GROUPING SETS ((d.financial_year), (ag.ref, d.financial_year))
"""


async def asf_report(session: AsyncSession, year: int | None) -> list[dict]:
    return [r._asdict() for r in await session.execute(text(ASF_REPORT_SQL), {"year": year})]


async def assessment_times(session: AsyncSession) -> list[dict]:
    return [r._asdict() for r in await session.execute(text(ASSESSMENT_TIMES_SQL))]


async def spend_by_region(session: AsyncSession, year: int) -> list[tuple[str, int, int]]:
    """(region, children, pence the fund paid) for one financial year, every region listed."""
    rows = await session.execute(
        text(
            "SELECT ag.region::text, count(DISTINCT a.child_id) FILTER (WHERE l.amount_pence IS NOT NULL), "
            "coalesce(sum(l.amount_pence) FILTER (WHERE l.payer = 'fund'), 0) "
            "FROM asf_applications a JOIN asf_lines l ON l.application_id = a.id "
            "JOIN agencies ag ON ag.id = a.agency_id WHERE a.financial_year = :year "
            "GROUP BY ag.region ORDER BY ag.region"
        ),
        {"year": year},
    )
    return [(region, int(children), int(pence)) for region, children, pence in rows.all()]


async def child_by_ref(session: AsyncSession, ref: str) -> Child | None:
    return await session.scalar(select(Child).where(Child.ref == ref))


async def current_placement_of_child(session: AsyncSession, child_id: int) -> int | None:
    return await session.scalar(
        select(Placement.id)
        .join(Child, Child.sibling_group_id == Placement.sibling_group_id)
        .where(Child.id == child_id, Placement.ended_on.is_(None))
        .order_by(Placement.placed_on.desc())
        .limit(1)
    )


async def allowances_used(session: AsyncSession, child_id: int, year: int) -> dict[str, int]:
    rows = await session.execute(
        select(AsfAllowance.allowance, AsfAllowance.used_pence).where(
            AsfAllowance.child_id == child_id, AsfAllowance.financial_year == year
        )
    )
    return dict(rows.all())


async def agency_refs(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    return await refs_of(session, Agency, ids)


# --- the synthetic register ------------------------------------------------------------------

SEED_CANDIDATES_SQL = """
SELECT p.id AS placement_id, p.household_id, g.la_id, ap.id AS approving_id, ap.kind::text AS approving_kind,
       p.placed_on, p.adoption_order_on, array_agg(c.id ORDER BY c.id) AS child_ids
FROM placements p
JOIN sibling_groups g ON g.id = p.sibling_group_id
JOIN children c ON c.sibling_group_id = g.id
JOIN households h ON h.id = p.household_id
JOIN agencies ap ON ap.id = h.approving_agency_id
WHERE p.ended_on IS NULL
GROUP BY p.id, g.la_id, ap.id
ORDER BY p.id
"""


async def seed_candidates(session: AsyncSession) -> list[dict]:
    """Every current placement with what the synthetic support needs (loading only)."""
    return [r._asdict() for r in await session.execute(text(SEED_CANDIDATES_SQL))]
