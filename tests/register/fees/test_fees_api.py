"""Interagency fees over HTTP: published schedules, lines raised exactly once, credit notes,
disputes, reconciliation by netting (idempotent, finalised once)."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from services.register.fees.calculation import add_months
from tests.factories import add_agencies, placed_group
from tests.fixtures.fees import lines

TODAY = date.today()


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def test_published_schedules_are_loaded_and_defaults_are_marked(client, auth):
    schedules = (await client.get("/v1/fees/schedules/2025", headers=auth())).json()
    by_kind = {s["kind"]: s for s in schedules}
    assert by_kind["la_to_la"]["one_child_pence"] == 2_700_000
    assert (by_kind["la_to_la"]["placement_share_num"], by_kind["la_to_la"]["placement_share_den"]) == (2, 3)
    assert by_kind["la_to_vaa"]["one_child_pence"] == 3_924_500
    # Sibling rates are not published: a documented default, marked as such.
    assert "two_children_pence" in by_kind["la_to_la"]["defaulted"] and by_kind["la_to_la"]["not_set"] == [
        "monthly_pence"
    ]
    assert "one_child_pence" not in by_kind["la_to_vaa"]["defaulted"]
    schedules_2021 = {s["kind"]: s for s in (await client.get("/v1/fees/schedules/2021", headers=auth())).json()}
    assert schedules_2021["la_to_vaa"]["monthly_pence"] == 89_600


async def test_cross_agency_placement_raises_instalments_exactly_once(client, auth):
    placement = await placed_group(client, auth, placed_on=TODAY - timedelta(days=10))
    raised = await lines(client, auth, placement_ref=placement["ref"])
    assert [(line["event"], line["amount_pence"], line["payer_ref"], line["payee_ref"]) for line in raised] == [
        ("placement", 1_800_000, "RAA-N", "RAA-S")
    ]
    for _ in range(2):  # retries and the nightly job raise nothing twice
        again = await client.post("/v1/fees/raise-due", json={}, headers=auth())
        assert again.status_code == 200 and again.json()["lines_raised"] == 0
    order = await client.post(
        f"/v1/links/{placement['link_ref']}/adoption-order",
        json={"on": TODAY.isoformat()},
        headers={**auth(), "If-Match": placement["link_etag"]},
    )
    assert order.status_code == 200
    raised = await lines(client, auth, placement_ref=placement["ref"])
    assert [(line["event"], line["amount_pence"]) for line in raised] == [
        ("placement", 1_800_000),
        ("completion", 900_000),
    ]
    assert sum(line["amount_pence"] for line in raised) == 2_700_000


async def test_no_fee_within_one_agency_and_unset_amounts_are_reported(client, auth):
    same = await placed_group(client, auth, placed_on=TODAY, household_agency="RAA-N")
    assert await lines(client, auth, placement_ref=same["ref"]) == []
    # An operator's schedule that leaves the sibling rate out: the fee is reported, not invented.
    put = await client.put(
        "/v1/fees/schedules/2024",
        json={"kind": "la_to_vaa", "effective_from": "2024-06-01", "one_child_pence": 3_705_900},
        headers=auth(),
    )
    assert put.status_code == 201, put.text
    siblings = await placed_group(client, auth, placed_on=date(2024, 6, 2), size=2, household_agency="VAA-1")
    report = (await client.get(f"/v1/fees/placements/{siblings['ref']}", headers=auth())).json()
    assert report["lines"] == [] and "group of 2" in report["not_raised"][0]["reason"]


async def test_twelve_months_without_order_raise_completion_and_monthly_fees(client, auth):
    placed_on = add_months(TODAY, -14) - timedelta(days=3)
    year = placed_on.year if placed_on.month >= 4 else placed_on.year - 1
    put = await client.put(
        f"/v1/fees/schedules/{year}",
        json={
            "kind": "la_to_la",
            "effective_from": (placed_on - timedelta(days=1)).isoformat()
            if (placed_on - timedelta(days=1)) >= date(year, 4, 1)
            else date(year, 4, 1).isoformat(),
            "one_child_pence": 2_700_000,
            "placement_share_num": 2,
            "placement_share_den": 3,
            "monthly_pence": 95_000,
            "charges_monthly": True,
        },
        headers=auth(),
    )
    assert put.status_code in (200, 201), put.text
    placement = await placed_group(client, auth, placed_on=placed_on)
    events = [
        (line["event"], line["month"], line["amount_pence"])
        for line in await lines(client, auth, placement_ref=placement["ref"])
    ]
    assert events == [
        ("placement", 0, 1_800_000),
        ("completion", 0, 900_000),
        ("monthly", 13, 95_000),
        ("monthly", 14, 95_000),
        ("monthly", 15, 95_000),
    ]


async def test_schedule_with_invoices_can_only_be_superseded(client, auth):
    await placed_group(client, auth, placed_on=TODAY)
    year = TODAY.year if TODAY.month >= 4 else TODAY.year - 1
    change = await client.put(
        f"/v1/fees/schedules/{year}", json={"kind": "la_to_la", "one_child_pence": 1}, headers=auth()
    )
    assert change.status_code == 409
    later = await client.put(
        f"/v1/fees/schedules/{year}",
        json={"kind": "la_to_la", "effective_from": TODAY.isoformat(), "one_child_pence": 3_000_000},
        headers=auth(),
    )
    if later.status_code == 409:  # today is 1 April: nothing later in the year to supersede with
        return
    assert later.status_code == 201
    placement = await placed_group(client, auth, placed_on=TODAY)
    assert (await lines(client, auth, placement_ref=placement["ref"]))[0]["amount_pence"] == 3_000_000  # in full


@pytest.mark.parametrize("amount", [-5, 0, 1.5, "2700000", None])
async def test_bad_amounts_are_refused(client, auth, connection, amount):
    before = await connection.scalar(text("SELECT count(*) FROM fee_schedules"))
    response = await client.put(
        "/v1/fees/schedules/2030",
        json={"kind": "la_to_la", "one_child_pence": amount} if amount is not None else {"kind": "nope"},
        headers=auth(),
    )
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert await connection.scalar(text("SELECT count(*) FROM fee_schedules")) == before


async def test_credit_notes_and_disputes(client, auth):
    placement = await placed_group(client, auth, placed_on=TODAY)
    line = (await lines(client, auth, placement_ref=placement["ref"]))[0]
    by_payer = await client.post(
        f"/v1/fees/invoices/{line['ref']}/credit",
        json={"amount_pence": 100, "reason": "x y z"},
        headers=auth(agency="RAA-N"),
    )
    assert by_payer.status_code == 403
    too_much = await client.post(
        f"/v1/fees/invoices/{line['ref']}/credit",
        json={"amount_pence": 1_800_001, "reason": "typo fix"},
        headers=auth(agency="RAA-S"),
    )
    assert too_much.status_code == 422
    credit = await client.post(
        f"/v1/fees/invoices/{line['ref']}/credit",
        json={"amount_pence": 100_000, "reason": "agreed reduction"},
        headers=auth(agency="RAA-S"),
    )
    assert credit.status_code == 201 and credit.json()["amount_pence"] == -100_000
    assert credit.json()["credits_ref"] == line["ref"]
    by_payee = await client.post(
        f"/v1/fees/invoices/{line['ref']}/disputes", json={"reason": "wrong year"}, headers=auth(agency="RAA-S")
    )
    assert by_payee.status_code == 403
    dispute = await client.post(
        f"/v1/fees/invoices/{line['ref']}/disputes", json={"reason": "wrong year"}, headers=auth(agency="RAA-N")
    )
    assert dispute.status_code == 201
    assert [x["status"] for x in await lines(client, auth, placement_ref=placement["ref"])] == ["disputed", "open"]
    resolved = await client.post(
        f"/v1/fees/disputes/{dispute.json()['ref']}/resolve",
        json={"resolution": "agreed", "credit_pence": 50_000},
        headers=auth(agency="RAA-S"),
    )
    assert resolved.status_code == 200
    amounts = [x["amount_pence"] for x in await lines(client, auth, placement_ref=placement["ref"])]
    assert amounts == [1_800_000, -100_000, -50_000]


async def test_unknown_agency_filter_is_an_input_error(client, auth):
    for params in ({"agency_ref": "RAA-NOPE"}, {"counterparty_ref": "VAA-NOPE"}):
        response = await client.get("/v1/fees/invoices", params=params, headers=auth())
        assert response.status_code == 422 and response.json()["errors"][0]["code"] == "unknown_reference"


async def test_officers_see_only_their_agencys_lines(client, auth):
    await placed_group(client, auth, placed_on=TODAY)
    await placed_group(client, auth, placed_on=TODAY, household_agency="VAA-1")
    assert len(await lines(client, auth)) == 2
    assert len(await lines(client, auth, agency_ref="VAA-1")) == 1
    south = await client.get("/v1/fees/invoices", headers=auth(agency="RAA-S"))
    assert [x["payee_ref"] for x in south.json()["items"]] == ["RAA-S"]
    vaa = await client.get("/v1/fees/invoices", params={"agency_ref": "RAA-S"}, headers=auth(agency="VAA-1"))
    assert [x["payee_ref"] for x in vaa.json()["items"]] == ["VAA-1"]  # cannot look at another agency


async def test_reconciliation_nets_is_idempotent_and_finalises_once(client, auth, connection):
    await placed_group(client, auth, placed_on=TODAY)  # RAA-N owes RAA-S
    await placed_group(client, auth, placed_on=TODAY, la_ref="LA-S1", household_agency="RAA-N")  # and back
    await placed_group(client, auth, placed_on=TODAY, household_agency="VAA-1")
    disputed = (await lines(client, auth, agency_ref="VAA-1"))[0]
    await client.post(
        f"/v1/fees/invoices/{disputed['ref']}/disputes", json={"reason": "not ours"}, headers=auth(agency="RAA-N")
    )
    period = {"period_start": (TODAY - timedelta(days=30)).isoformat(), "period_end": TODAY.isoformat()}
    missing_key = await client.post("/v1/fees/reconciliations", json=period, headers=auth())
    assert missing_key.status_code == 422
    headers = {**auth(), "Idempotency-Key": "rec-2025-key-1"}
    draft = await client.post("/v1/fees/reconciliations", json=period, headers=headers)
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert body["status"] == "draft" and body["held_line_refs"] == [disputed["ref"]]
    assert sum(p["net_pence"] for p in body["positions"]) == 0
    assert body["totals"]["gross_invoice_by_invoice_pence"] == 3_600_000
    assert body["totals"]["netted_pence"] == 0 and body["transfers"] == []  # equal fees both ways cancel
    retry = await client.post("/v1/fees/reconciliations", json=period, headers=headers)
    assert retry.status_code == 201 and retry.json() == body  # a retry looks like the first answer
    other_body = await client.post(
        "/v1/fees/reconciliations", json={**period, "period_start": TODAY.isoformat()}, headers=headers
    )
    assert other_body.status_code == 422
    as_csv = await client.get(f"/v1/fees/reconciliations/{body['ref']}", params={"format": "csv"}, headers=auth())
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert {r["agency"] for r in rows if r["section"] == "position"} == {"RAA-N", "RAA-S"}
    not_national = await client.post(
        f"/v1/fees/reconciliations/{body['ref']}/finalise", headers={**auth(agency="RAA-N"), "If-Match": '"1"'}
    )
    assert not_national.status_code == 403
    final = await client.post(f"/v1/fees/reconciliations/{body['ref']}/finalise", headers={**auth(), "If-Match": '"1"'})
    assert final.status_code == 200 and final.json()["status"] == "finalised"
    again = await client.post(f"/v1/fees/reconciliations/{body['ref']}/finalise", headers={**auth(), "If-Match": '"2"'})
    assert again.status_code == 409
    overlapping = await client.post(
        "/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": "rec-2025-key-2"}
    )
    assert overlapping.status_code == 409
    settled = await lines(client, auth, status="settled")
    assert len(settled) == 2 and all(x["settled_by"] == body["ref"] for x in settled)
    # A line raised late for the finalised period, and the held one, fall into the next.
    late = await placed_group(client, auth, placed_on=TODAY - timedelta(days=5))
    next_period = {
        "period_start": (TODAY + timedelta(days=1)).isoformat(),
        "period_end": (TODAY + timedelta(days=30)).isoformat(),
    }
    following = await client.post(
        "/v1/fees/reconciliations", json=next_period, headers={**auth(), "Idempotency-Key": "rec-2025-key-3"}
    )
    assert following.status_code == 201
    late_line = (await lines(client, auth, placement_ref=late["ref"]))[0]["ref"]
    assert following.json()["settled_line_refs"] == [late_line]
    assert following.json()["held_line_refs"] == [disputed["ref"]]
    assert not set(following.json()["settled_line_refs"]) & {x["ref"] for x in settled}
    with pytest.raises(Exception, match="not allowed"):
        async with connection.begin_nested():
            await connection.execute(text("UPDATE fee_lines SET amount_pence = 1"))
