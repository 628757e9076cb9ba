"""The timeliness scorecard (definitions: shared/design/domain.md): A1, A2, A3 and the
waiting stock, for the nation, every RAA and every local authority, over a rolling three
years or a financial year, each figure judged against its threshold and suppressed when
computed from fewer children than the configured minimum."""

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.register.ages import years_ago
from services.register.fees.calculation import financial_year
from services.register.scorecards import repository
from services.register.scorecards.repository import Key
from services.register.scorecards.schemas import Breakdowns, Figure, Scorecard, WaitingStock
from services.register.support import service as support

ROLLING_YEARS = 3
BANDS = (
    ("under 6 months", "under_6_months"),
    ("6 to 12 months", "from_6_to_12_months"),
    ("12 to 18 months", "from_12_to_18_months"),
    ("18 months or more", "over_18_months"),
)


def period_of(year: int | None, today: date) -> tuple[str, date, date]:
    if year is None:
        return "rolling_three_years", years_ago(today, ROLLING_YEARS) + timedelta(days=1), today
    return "financial_year", date(year, 4, 1), min(date(year + 1, 3, 31), today)


def figure(value: float | None, children: int, minimum: int, threshold: tuple[float, str] | None) -> Figure:
    if children < minimum:  # none at all is shown as such; a few are hidden
        return Figure(value=None, children=children, suppressed=children > 0)
    shown = None if value is None else round(float(value), 1)
    meets = None
    if threshold is not None and shown is not None:
        limit, direction = threshold
        meets = shown <= limit if direction == "at_most" else shown >= limit
    return Figure(
        value=shown,
        children=children,
        suppressed=False,
        threshold=threshold[0] if threshold else None,
        meets_threshold=meets,
    )


def shown_count(count: int, minimum: int) -> bool:
    return count == 0 or count >= minimum


def share(percent: float | None, of: int, minimum: int) -> float | None:
    """A percentage only where the counts behind it, those with and those without, are shown:
    7.7% of 13 is one child."""
    if percent is None:
        return None
    count = round(float(percent) * of / 100)
    return round(float(percent), 1) if shown_count(count, minimum) and shown_count(of - count, minimum) else None


BREAKDOWN_HORIZONS = (
    (1, "ended_within_1_year_percent"),
    (2, "ended_within_2_years_percent"),
    (5, "ended_within_5_years_percent"),
)


def breakdowns(row: dict | None, minimum: int) -> Breakdowns:
    figures = {}
    for years, name in BREAKDOWN_HORIZONS:
        children = int(row[f"children_{years}"]) if row else 0
        ended = int(row[f"ended_{years}"]) if row else 0
        figures[name] = figure(100 * ended / children if children else None, children, minimum, None)
    return Breakdowns(**figures)


def waiting_stock(row: dict | None, as_of: date, minimum: int) -> WaitingStock:
    n = int(row["children"]) if row else 0
    if n < minimum:
        return WaitingStock(
            as_of=as_of,
            children=None if n else 0,
            suppressed=n > 0,
            days_waited={label: None if n else 0 for label, _ in BANDS},
            sibling_groups_percent=None,
            aged_five_plus_percent=None,
            disabled_percent=None,
            minority_ethnic_percent=None,
        )
    assert row is not None  # n > 0 came from it

    counts = {label: int(row[column]) for label, column in BANDS}
    return WaitingStock(
        as_of=as_of,
        children=n,
        suppressed=False,
        days_waited={label: (c if shown_count(c, minimum) else None) for label, c in counts.items()},
        sibling_groups_percent=share(row["sibling_groups_percent"], n, minimum),
        aged_five_plus_percent=share(row["five_plus_percent"], n, minimum),
        disabled_percent=share(row["disabled_percent"], n, minimum),
        minority_ethnic_percent=share(row["minority_ethnic_percent"], n, minimum),
    )


# A cell of the published tables: (level, agency ref, which count).
Cell = tuple[Key, str]
FIGURES = ("a1_days_care_to_placement", "a2_days_authority_to_match", "a3_percent_placed_within_14_months")


def _counts(card: Scorecard, raw_waiting: dict | None) -> dict[str, tuple[int, bool]]:
    """Each additive count of a card, and whether primary suppression hid it."""
    figures = [getattr(card, name) for name in FIGURES]
    cells = {name: (f.children, f.suppressed and f.children > 0) for name, f in zip(FIGURES, figures, strict=True)}
    n = int(raw_waiting["children"]) if raw_waiting else 0
    cells["waiting"] = (n, card.waiting.suppressed)
    for label, column in BANDS:
        count = int(raw_waiting[column]) if raw_waiting else 0
        cells[label] = (count, card.waiting.days_waited[label] is None and count > 0)
    return cells


