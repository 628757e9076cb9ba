"""All SQL of the scorecards: one query per indicator family, grouped for the nation,
every RAA and every local authority at once (GROUPING SETS), never a query per child."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.vocabulary import DISABILITY_THRESHOLD, Ethnicity

# As the DfE counts them: each child ADOPTED in the period (adoption order made), through
# the placement that led to the order (a disrupted placement's child counts when finally
# adopted). A1 = entering care to moving in; A2 = authority to place (placement order, or
# the "should be placed" decision) to the agency decision maker's match decision on the
# link, zero where the decision came first; A3 = moved in within 14 months of entering care.
TIMELINESS_SQL = """
SELECT raa.ref AS raa_ref, la.ref AS la_ref, GROUPING(raa.ref) AS no_raa, GROUPING(la.ref) AS no_la,
       count(*) AS placed,
       avg(p.placed_on - c.entered_care_on) AS a1_days,
       count(l.decided_on) AS a2_children,
       avg(greatest(l.decided_on - c.waiting_since, 0)) AS a2_days,
       100.0 * avg((p.placed_on <= c.entered_care_on + interval '14 months')::int) AS a3_percent
FROM placements p
JOIN links l ON l.placement_id = p.id
JOIN sibling_groups g ON g.id = p.sibling_group_id
JOIN children c ON c.sibling_group_id = g.id
JOIN agencies la ON la.id = g.la_id
JOIN agencies raa ON raa.id = la.parent_raa_id
WHERE p.adoption_order_on BETWEEN CAST(:start AS date) AND CAST(:end AS date)
GROUP BY GROUPING SETS ((), (raa.ref), (raa.ref, la.ref))
"""

# Children waiting on a day: authority to place by then, and not living with a family then
# (a disrupted placement's child waits again).
STOCK_SQL = """
WITH waiting AS (
    SELECT c.*, la.ref AS la_ref, raa.ref AS raa_ref, CAST(:as_of AS date) - c.waiting_since AS waited,
           (SELECT count(*) FROM children s WHERE s.sibling_group_id = c.sibling_group_id) AS group_size
    FROM children c
    JOIN sibling_groups g ON g.id = c.sibling_group_id
    JOIN agencies la ON la.id = g.la_id
    JOIN agencies raa ON raa.id = la.parent_raa_id
    WHERE c.waiting_since <= CAST(:as_of AS date)
      AND g.status <> 'withdrawn'
      AND NOT EXISTS (SELECT 1 FROM placements p
                      WHERE p.sibling_group_id = g.id AND p.placed_on <= CAST(:as_of AS date)
                        AND (p.ended_on IS NULL OR p.ended_on > CAST(:as_of AS date)))
)
SELECT raa_ref, la_ref, GROUPING(raa_ref) AS no_raa, GROUPING(la_ref) AS no_la,
       count(*) AS children,
       count(*) FILTER (WHERE waited < 183) AS under_6_months,
       count(*) FILTER (WHERE waited >= 183 AND waited < 365) AS from_6_to_12_months,
       count(*) FILTER (WHERE waited >= 365 AND waited < 548) AS from_12_to_18_months,
       count(*) FILTER (WHERE waited >= 548) AS over_18_months,
       100.0 * avg((group_size > 1)::int) AS sibling_groups_percent,
       100.0 * avg((date_of_birth <= CAST(:as_of AS date) - interval '5 years')::int) AS five_plus_percent,
       100.0 * avg((greatest(need_physical_disability, need_learning_disability) >= :disabled)::int)
           AS disabled_percent,
       100.0 * avg((ethnicity <> :majority)::int) AS minority_ethnic_percent
FROM waiting
GROUP BY GROUPING SETS ((), (raa_ref), (raa_ref, la_ref))
"""


@dataclass(frozen=True)
class Key:
    level: str  # national, raa, la
    agency_ref: str | None


def _key(row) -> Key:
    if row.no_raa:
        return Key("national", None)
    return Key("raa", row.raa_ref) if row.no_la else Key("la", row.la_ref)


async def timeliness(session: AsyncSession, start: date, end: date) -> dict[Key, dict]:
    rows = await session.execute(text(TIMELINESS_SQL), {"start": start, "end": end})
    return {_key(r): r._asdict() for r in rows}


async def stock(session: AsyncSession, as_of: date) -> dict[Key, dict]:
    rows = await session.execute(
        text(STOCK_SQL),
        {"as_of": as_of, "disabled": int(DISABILITY_THRESHOLD), "majority": Ethnicity.WHITE_BRITISH.value},
    )
    return {_key(r): r._asdict() for r in rows}


async def agencies(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(level, ref, name) of every RAA and LA, so an agency with no children still shows."""
    rows = await session.execute(text("SELECT kind, ref, name FROM agencies WHERE kind IN ('raa', 'la') ORDER BY ref"))
    return [(str(kind), ref, name) for kind, ref, name in rows]


async def parents(session: AsyncSession) -> dict[str, str]:
    """The RAA of every LA: an RAA's figures are the sum of its LAs', the nation's of its RAAs'."""
    rows = await session.execute(
        text(
            "SELECT la.ref, raa.ref FROM agencies la JOIN agencies raa ON raa.id = la.parent_raa_id "
            "WHERE la.kind = 'la'"
        )
    )
    return {str(la): str(raa) for la, raa in rows}


async def thresholds(session: AsyncSession, year: int) -> dict[str, tuple[float, str]]:
    """Per indicator, the threshold of the latest year up to `year` that sets one."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT ON (indicator) indicator, threshold, direction FROM scorecard_thresholds "
            "WHERE financial_year <= :year ORDER BY indicator, financial_year DESC"
        ),
        {"year": year},
    )
    return {indicator: (float(threshold), direction) for indicator, threshold, direction in rows}
