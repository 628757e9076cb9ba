"""Coverage of every placement, waivers, payments of netted transfers, the reconciliation
list, the invoice CSV and aged debt."""

import csv
import io
from datetime import date, timedelta

import pytest

from services.register.fees.calculation import financial_year
from tests.factories import add_agencies, placed_group

TODAY = date.today()


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def finalised_reconciliation(client, auth) -> dict:
    await placed_group(client, auth, placed_on=TODAY - timedelta(days=3))  # LA-N1 (RAA-N) owes RAA-S
    period = {"period_start": (TODAY - timedelta(days=30)).isoformat(), "period_end": TODAY.isoformat()}
    draft = await client.post(
        "/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": "pay-key-0001"}
    )
    assert draft.status_code == 201, draft.text
    final = await client.post(
        f"/v1/fees/reconciliations/{draft.json()['ref']}/finalise", headers={**auth(), "If-Match": '"1"'}
    )
    assert final.status_code == 200, final.text
    return final.json()


async def test_transfers_are_paid_in_parts_never_overpaid_and_then_settled(client, auth):
    rec = await finalised_reconciliation(client, auth)
    [transfer] = rec["transfers"]
    payer, amount = transfer["payer_ref"], transfer["amount_pence"]
    url = f"/v1/fees/reconciliations/{rec['ref']}/transfers/0/payments"
    payment = {"paid_on": TODAY.isoformat(), "amount_pence": amount - 1_000, "payment_reference": "BACS 001"}
    assert (await client.post(url, json=payment, headers=auth(agency=transfer["payee_ref"]))).status_code == 403
    first = await client.post(url, json=payment, headers=auth(agency=payer))
    assert first.status_code == 201, first.text
    assert first.json()["transfer_outstanding_pence"] == 1_000 and first.json()["reconciliation_status"] == "finalised"
    over = await client.post(url, json={**payment, "amount_pence": 1_001}, headers=auth(agency=payer))
    assert over.status_code == 422 and over.json()["outstanding_pence"] == 1_000
    future = await client.post(
        url, json={**payment, "amount_pence": 1_000, "paid_on": "9999-12-31"}, headers=auth(agency=payer)
    )
    assert future.status_code == 422
    debt = (await client.get("/v1/fees/aged-debt", headers=auth(agency=payer))).json()
    assert debt[0]["total_pence"] == amount  # finalised is not paid: still owed
    last = await client.post(url, json={**payment, "amount_pence": 1_000}, headers=auth(agency=payer))
    assert (await client.get("/v1/fees/aged-debt", headers=auth(agency=payer))).json() == []
    assert last.status_code == 201 and last.json()["reconciliation_status"] == "settled"
    listed = (await client.get("/v1/fees/reconciliations", params={"status": "settled"}, headers=auth())).json()
    assert [r["ref"] for r in listed["items"]] == [rec["ref"]] and listed["items"][0]["paid_pence"] == amount
    assert (await client.get("/v1/fees/reconciliations", params={"status": "draft"}, headers=auth())).json()[
        "items"
    ] == []
    assert (await client.get(f"/v1/fees/reconciliations/{rec['ref']}", headers=auth())).json()["status"] == "settled"


async def test_a_draft_cannot_be_paid(client, auth):
    await placed_group(client, auth, placed_on=TODAY)
    period = {"period_start": (TODAY - timedelta(days=5)).isoformat(), "period_end": TODAY.isoformat()}
    draft = (
        await client.post("/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": "k-draft-1"})
    ).json()
    response = await client.post(
        f"/v1/fees/reconciliations/{draft['ref']}/transfers/0/payments",
        json={"paid_on": TODAY.isoformat(), "amount_pence": 1, "payment_reference": "x"},
        headers=auth(agency="RAA-N"),
    )
    assert response.status_code == 409


