"""Scorecards against hand-computed values on a small register."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.refs import new_ref
from services.register.models import Agency, Child, Placement, SiblingGroup
from services.register.vocabulary import AgencyKind, Region
from tests.factories import add_agencies

TODAY = date.today()
NEEDS = {
    f"need_{n}": 0
    for n in (
        "physical_disability",
        "learning_disability",
        "developmental_uncertainty",
        "health_condition",
        "emotional_behavioural",
        "foetal_alcohol_exposure",
        "birth_family_history",
        "contact",
    )
}


async def place(
    session,
    la_id: int,
    raa_id: int,
    household_agency_id: int,
    *,
    entered: date,
    order: date,
    matched: date,
    placed: date,
    disabled: bool = False,
) -> None:
    group = SiblingGroup(ref=new_ref("G"), profile_ref=new_ref("PR"), la_id=la_id, status="placed", matched_on=matched)
    session.add(group)
    await session.flush()
    session.add(_child(group.id, entered=entered, order=order, disabled=disabled))
    session.add(
        Placement(
            ref=new_ref("P"),
            sibling_group_id=group.id,
            household_id=await _household(session),
            child_agency_id=raa_id,
            household_agency_id=household_agency_id,
            placed_on=placed,
        )
    )
    await session.flush()


def _child(
    group_id: int,
    *,
    entered: date,
    order: date,
    born: date | None = None,
    disabled: bool = False,
    ethnicity: str = "white_british",
) -> Child:
    needs = {**NEEDS, "need_physical_disability": 2 if disabled else 0}
    return Child(
        ref=new_ref("C"),
        sibling_group_id=group_id,
        first_name="A",
        surname="B",
        date_of_birth=born or entered - timedelta(days=400),
        sex="female",
        ethnicity=ethnicity,
        religion="none",
        region="north_west",
        latitude=53.4,
        longitude=-2.2,
        entered_care_on=entered,
        placement_order_on=order,
        contact_plan=1,
        **needs,
    )


_HOUSEHOLD: list[int] = []


async def _household(session) -> int:
    from services.register.models import Household
    from tests.factories import household_payload  # a valid household, stored directly

    body = household_payload()
    h = Household(
        ref=new_ref("H"),
        applicant_names=body["applicant_names"],
        approving_agency_id=await session.scalar(select(Agency.id).where(Agency.ref == "RAA-S")),
        approved_on=TODAY - timedelta(days=900),
        approved_children=2,
        age_min_years=0,
        age_max_years=6,
        accepts_sibling_group=True,
        contact_openness=2,
        region="south_west",
        latitude=51.0,
        longitude=-3.0,
        ethnicity="white_british",
        religion="none",
        status="matched",
        **NEEDS,
    )
    session.add(h)
    await session.flush()
    return h.id


@pytest.fixture
async def register(connection):
    ids = await add_agencies(connection)
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        s.add(
            Agency(
                ref="LA-N2",
                name="Quiet LA (test)",
                kind=AgencyKind.LA,
                region=Region.NORTH_WEST,
                parent_raa_id=ids["RAA-N"],
                latitude=53.0,
                longitude=-2.0,
            )
        )
        # Five placed in LA-N1: care to placement 500..540 days; order +100; match at order +200..204.
        north = []
        for k in range(5):
            entered = TODAY - timedelta(days=700 + 10 * k)
            order, placed = entered + timedelta(days=100), entered + timedelta(days=500 + 10 * k)
            matched = order + timedelta(days=200 + k)
            north.append((entered, order, matched, placed))
            await place(
                s,
                ids["LA-N1"],
                ids["RAA-N"],
                ids["RAA-S"],
                entered=entered,
                order=order,
                matched=matched,
                placed=placed,
            )
        # Two in LA-S1, both fast: placed 300 days after entering care.
        south = []
        for k in range(2):
            entered = TODAY - timedelta(days=400 + k)
            order, matched, placed = (
                entered + timedelta(days=50),
                entered + timedelta(days=250),
                entered + timedelta(days=300),
            )
            south.append((entered, order, matched, placed))
            await place(
                s,
                ids["LA-S1"],
                ids["RAA-S"],
                ids["RAA-N"],
                entered=entered,
                order=order,
                matched=matched,
                placed=placed,
            )
        # Waiting in LA-N1: eight singles (one disabled, one minority ethnic, one aged 6) and a pair.
        waits = [30, 100, 200, 300, 400, 600, 10, 20]
        for k, waited in enumerate(waits):
            group = SiblingGroup(ref=new_ref("G"), profile_ref=new_ref("PR"), la_id=ids["LA-N1"], status="waiting")
            s.add(group)
            await s.flush()
            order = TODAY - timedelta(days=waited)
            s.add(
                _child(
                    group.id,
                    entered=order - timedelta(days=60),
                    order=order,
                    disabled=k == 0,
                    ethnicity="black" if k == 1 else "white_british",
                    born=TODAY - timedelta(days=6 * 366) if k == 2 else None,
                )
            )
        pair = SiblingGroup(ref=new_ref("G"), profile_ref=new_ref("PR"), la_id=ids["LA-N1"], status="waiting")
        s.add(pair)
        await s.flush()
        for _ in range(2):
            s.add(_child(pair.id, entered=TODAY - timedelta(days=100), order=TODAY - timedelta(days=50)))
        await s.commit()
    return {"north": north, "south": south}


def mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 1)


async def cards(client, auth, path="/v1/scorecards", **params):
    response = await client.get(path, params=params, headers=auth("scorecards:read"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_national_figures_match_hand_computed_values(client, auth, register):
    everyone = register["north"] + register["south"]
    national = (await cards(client, auth))[0]
    a1, a2, a3 = (
        national["a1_days_care_to_placement"],
        national["a2_days_authority_to_match"],
        national["a3_percent_placed_within_14_months"],
    )
    assert a1["value"] == mean([(p - e).days for e, _, _, p in everyone]) and a1["children"] == 7
    assert a2["value"] == mean([(m - o).days for _, o, m, _ in everyone])
    within = [p <= (e.replace(year=e.year + 1) + timedelta(days=61)) for e, _, _, p in everyone]
    assert a3["value"] == round(100 * sum(within) / 7, 1) and a3["threshold"] is None
    # Judged against the latest published thresholds (A1 426 days, A2 121 days).
    assert (a1["threshold"], a1["meets_threshold"]) == (426.0, a1["value"] <= 426)
    assert (a2["threshold"], a2["meets_threshold"]) == (121.0, False)
    waiting = national["waiting"]
    assert waiting["children"] == 10
    # Under 6 months: 10, 20, 30, 100 and the pair at 50 days; one child at 18+ months is hidden.
    assert waiting["days_waited"] == {
        "under 6 months": 6,
        "6 to 12 months": None,
        "12 to 18 months": None,
        "18 months or more": None,
    }
    assert waiting["sibling_groups_percent"] == 20.0 and waiting["disabled_percent"] == 10.0
    assert waiting["minority_ethnic_percent"] == 10.0 and waiting["aged_five_plus_percent"] == 10.0


async def test_small_numbers_are_suppressed_and_empty_agencies_shown(client, auth, register):
    las = {c["agency_ref"]: c for c in await cards(client, auth, level="la")}
    assert las["LA-N1"]["a1_days_care_to_placement"]["value"] == mean(
        [(p - e).days for e, _, _, p in register["north"]]
    )
    south = las["LA-S1"]["a1_days_care_to_placement"]
    assert south == {"value": None, "children": 2, "suppressed": True, "threshold": None, "meets_threshold": None}
    quiet = las["LA-N2"]
    assert quiet["a1_days_care_to_placement"]["children"] == 0 and not quiet["a1_days_care_to_placement"]["suppressed"]
    assert quiet["waiting"]["children"] == 0
    raas = {c["agency_ref"]: c for c in await cards(client, auth, level="raa")}
    assert raas["RAA-S"]["a2_days_authority_to_match"]["suppressed"] is True
    one = await cards(client, auth, "/v1/scorecards/LA-N1")
    assert [c["level"] for c in one] == ["la", "national"]
    missing = await client.get("/v1/scorecards/LA-NOPE", headers=auth("scorecards:read"))
    assert missing.status_code == 404


async def test_financial_year_and_csv_carry_the_same_figures(client, auth, register):
    year = TODAY.year if TODAY.month >= 4 else TODAY.year - 1
    json_cards = await cards(client, auth, level="la", year=year)
    placed_this_year = [p for *_, p in register["north"] if p >= date(year, 4, 1)]
    assert json_cards[0]["period"] == "financial_year"
    response = await client.get(
        "/v1/scorecards", params={"level": "la", "year": year, "format": "csv"}, headers=auth("scorecards:read")
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = {r["agency_ref"]: r for r in csv.DictReader(io.StringIO(response.text))}
    for card in json_cards:
        row = rows[card["agency_ref"]]
        value = card["a1_days_care_to_placement"]["value"]
        assert row["a1_days_care_to_placement"] == ("" if value is None else str(value))
        assert int(row["a1_days_care_to_placement_children"]) == card["a1_days_care_to_placement"]["children"]
    assert int(rows["LA-N1"]["a1_days_care_to_placement_children"]) == len(placed_this_year)


async def test_scorecards_need_their_scope(client, auth, register):
    assert (await client.get("/v1/scorecards", headers=auth("children:read"))).status_code == 403
    # Public performance information (issue #17): adopters read the same suppressed figures.
    adopter = await client.get("/v1/scorecards", headers=auth("scorecards:read", household="H-X"))
    staff = await client.get("/v1/scorecards", headers=auth("scorecards:read"))
    assert adopter.status_code == 200 and adopter.json() == staff.json()
