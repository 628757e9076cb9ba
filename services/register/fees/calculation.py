"""Where a fee is computed: pure functions of a schedule, a placement's facts and dates.

No database here; the service loads the schedule and stores the lines these return.
"""

from dataclasses import dataclass
from datetime import date

from services.register.vocabulary import AgencyKind, FeeEvent, FeeKind

MONTHS_BEFORE_COMPLETION = 12


@dataclass(frozen=True)
class ScheduleTerms:
    """The amounts of one schedule, in pence; None where the amount is not published."""

    by_group_size: tuple[int | None, int | None, int | None, int | None]  # 1, 2, 3, 4+ children
    placement_share: tuple[int, int]  # numerator, denominator
    monthly_pence: int | None
    charges_monthly: bool = False  # only voluntary agencies' schedules charge the monthly fee
    london_weighting_percent: int = 0  # added to the group fee when the payee is in London


@dataclass(frozen=True)
class DueFee:
    event: FeeEvent
    month: int  # 0 except for monthly fees
    due_on: date
    amount_pence: int | None  # None: the schedule does not set it
    missing: str = ""


def financial_year(on: date) -> int:
    """1 April to 31 March: 1 April 2025 to 31 March 2026 is financial year 2025."""
    return on.year if on.month >= 4 else on.year - 1


def fee_kind(payee_kind: AgencyKind) -> FeeKind:
    return FeeKind.LA_TO_VAA if payee_kind is AgencyKind.VAA else FeeKind.LA_TO_LA


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # the same day, or the month's last
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)


def group_fee(terms: ScheduleTerms, group_size: int, *, in_london: bool = False) -> int | None:
    base = terms.by_group_size[min(group_size, 4) - 1]
    if base is None or not in_london:
        return base
    return base * (100 + terms.london_weighting_percent) // 100  # whole pence, rounded down


def split(total: int, share: tuple[int, int]) -> tuple[int, int]:
    """(at placement, at completion) in whole pence; they always add up to the total."""
    numerator, denominator = share
    first = total * numerator // denominator
    return first, total - first


def due_fees(
    terms: ScheduleTerms,
    *,
    group_size: int,
    placed_on: date,
    adoption_order_on: date | None,
    as_of: date,
    ended_on: date | None = None,
    in_london: bool = False,
) -> list[DueFee]:
    """Every fee event of one cross-agency placement that has fallen due by `as_of`. The
    caller bounds `as_of` (never after today): months not yet begun are never due."""
    total = group_fee(terms, group_size, in_london=in_london)
    not_set = f"the schedule sets no fee for a group of {group_size}" if total is None else ""
    first, rest = split(total, terms.placement_share) if total is not None else (None, None)
    due = [DueFee(FeeEvent.PLACEMENT, 0, placed_on, first, not_set)]
    twelve_months = add_months(placed_on, MONTHS_BEFORE_COMPLETION)
    completion_on = min(d for d in (adoption_order_on, twelve_months) if d is not None)
    numerator, denominator = terms.placement_share
    if numerator < denominator and completion_on <= as_of:
        due.append(DueFee(FeeEvent.COMPLETION, 0, completion_on, rest, not_set))
    month = MONTHS_BEFORE_COMPLETION + 1
    while terms.charges_monthly:
        # The fee for month 13 is due when month 13 begins without an adoption order.
        starts = add_months(placed_on, month - 1)
        if starts > as_of or any(d is not None and d <= starts for d in (adoption_order_on, ended_on)):
            break
        missing = "the schedule sets no monthly fee" if terms.monthly_pence is None else ""
        due.append(DueFee(FeeEvent.MONTHLY, month, starts, terms.monthly_pence, missing))
        month += 1
    return due


@dataclass(frozen=True)
class IffTerms:
    """One year's Inter-agency Fee Fund rules (table `iff_rules`)."""

    min_age_years: int
    min_wait_months: int
    counts_disabled: bool
    counts_sibling_group: bool
    counts_minority_ethnic: bool
    share: tuple[int, int]
    cap_per_child_pence: int | None


@dataclass(frozen=True)
class ChildAtPlacement:
    """What the register knew of one child of the group on the placement day."""

    date_of_birth: date
    entered_care_on: date
    disabled: bool
    minority_ethnic: bool


def years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def harder_to_place(terms: IffTerms, children: list[ChildAtPlacement], placed_on: date) -> list[str]:
    """The criteria the group meets on the placement day (empty: not eligible). A group
    qualifies when any child does (or, for siblings, when placed together)."""
    met = []
    if any(years_between(c.date_of_birth, placed_on) >= terms.min_age_years for c in children):
        met.append(f"aged {terms.min_age_years}+")
    if terms.counts_disabled and any(c.disabled for c in children):
        met.append("disabled")
    if terms.counts_sibling_group and len(children) > 1:
        met.append("sibling group")
    if terms.counts_minority_ethnic and any(c.minority_ethnic for c in children):
        met.append("minority ethnic")
    if any(add_months(c.entered_care_on, terms.min_wait_months) <= placed_on for c in children):
        met.append(f"waited {terms.min_wait_months}+ months")
    return met


def iff_claim(terms: IffTerms, fee_pence: int, children: int) -> int:
    """The claim for one placement: the rule's share of the fee, at most the cap per child."""
    numerator, denominator = terms.share
    claim = fee_pence * numerator // denominator
    if terms.cap_per_child_pence is not None:
        claim = min(claim, terms.cap_per_child_pence * children)
    return max(claim, 0)


def quarter_of(on: date) -> int:
    """Financial-year quarter: 1 = April-June ... 4 = January-March."""
    return (on.month - 4) % 12 // 3 + 1
