"""Races on committed data: a fee raised by two processes at once exists once; of two
concurrent finalisations of one period, exactly one wins."""

import asyncio
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.fees.service import raise_due_fees
from services.register.models import Placement
from tests.factories import placed_group


async def test_two_processes_raising_the_same_fee_raise_it_once(committed_client, auth):
    client, prefix, engine = committed_client
    placement = await placed_group(
        client, auth, placed_on=date.today(), la_ref=prefix + "LA-N1", household_agency=prefix + "RAA-S"
    )
    # The placement already raised its first line; an adoption order now makes the second due
    # for two "processes" at the same moment.
    async with AsyncSession(engine) as s, s.begin():
        await s.execute(
            text("UPDATE placements SET adoption_order_on = placed_on, version = version + 1 WHERE ref = :r"),
            {"r": placement["ref"]},
        )

    async def raise_in_own_transaction() -> int:
        async with AsyncSession(engine, expire_on_commit=False) as s, s.begin():
            found = await s.scalar(select(Placement).where(Placement.ref == placement["ref"]))
            return (await raise_due_fees(s, found, as_of=date.today(), raised_by="race")).raised

    results = await asyncio.gather(*(raise_in_own_transaction() for _ in range(4)))
    assert sorted(results) == [0, 0, 0, 1]
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT event, count(*) FROM fee_lines f JOIN placements p ON p.id = f.placement_id "
                    "WHERE p.ref = :r GROUP BY event ORDER BY event"
                ),
                {"r": placement["ref"]},
            )
        ).all()
    assert [(str(e), n) for e, n in events] == [("placement", 1), ("completion", 1)]


async def test_concurrent_finalisations_of_one_period_one_wins(committed_client, auth):
    client, prefix, _ = committed_client
    await placed_group(
        client, auth, placed_on=date(2026, 1, 5), la_ref=prefix + "LA-N1", household_agency=prefix + "RAA-S"
    )
    period = {"period_start": "2025-12-01", "period_end": "2026-01-31"}
    drafts = []
    for key in (f"{prefix}race-key-a", f"{prefix}race-key-b"):
        response = await client.post(
            "/v1/fees/reconciliations", json=period, headers={**auth(), "Idempotency-Key": key}
        )
        assert response.status_code == 201, response.text
        drafts.append(response.json()["ref"])

    async def finalise(ref: str) -> int:
        response = await client.post(f"/v1/fees/reconciliations/{ref}/finalise", headers={**auth(), "If-Match": '"1"'})
        return response.status_code

    codes = await asyncio.gather(*(finalise(ref) for ref in drafts))
    assert sorted(codes) == [200, 409]


async def test_ten_concurrent_retries_with_one_key_get_one_answer(committed_client, auth):
    """Was one 201 and nine 409s (the key's unique index fired in the losers)."""
    client, prefix, _ = committed_client
    await placed_group(client, auth, placed_on=date.today(), la_ref=prefix + "LA-N1", household_agency=prefix + "RAA-S")
    period = {"period_start": "2019-01-01", "period_end": "2019-01-31"}  # no finalised period overlaps it
    headers = {**auth(), "Idempotency-Key": f"{prefix}concurrent-key"}
    answers = await asyncio.gather(
        *(client.post("/v1/fees/reconciliations", json=period, headers=headers) for _ in range(10))
    )
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert all(a.content == answers[0].content for a in answers)
    other = await client.post("/v1/fees/reconciliations", json={**period, "period_end": "2030-01-30"}, headers=headers)
    assert other.status_code == 422