def secondary_suppression(
    cards: dict[Key, Scorecard], stock: dict[Key, dict], parents: dict[str, str]
) -> dict[Key, set[str]]:
    """Hides more cells until no hidden one can be worked out from a total: in every group
    that adds up (a card's waiting bands to its total; the LAs of an RAA to the RAA, the
    RAAs to the nation, count by count, and so mean by mean), one hidden cell alone is
    joined by the smallest shown one. Returns the cells to hide, per card."""
    counts = {key: _counts(card, stock.get(key)) for key, card in cards.items()}
    hidden = {(key, name) for key, cells in counts.items() for name, (_, h) in cells.items() if h}
    groups: list[tuple[Cell, list[Cell]]] = [((key, "waiting"), [(key, label) for label, _ in BANDS]) for key in counts]
    children: dict[Key, list[Key]] = {}
    for key in counts:
        if key.level == "raa":
            children.setdefault(Key("national", None), []).append(key)
        elif key.level == "la" and key.agency_ref in parents:
            children.setdefault(Key("raa", parents[key.agency_ref]), []).append(key)
    for parent, kids in children.items():
        if parent in counts:
            for name in counts[parent]:
                groups.append(((parent, name), [(kid, name) for kid in kids]))

    def count(cell: Cell) -> int:
        return counts[cell[0]][cell[1]][0]

    changed = True
    while changed:
        changed = False
        for total, members in groups:
            if sum(cell in hidden for cell in (total, *members)) != 1:
                continue
            shown = sorted((c for c in members if c not in hidden and count(c) > 0), key=count)
            extra = shown[0] if shown else total if total not in hidden and count(total) > 0 else None
            if extra is not None:
                hidden.add(extra)
                changed = True
    result: dict[Key, set[str]] = {}
    for key, name in hidden:
        result.setdefault(key, set()).add(name)
    return result


def _hide(card: Scorecard, names: set[str]) -> None:
    for name in FIGURES:
        if name in names and not getattr(card, name).suppressed:
            setattr(card, name, Figure(value=None, children=getattr(card, name).children, suppressed=True))
    w = card.waiting
    if "waiting" in names:
        w.children, w.suppressed = None, True
        w.sibling_groups_percent = w.aged_five_plus_percent = w.disabled_percent = w.minority_ethnic_percent = None
    w.days_waited = {label: None if label in names else value for label, value in w.days_waited.items()}


async def scorecards(
    session: AsyncSession, *, today: date, year: int | None, level: str | None, agency_ref: str | None, minimum: int
) -> list[Scorecard]:
    period, start, end = period_of(year, today)
    timely = await repository.timeliness(session, start, end)
    stock = await repository.stock(session, end)
    limits = await repository.thresholds(session, year if year is not None else financial_year(end))
    endings = await support.breakdown_counts(session, start, end)
    keys = [(Key("national", None), None)] + [
        (Key(kind, ref), name) for kind, ref, name in await repository.agencies(session)
    ]
    # Every card is built and protected together (a cell may be hidden because of another
    # agency's), then only the ones asked for are returned.
    cards: dict[Key, Scorecard] = {}
    for key, name in keys:
        row = timely.get(key) or {}
        placed = int(row.get("placed", 0))
        a3 = figure(row.get("a3_percent"), placed, minimum, limits.get("A3"))
        if a3.value is not None and share(a3.value, placed, minimum) is None:
            a3 = Figure(value=None, children=placed, suppressed=True)
        cards[key] = Scorecard(
            level=key.level,
            agency_ref=key.agency_ref,
            agency_name=name,
            period=period,
            period_start=start,
            period_end=end,
            a1_days_care_to_placement=figure(row.get("a1_days"), placed, minimum, limits.get("A1")),
            a2_days_authority_to_match=figure(
                row.get("a2_days"), int(row.get("a2_children", 0)), minimum, limits.get("A2")
            ),
            a3_percent_placed_within_14_months=a3,
            waiting=waiting_stock(stock.get(key), end, minimum),
            breakdowns=breakdowns(endings.get(key), minimum),
        )
    for key, names in secondary_suppression(cards, stock, await repository.parents(session)).items():
        _hide(cards[key], names)
    return [
        card
        for key, card in cards.items()
        if not (level and key.level != level) and not (agency_ref and key.agency_ref != agency_ref)
    ]


def flat(card: Scorecard) -> dict[str, object]:
    """One CSV row: the same figures as the JSON, flattened."""
    row: dict[str, object] = {
        "level": card.level,
        "agency_ref": card.agency_ref or "",
        "agency_name": card.agency_name or "",
        "period": card.period,
        "period_start": card.period_start,
        "period_end": card.period_end,
    }
    for name in ("a1_days_care_to_placement", "a2_days_authority_to_match", "a3_percent_placed_within_14_months"):
        f: Figure = getattr(card, name)
        row |= {
            name: f.value,
            f"{name}_children": f.children,
            f"{name}_suppressed": f.suppressed,
            f"{name}_threshold": f.threshold,
            f"{name}_meets_threshold": f.meets_threshold,
        }
    w = card.waiting
    row |= {
        "waiting_children": w.children,
        "waiting_suppressed": w.suppressed,
        **{f"waiting_{label.replace(' ', '_')}": count for label, count in w.days_waited.items()},
        "waiting_sibling_groups_percent": w.sibling_groups_percent,
        "waiting_aged_five_plus_percent": w.aged_five_plus_percent,
        "waiting_disabled_percent": w.disabled_percent,
        "waiting_minority_ethnic_percent": w.minority_ethnic_percent,
    }
    for name, f in card.breakdowns:
        row |= {name: f.value, f"{name}_children": f.children, f"{name}_suppressed": f.suppressed}
    return {k: ("" if v is None else v) for k, v in row.items()}
