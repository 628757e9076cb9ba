"""The fund's allocation and the responsible authority, as pure functions."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.register.support.rules import FundRules, LimitExceeded, allocate, responsible_authority
from services.register.support.vocabulary import Allowance, AsfCategory, MatchFundingCriterion, Payer

RULES_2017 = FundRules(2017, 500_000, 250_000, True, (1, 2))
RULES_2025 = FundRules(2025, 300_000, None, False, (1, 2))
CRITERION = MatchFundingCriterion.NO_AFFORDABLE_LOCAL_PROVISION


def test_placing_authority_for_three_years_after_the_order_then_the_familys():
    def who(on: date, family: int | None = 2) -> int:
        return responsible_authority(
            placing_authority_id=1, family_authority_id=family, adoption_order_on=date(2020, 2, 29), on=on
        ).agency_id

    assert who(date(2019, 1, 1)) == 1
    assert who(date(2023, 2, 27)) == 1
    assert who(date(2023, 2, 28)) == 2  # the third anniversary of a 29 February order
    assert who(date(2030, 1, 1), family=None) == 1  # a voluntary agency's family: no authority held
    assert responsible_authority(
        placing_authority_id=1, family_authority_id=2, adoption_order_on=None, on=date(2030, 1, 1)
    ).basis.startswith("placing authority")


def test_a_specialist_assessment_spills_into_the_fair_access_limit_then_match_funding():
    shares = allocate(
        RULES_2017, AsfCategory.SPECIALIST_ASSESSMENT, 300_000, {Allowance.FAIR_ACCESS: 480_000}, CRITERION
    )
    assert shares == [
        type(shares[0])(Allowance.SPECIALIST_ASSESSMENT, Payer.FUND, 250_000),
        type(shares[0])(Allowance.FAIR_ACCESS, Payer.FUND, 20_000),
        type(shares[0])(Allowance.MATCH_FUNDING, Payer.FUND, 15_000),
        type(shares[0])(Allowance.MATCH_FUNDING, Payer.AUTHORITY, 15_000),
    ]


def test_no_match_funding_from_2025_and_none_without_a_criterion():
    with pytest.raises(LimitExceeded) as refused:
        allocate(RULES_2025, AsfCategory.THERAPY, 300_001, {}, CRITERION)
    assert refused.value.remaining == {"fair_access": 300_000}
    with pytest.raises(LimitExceeded):
        allocate(RULES_2017, AsfCategory.THERAPY, 500_001, {}, None)
    uneven = FundRules(2017, 500_000, 250_000, True, (2, 3))
    shares = allocate(uneven, AsfCategory.THERAPY, 800_000, {}, CRITERION)
    assert [(s.payer, s.amount_pence) for s in shares if s.allowance is Allowance.MATCH_FUNDING] == [
        (Payer.FUND, 200_000),
        (Payer.AUTHORITY, 100_000),
    ]


@given(
    amount=st.integers(1, 2_000_000),
    used_fair=st.integers(0, 500_000),
    used_assessment=st.integers(0, 250_000),
    category=st.sampled_from(AsfCategory),
    year=st.sampled_from([RULES_2017, RULES_2025]),
)
def test_shares_add_up_and_never_exceed_a_limit(amount, used_fair, used_assessment, category, year):
    spent = {Allowance.FAIR_ACCESS: min(used_fair, year.fair_access_pence)}
    if year.specialist_assessment_pence:
        spent[Allowance.SPECIALIST_ASSESSMENT] = used_assessment
    try:
        shares = allocate(year, category, amount, spent, CRITERION)
    except LimitExceeded:
        left = year.fair_access_pence - spent[Allowance.FAIR_ACCESS]
        if category is AsfCategory.SPECIALIST_ASSESSMENT and year.specialist_assessment_pence:
            left += year.specialist_assessment_pence - used_assessment
        assert not year.match_funding and amount > left
        return
    assert sum(s.amount_pence for s in shares) == amount and all(s.amount_pence > 0 for s in shares)
    for allowance in (Allowance.FAIR_ACCESS, Allowance.SPECIALIST_ASSESSMENT):
        used = spent.get(allowance, 0) + sum(s.amount_pence for s in shares if s.allowance is allowance)
        assert used <= year.limit(allowance)
    assert all(s.payer is Payer.FUND for s in shares if s.allowance is not Allowance.MATCH_FUNDING)
