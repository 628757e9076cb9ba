"""Invariants of credits, disputes and payments, whatever the order or concurrency of the
requests (hypothesis draws the sequences). The netting's own invariants (every agency's net
position kept, transfers square every agency) are in test_netting.py."""

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import add_agencies, placed_group

TODAY = date.today()
FEE = 1_800_000  # the first instalment of a council-to-council fee


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(min_value=1, max_value=FEE + 1)),
    st.tuples(st.just("dispute"), st.just(0)),
    st.tuples(st.just("resolve"), st.integers(min_value=0, max_value=FEE + 1)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=8))
async def test_credits_and_disputes_never_take_a_line_below_zero_or_above_its_amount(client, auth, operations):
    placement = await placed_group(client, auth, placed_on=TODAY)
    [line] = (await client.get("/v1/fees/invoices", params={"placement_ref": placement["ref"]}, headers=auth())).json()[
        "items"
    ]
    credited = 0
    dispute = None
    for kind, amount in operations:
        if kind == "credit":
            answer = await client.post(
                f"/v1/fees/invoices/{line['ref']}/credit",
                json={"amount_pence": amount, "reason": "prop"},
                headers=auth(),
            )
            fits = amount <= FEE - credited
            assert answer.status_code == (201 if fits else 422), answer.text
            credited += amount if fits else 0
        elif kind == "dispute":
            answer = await client.post(
                f"/v1/fees/invoices/{line['ref']}/disputes", json={"reason": "prop"}, headers=auth()
            )
            assert answer.status_code in (201, 409), answer.text
            if answer.status_code == 201:
                dispute = answer.json()["ref"]
        elif dispute is not None:
            body = {"resolution": "prop"} | ({"credit_pence": amount} if amount else {})
            answer = await client.post(f"/v1/fees/disputes/{dispute}/resolve", json=body, headers=auth())
            fits = amount <= FEE - credited
            assert answer.status_code == (200 if fits else 422), answer.text
            if fits:
                credited += amount
                dispute = None
        lines = (
            await client.get("/v1/fees/invoices", params={"placement_ref": placement["ref"]}, headers=auth())
        ).json()["items"]
        net = sum(x["amount_pence"] for x in lines)
        assert 0 <= net <= FEE and net == FEE - credited


async def test_concurrent_credits_never_credit_more_than_the_line(committed_client, auth):
    client, prefix, _ = committed_client
    placement = await placed_group(
        client, auth, placed_on=TODAY, la_ref=prefix + "LA-N1", household_agency=prefix + "RAA-S"
    )
    [line] = (await client.get("/v1/fees/invoices", params={"placement_ref": placement["ref"]}, headers=auth())).json()[
        "items"
    ]
    amount = FEE // 3 + 1  # any three together are more than the line
    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/fees/invoices/{line['ref']}/credit",
                json={"amount_pence": amount, "reason": "race"},
                headers=auth(),
            )
            for _ in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 201, 422, 422, 422, 422]
    lines = (await client.get("/v1/fees/invoices", params={"placement_ref": placement["ref"]}, headers=auth())).json()[
        "items"
    ]
    assert sum(x["amount_pence"] for x in lines) == FEE - 2 * amount


async def test_concurrent_payments_never_pay_more_than_the_transfer(committed_client, auth):
    client, prefix, _ = committed_client
    await placed_group(
        client,
        auth,
        placed_on=TODAY - timedelta(days=2),
        la_ref=prefix + "LA-N1",
        household_agency=prefix + "RAA-S",
    )
    # A period of its own: committed tests share one database, finalised periods never overlap.
    start = date(2019, 4, 1) + timedelta(days=int(prefix[1:7], 16) % 1000)
    await placed_group(client, auth, placed_on=start, la_ref=prefix + "LA-N1", household_agency=prefix + "RAA-S")
    period = {"period_start": start.isoformat(), "period_end": start.isoformat()}
    draft = await client.post(
        "/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": f"{prefix}pay-race"}
    )
    assert draft.status_code == 201, draft.text
    final = await client.post(
        f"/v1/fees/reconciliations/{draft.json()['ref']}/finalise", headers={**auth(), "If-Match": '"1"'}
    )
    assert final.status_code == 200, final.text
    # RAA-N only owes in this period, so netting always leaves it a transfer to pay.
    transfers = [t for t in final.json()["transfers"] if t["payer_ref"] == prefix + "RAA-N"]
    assert transfers, final.json()["transfers"]
    index = final.json()["transfers"].index(transfers[0])
    owed = transfers[0]["amount_pence"]
    part = owed // 2 + 1  # any two together are more than the transfer
    answers = await asyncio.gather(
        *(
            client.post(
                f"/v1/fees/reconciliations/{draft.json()['ref']}/transfers/{index}/payments",
                json={"paid_on": TODAY.isoformat(), "amount_pence": part, "payment_reference": f"BACS {i}"},
                headers=auth(agency=prefix + "RAA-N"),
            )
            for i in range(5)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 422, 422, 422, 422], [a.text for a in answers]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.integers(min_value=1, max_value=FEE + 1), min_size=1, max_size=6), day=st.integers(0, 10**6))
async def test_payments_in_any_amounts_never_pay_more_than_the_transfer(client, auth, parts, day):
    # Each example its own day: finalised periods never overlap.
    placed = date(2019, 4, 1) + timedelta(days=day % 1200)
    await placed_group(client, auth, placed_on=placed)
    period = {"period_start": placed.isoformat(), "period_end": placed.isoformat()}
    draft = await client.post(
        "/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": f"prop-pay-{day}-{parts}"}
    )
    if draft.status_code == 409:  # hypothesis drew a day already finalised in this test
        return
    assert draft.status_code == 201, draft.text
    final = await client.post(
        f"/v1/fees/reconciliations/{draft.json()['ref']}/finalise", headers={**auth(), "If-Match": '"1"'}
    )
    assert final.status_code == 200, final.text
    [transfer] = final.json()["transfers"]
    owed, paid = transfer["amount_pence"], 0
    for i, part in enumerate(parts):
        answer = await client.post(
            f"/v1/fees/reconciliations/{draft.json()['ref']}/transfers/0/payments",
            json={"paid_on": TODAY.isoformat(), "amount_pence": part, "payment_reference": f"BACS {i}"},
            headers=auth(agency=transfer["payer_ref"]),
        )
        fits = part <= owed - paid
        assert answer.status_code == (201 if fits else 422), answer.text
        paid += part if fits else 0
        assert 0 <= paid <= owed
        assert (answer.json().get("reconciliation_status") == "settled") == (fits and paid == owed)
