"""The rules of adoption support as pure functions: who is responsible for a family, and
how an Adoption Support Fund application is paid. No database, no HTTP: tested directly.

Sources (shared/design/domain.md): Adoption Support Services Regulations 2005 for the
responsible authority; the minister's letter of 25 January 2017 and the 2025 changes for
the fund. The amounts are data per financial year (table `asf_limits`), never literals here.
"""

from dataclasses import dataclass
from datetime import date

from services.register.ages import years_ago
from services.register.support.vocabulary import Allowance, AsfCategory, MatchFundingCriterion, Payer

# The placing authority stays responsible for this many years after the adoption order
# (Adoption Support Services Regulations 2005); a rule of law, not a setting.
PLACING_AUTHORITY_YEARS = 3


@dataclass(frozen=True)
class Responsibility:
    agency_id: int
    basis: str


def responsible_authority(
    *, placing_authority_id: int, family_authority_id: int | None, adoption_order_on: date | None, on: date
) -> Responsibility:
    """The authority that must assess and support the family on a given day.

    Before the order and for three years after it: the placing authority (the child's local
    authority). Then the authority where the family lives. The register does not hold a
    family's local authority: the best it holds is the agency that approved the household
    (a local authority, or an RAA acting for its authorities). A family approved by a
    voluntary agency has no authority in the register, so the placing authority stays
    responsible and the basis says why.
    """
    if adoption_order_on is None:
        return Responsibility(placing_authority_id, "placing authority: no adoption order yet")
    handover = years_ago(adoption_order_on, -PLACING_AUTHORITY_YEARS)  # the anniversary
    if on < handover:
        return Responsibility(
            placing_authority_id, f"placing authority: within {PLACING_AUTHORITY_YEARS} years of the adoption order"
        )
    if family_authority_id is None:
        return Responsibility(
            placing_authority_id,
            "placing authority: the family's own authority is not held (approved by a voluntary agency)",
        )
    return Responsibility(
        family_authority_id,
        f"family's authority (the household's approving agency, the best the register holds): "
        f"more than {PLACING_AUTHORITY_YEARS} years after the adoption order",
    )


@dataclass(frozen=True)
class FundRules:
    """One financial year's fund rules (a row of `asf_limits`)."""

    financial_year: int
    fair_access_pence: int
    # None: specialist assessments come out of the fair-access limit (from April 2025).
    specialist_assessment_pence: int | None
    match_funding: bool
    fund_share: tuple[int, int]  # the fund's share of match-funded excess, as num/den

    def limit(self, allowance: Allowance) -> int:
        if allowance is Allowance.SPECIALIST_ASSESSMENT:
            return self.specialist_assessment_pence or 0
        return self.fair_access_pence


@dataclass(frozen=True)
class Share:
    allowance: Allowance
    payer: Payer
    amount_pence: int


class LimitExceeded(Exception):
    def __init__(self, reason: str, remaining: dict[str, int]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.remaining = remaining


def remaining(rules: FundRules, spent: dict[Allowance, int]) -> dict[str, int]:
    allowances = [Allowance.FAIR_ACCESS]
    if rules.specialist_assessment_pence is not None:
        allowances.append(Allowance.SPECIALIST_ASSESSMENT)
    return {a.value: max(rules.limit(a) - spent.get(a, 0), 0) for a in allowances}


def allocate(
    rules: FundRules,
    category: AsfCategory,
    amount_pence: int,
    spent: dict[Allowance, int],
    criterion: MatchFundingCriterion | None,
) -> list[Share]:
    """How an application of `amount_pence` is paid, line by line, given what the child has
    already used this year; raises LimitExceeded when the fund cannot pay it.

    A specialist assessment first uses its own allowance (in the years with one), then the
    fair-access limit. Whatever the limit leaves over is match-funded, only in a year that
    allows it and only on a recorded criterion: the fund pays its share (rounded down to
    the penny) and the authority the rest.
    """
    if amount_pence <= 0:
        raise ValueError("an application is for a positive amount")
    left = remaining(rules, spent)
    shares: list[Share] = []
    rest = amount_pence
    order = [Allowance.FAIR_ACCESS]
    if category is AsfCategory.SPECIALIST_ASSESSMENT and rules.specialist_assessment_pence is not None:
        order.insert(0, Allowance.SPECIALIST_ASSESSMENT)
    for allowance in order:
        take = min(rest, left[allowance.value])
        if take:
            shares.append(Share(allowance, Payer.FUND, take))
            rest -= take
    if rest == 0:
        return shares
    if not rules.match_funding:
        raise LimitExceeded(
            f"The application is £{rest / 100:,.2f} above the child's remaining limit for "
            f"{rules.financial_year}/{(rules.financial_year + 1) % 100:02d}, and that year has no match funding.",
            left,
        )
    if criterion is None:
        raise LimitExceeded(
            f"The application is £{rest / 100:,.2f} above the child's remaining limit: match funding "
            "needs one of the four criteria (match_funding_criterion).",
            left,
        )
    num, den = rules.fund_share
    fund = rest * num // den
    shares.append(Share(Allowance.MATCH_FUNDING, Payer.FUND, fund))
    if rest - fund:
        shares.append(Share(Allowance.MATCH_FUNDING, Payer.AUTHORITY, rest - fund))
    return [s for s in shares if s.amount_pence]
