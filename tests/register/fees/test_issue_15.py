"""Issue #15, one test per bug found by trying the register as a new user would. Each of
these failed on the code before the fix (the failure is named in each docstring)."""

from datetime import date, timedelta

import pytest

from services.register.fees.calculation import add_months, financial_year
from tests.factories import add_agencies, placed_group

TODAY = date.today()
YEAR = financial_year(TODAY)


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def lines(client, auth, placement_ref):
    response = await client.get("/v1/fees/invoices", params={"placement_ref": placement_ref}, headers=auth())
    assert response.status_code == 200, response.text
    return response.json()["items"]


def only_integers(value) -> bool:
    """No amount in a body is a float or a string of digits: pence are JSON integers."""
    if isinstance(value, dict):
        return all(only_integers(v) for k, v in value.items()) and all(
            isinstance(v, int) and not isinstance(v, bool) for k, v in value.items() if k.endswith("_pence")
        )
    if isinstance(value, list):
        return all(only_integers(v) for v in value)
    return not isinstance(value, float)


async def test_crediting_a_line_a_third_time_answers_422_with_integer_pence(client, auth):
    """Was 500: the sum of earlier credits came back from PostgreSQL as NUMERIC (a Decimal),
    and the error body could not be written as JSON."""
    placement = await placed_group(client, auth, placed_on=TODAY)
    line = (await lines(client, auth, placement["ref"]))[0]
    for _ in range(2):
        ok = await client.post(
            f"/v1/fees/invoices/{line['ref']}/credit", json={"amount_pence": 100, "reason": "part"}, headers=auth()
        )
        assert ok.status_code == 201, ok.text
    third = await client.post(
        f"/v1/fees/invoices/{line['ref']}/credit",
        json={"amount_pence": line["amount_pence"], "reason": "too much"},
        headers=auth(),
    )
    assert third.status_code == 422, third.text
    assert third.json()["remaining_pence"] == line["amount_pence"] - 200
    assert only_integers(third.json())


@pytest.mark.parametrize("as_of", ["9999-12-31", (add_months(TODAY, 36)).isoformat(), "0001-01-01"])
async def test_raise_due_refuses_dates_that_have_not_come_or_are_absurd(client, auth, as_of):
    """Was 500 for 9999-12-31 (a date overflow while counting months) and, three years
    ahead, 200 with lines written for months that had not begun."""
    placed = add_months(TODAY, -13)
    placement = await placed_group(client, auth, placed_on=placed, household_agency="VAA-1")
    before = await lines(client, auth, placement["ref"])
    response = await client.post("/v1/fees/raise-due", json={"as_of": as_of}, headers=auth())
    assert response.status_code == 422, response.text
    assert await lines(client, auth, placement["ref"]) == before


async def test_no_line_is_ever_due_after_today(client, auth):
    placement = await placed_group(client, auth, placed_on=add_months(TODAY, -20), household_agency="VAA-1")
    assert all(date.fromisoformat(line["due_on"]) <= TODAY for line in await lines(client, auth, placement["ref"]))


