"""The Inter-agency Fee Fund's eligibility and claim: pure functions."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.register.fees.calculation import ChildAtPlacement, IffTerms, harder_to_place, iff_claim, quarter_of

TERMS = IffTerms(5, 18, True, True, True, (1, 1), None)
PLACED = date(2025, 6, 1)


def child(**kw) -> ChildAtPlacement:
    values = {
        "date_of_birth": date(2022, 6, 1),
        "entered_care_on": date(2024, 6, 1),
        "disabled": False,
        "minority_ethnic": False,
    } | kw
    return ChildAtPlacement(**values)


def test_each_criterion_at_the_placement_day():
    assert harder_to_place(TERMS, [child()], PLACED) == []
    assert harder_to_place(TERMS, [child(date_of_birth=date(2020, 6, 1))], PLACED) == ["aged 5+"]
    assert harder_to_place(TERMS, [child(date_of_birth=date(2020, 6, 2))], PLACED) == []  # 5 tomorrow
    assert harder_to_place(TERMS, [child(disabled=True)], PLACED) == ["disabled"]
    assert harder_to_place(TERMS, [child(minority_ethnic=True)], PLACED) == ["minority ethnic"]
    assert harder_to_place(TERMS, [child(), child()], PLACED) == ["sibling group"]
    assert harder_to_place(TERMS, [child(entered_care_on=date(2023, 12, 1))], PLACED) == ["waited 18+ months"]
    assert harder_to_place(TERMS, [child(entered_care_on=date(2023, 12, 2))], PLACED) == []


def test_quarters_of_the_financial_year():
    assert [quarter_of(date(2025, m, 1)) for m in (4, 6, 7, 9, 10, 12, 1, 3)] == [1, 1, 2, 2, 3, 3, 4, 4]


@given(
    fee=st.integers(0, 10**9),
    num=st.integers(0, 10),
    den=st.integers(1, 10),
    cap=st.none() | st.integers(1, 10**8),
    children=st.integers(1, 6),
)
def test_a_claim_is_never_more_than_the_fee_nor_the_cap(fee, num, den, cap, children):
    terms = IffTerms(5, 18, True, True, True, (min(num, den), den), cap)
    claim = iff_claim(terms, fee, children)
    assert 0 <= claim <= fee and (cap is None or claim <= cap * children)
