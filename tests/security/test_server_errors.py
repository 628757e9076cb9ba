"""Inputs that used to end in 500 (or a dropped connection) are refused as problems."""

from datetime import date

import pytest

from tests.factories import add_agencies, placed_group
from tests.fixtures.fees import lines


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def test_crediting_a_line_a_third_time_beyond_what_remains_is_422(client, auth):
    placement = await placed_group(client, auth, placed_on=date.today())
    line = (await lines(client, auth, placement_ref=placement["ref"]))[0]
    credit = f"/v1/fees/invoices/{line['ref']}/credit"
    for _ in range(2):
        part = await client.post(
            credit, json={"amount_pence": 100_000, "reason": "agreed reduction"}, headers=auth(agency="RAA-S")
        )
        assert part.status_code == 201, part.text
    third = await client.post(
        credit, json={"amount_pence": line["amount_pence"], "reason": "the rest"}, headers=auth(agency="RAA-S")
    )
    assert third.status_code == 422, third.text
    assert third.json()["remaining_pence"] == line["amount_pence"] - 200_000


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
async def test_raising_fees_due_on_an_extreme_date_is_422(client, auth, as_of):
    response = await client.post("/v1/fees/raise-due", json={"as_of": as_of}, headers=auth())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