async def test_sequential_retries_with_one_key_return_the_same_status_and_body(client, auth):
    """Was 201 then 200: a retry must look exactly like the first answer."""
    await placed_group(client, auth, placed_on=TODAY)
    body = {"period_start": (TODAY - timedelta(days=30)).isoformat(), "period_end": TODAY.isoformat()}
    answers = [
        await client.post("/v1/fees/reconciliations", json=body, headers={**auth(), "Idempotency-Key": "retry-key-1"})
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {201}
    assert answers[0].content == answers[1].content == answers[2].content  # the same bytes
    other = await client.post(
        "/v1/fees/reconciliations",
        json={**body, "period_start": (TODAY - timedelta(days=10)).isoformat()},
        headers={**auth(), "Idempotency-Key": "retry-key-1"},
    )
    assert other.status_code == 422


async def test_voluntary_agency_placement_in_every_year_raises_its_fee(client, auth):
    """Was "no la_to_vaa fee schedule is set for 2026/27" (and for every year but 2019 and 2025)."""
    for year in range(2019, YEAR + 1):
        placed = date(year, 6, 1) if date(year, 6, 1) <= TODAY else date(year, 4, 1)
        placement = await placed_group(client, auth, placed_on=placed, household_agency="VAA-1")
        report = (await client.get(f"/v1/fees/placements/{placement['ref']}", headers=auth())).json()
        assert report["not_raised"] == [], (year, report)
        assert report["lines"][0]["event"] == "placement" and report["lines"][0]["amount_pence"] > 0


async def test_schedules_exist_for_every_year_and_kind_with_published_figures(client, auth):
    for year in range(2019, YEAR + 2):
        schedules = (await client.get(f"/v1/fees/schedules/{year}", headers=auth())).json()
        by_kind = {s["kind"]: s for s in schedules}
        assert set(by_kind) == {"la_to_la", "la_to_vaa"}, year
        for schedule in schedules:
            amounts = ("one_child_pence", "two_children_pence", "three_children_pence", "four_or_more_children_pence")
            assert schedule["not_set"] == [] or schedule["not_set"] == ["monthly_pence"], schedule
            assert all(schedule[a] for a in amounts)
            assert schedule["source"]
    vaa = {y: (await client.get(f"/v1/fees/schedules/{y}", headers=auth())).json() for y in (2019, 2021, 2022, 2025)}
    by = {y: {s["kind"]: s for s in v} for y, v in vaa.items()}
    assert by[2019]["la_to_vaa"]["one_child_pence"] == 3_162_000
    assert by[2025]["la_to_vaa"]["one_child_pence"] == 3_924_500
    # The monthly fee compensates voluntary agencies: it is on their schedule, not the councils'.
    assert by[2021]["la_to_vaa"]["monthly_pence"] == 89_600 and by[2022]["la_to_vaa"]["monthly_pence"] == 93_900
    assert by[2021]["la_to_la"]["monthly_pence"] is None
    assert by[2025]["la_to_la"]["london_weighting_percent"] == 10


async def test_sibling_groups_raise_a_fee(client, auth):
    """Was no line at all: "the schedule sets no fee for a group of 2"."""
    placement = await placed_group(client, auth, placed_on=TODAY, size=2)
    report = (await client.get(f"/v1/fees/placements/{placement['ref']}", headers=auth())).json()
    assert report["not_raised"] == [] and report["lines"][0]["amount_pence"] > 1_800_000


async def test_council_to_council_placement_owes_no_monthly_fee_and_a_voluntary_agency_does(client, auth):
    """Was: monthly fees charged between councils (on the la_to_la schedule), none to VAAs."""
    placed_on = date(2021, 5, 10)
    council = await placed_group(client, auth, placed_on=placed_on)
    vaa = await placed_group(client, auth, placed_on=placed_on, household_agency="VAA-1")
    assert {line["event"] for line in await lines(client, auth, council["ref"])} == {"placement", "completion"}
    monthly = [line for line in await lines(client, auth, vaa["ref"]) if line["event"] == "monthly"]
    assert monthly and monthly[0]["amount_pence"] == 89_600 and monthly[0]["month"] == 13


async def test_london_weighting_on_council_fees(client, auth, connection):
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.register.models import Agency
    from services.register.vocabulary import AgencyKind, Region

    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        session.add(
            Agency(
                ref="RAA-L",
                name="London RAA (test)",
                kind=AgencyKind.RAA,
                region=Region.LONDON,
                latitude=51.5,
                longitude=-0.12,
            )
        )
        await session.commit()
    placement = await placed_group(client, auth, placed_on=TODAY, household_agency="RAA-L")
    first = (await lines(client, auth, placement["ref"]))[0]
    assert first["amount_pence"] == 1_980_000  # two thirds of £29,700


async def test_a_reconciliation_years_away_is_refused(client, auth):
    body = {"period_start": "9999-01-01", "period_end": "9999-12-31"}
    response = await client.post(
        "/v1/fees/reconciliations", json=body, headers={**auth(), "Idempotency-Key": "far-future-key-1"}
    )
    assert response.status_code == 422, response.text


async def test_voluntary_agency_figures_follow_from_the_cpih_table(client, auth):
    """Every derived figure is last year's uprated by the CPIH rate to December (the 2023 rise
    capped at 5%), to the whole pound; the published ones (2019, 2025; monthly 2021, 2022)
    are as published."""
    rates = {r["calendar_year"]: r for r in (await client.get("/v1/fees/cpih-rates", headers=auth())).json()}
    assert rates[2022]["december_rate_tenths"] == 92 and rates[2022]["applied_rate_tenths"] == 50
    assert not rates[2025]["published"] and rates[2024]["published"]
    vaa = {}
    for year in range(2019, 2028):
        [schedule] = [
            s
            for s in (await client.get(f"/v1/fees/schedules/{year}", headers=auth())).json()
            if s["kind"] == "la_to_vaa"
        ]
        vaa[year] = schedule

    def uprated(pence: int, year: int) -> int:
        pounds = pence // 100
        return (pounds * (1000 + rates[year - 1]["applied_rate_tenths"]) + 500) // 1000 * 100

    for year in range(2020, 2028):
        if "one_child_pence" in vaa[year]["defaulted"]:
            assert vaa[year]["one_child_pence"] == uprated(vaa[year - 1]["one_child_pence"], year), year
        if year >= 2022 and "monthly_pence" in vaa[year]["defaulted"]:
            assert vaa[year]["monthly_pence"] == uprated(vaa[year - 1]["monthly_pence"], year), year
    assert uprated(vaa[2021]["monthly_pence"], 2022) == vaa[2022]["monthly_pence"] == 93_900  # the rule checks out
    assert vaa[2025]["one_child_pence"] == 3_924_500 and "one_child_pence" not in vaa[2025]["defaulted"]