async def test_coverage_accounts_for_every_placement(client, auth):
    cross = await placed_group(client, auth, placed_on=TODAY)
    await placed_group(client, auth, placed_on=TODAY, household_agency="RAA-N")  # same agency
    await placed_group(client, auth, placed_on=TODAY, household_agency="VAA-1")
    # An operator's schedule without a sibling rate, then a decision to waive that fee.
    put = await client.put(
        f"/v1/fees/schedules/{financial_year(TODAY)}",
        json={"kind": "la_to_la", "effective_from": TODAY.isoformat(), "one_child_pence": 2_700_000},
        headers=auth(),
    )
    assert put.status_code == 201, put.text
    siblings = await placed_group(client, auth, placed_on=TODAY, size=2)
    waiver = await client.post(
        f"/v1/fees/placements/{siblings['ref']}/waiver",
        json={"decision": "panel 12: fee waived by agreement", "decided_on": TODAY.isoformat()},
        headers=auth(),
    )
    assert waiver.status_code == 201, waiver.text
    again = await client.post(
        f"/v1/fees/placements/{siblings['ref']}/waiver",
        json={"decision": "twice", "decided_on": TODAY.isoformat()},
        headers=auth(),
    )
    assert again.status_code == 409
    report = (await client.get("/v1/fees/coverage", params={"year": financial_year(TODAY)}, headers=auth())).json()
    assert report["unaccounted"] == 0
    assert report["with_reason"] == {"same_agency": 1, "waived": 1}
    assert report["cross_agency"] == 3 and report["with_lines"] == 2
    by_ref = {p["placement_ref"]: p for p in report["items"]}
    assert by_ref[cross["ref"]]["lines"][0]["amount_pence"] == 1_800_000 and by_ref[cross["ref"]]["reason"] == ""
    assert by_ref[siblings["ref"]]["reason"].startswith("waived by decision FW-")
    far = await client.get("/v1/fees/coverage", params={"year": 9999}, headers=auth())
    assert far.status_code == 422


async def test_invoice_csv_has_the_finance_columns_and_no_case_reference(client, auth):
    placement = await placed_group(client, auth, placed_on=TODAY)
    response = await client.get("/v1/fees/invoices", params={"format": "csv"}, headers=auth())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["placement_ref"] == placement["ref"] and rows[0]["net_amount_pence"] == "1800000"
    assert rows[0]["net_amount_gbp"] == "18000.00" and rows[0]["vat_status"] == "outside the scope"
    assert not any("case" in column for column in rows[0])


async def test_aged_debt_by_band(client, auth):
    await placed_group(client, auth, placed_on=TODAY - timedelta(days=45))
    await placed_group(client, auth, placed_on=TODAY - timedelta(days=5))
    debt = (await client.get("/v1/fees/aged-debt", headers=auth())).json()
    [north] = [d for d in debt if d["agency_ref"] == "RAA-N"]
    assert north["days_0_30_pence"] == 1_800_000 and north["days_31_60_pence"] == 1_800_000
    assert north["total_pence"] == 3_600_000
    mine = (await client.get("/v1/fees/aged-debt", headers=auth(agency="RAA-S"))).json()
    assert mine == []  # RAA-S owes nothing


async def test_iff_claims_for_harder_to_place_children_per_quarter_and_payer(client, auth):
    placed = TODAY - timedelta(days=300)  # the factory's child: 3 years old, 13 months in care
    single = await placed_group(client, auth, placed_on=placed)
    pair = await placed_group(client, auth, placed_on=placed, size=2)
    year = financial_year(placed)
    quarter = (placed.month - 4) % 12 // 3 + 1
    report = (await client.get("/v1/fees/iff-claims", params={"year": year}, headers=auth())).json()
    assert report["rules_defaulted"] is True and "DFE-RR685" in report["rules_source"]
    [claim] = report["claims"]
    assert (claim["quarter"], claim["payer_ref"], claim["placements"]) == (quarter, "RAA-N", 1)
    [line] = claim["lines"]
    assert line["placement_ref"] == pair["ref"] and line["criteria"] == ["sibling group"]
    assert line["claim_pence"] == line["fee_pence"] > 0  # default: the whole fee
    assert single["ref"] not in {x["placement_ref"] for c in report["claims"] for x in c["lines"]}
    other_quarter = (quarter % 4) + 1
    none = (
        await client.get("/v1/fees/iff-claims", params={"year": year, "quarter": other_quarter}, headers=auth())
    ).json()
    assert none["claims"] == []
    payee_view = (await client.get("/v1/fees/iff-claims", params={"year": year}, headers=auth(agency="RAA-S"))).json()
    assert payee_view["claims"] == []  # only the paying agency claims
    as_csv = await client.get("/v1/fees/iff-claims", params={"year": year, "format": "csv"}, headers=auth())
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["placement_ref"], r["quarter"], r["claim_pence"]) for r in rows] == [
        (pair["ref"], f"Q{quarter}", str(line["claim_pence"]))
    ]
    assert (await client.get("/v1/fees/iff-claims", params={"year": 1999}, headers=auth())).status_code == 422


async def test_the_demo_line_gives_the_years_totals(client, auth, connection):
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.register.fees.service import year_totals

    await placed_group(client, auth, placed_on=TODAY)
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        line = await year_totals(session, TODAY)
    assert "1 cross-agency placements, 1 invoice lines, £18,000; 0 without a line or a reason" in line
