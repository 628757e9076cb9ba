"""Several server processes on loopback against one PostgreSQL: races between processes."""

import asyncio
import itertools
import time
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.matching.repository import RUN_LOCK_KEY
from tests.factories import child_payload, household_payload

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


async def both(bases: list[str], make_request) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(make_request(client, base) for base in bases * 2))


async def test_concurrent_updates_through_two_processes_one_wins(cluster):
    bases, headers, _ = cluster
    async with httpx.AsyncClient() as client:
        created = await client.post(f"{bases[0]}/v1/children", json=child_payload(), headers=headers)
    assert created.status_code == 201, created.text
    ref, etag = created.json()["ref"], created.headers["ETag"]
    responses = await both(
        bases,
        lambda c, base: c.patch(
            f"{base}/v1/children/{ref}", json={"profile_text": base}, headers={**headers, "If-Match": etag}
        ),
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]


async def test_concurrent_match_runs_through_two_processes_one_runs(cluster):
    bases, headers, url = cluster
    start = lambda c, base: c.post(f"{base}/v1/matching/runs", json={}, headers=headers)  # noqa: E731
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        # A run in progress elsewhere (this test holds its lock): every process refuses another.
        async with engine.connect() as holder:
            assert await holder.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY})
            await holder.commit()
            refused = await both(bases, start)
            assert [r.status_code for r in refused] == [409] * 4, [r.text for r in refused]
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY})
            await holder.commit()
        # Lock free: at least one of the racing requests runs. A tiny pool's run may finish
        # before the next request arrives, so how many start is a matter of timing; that no two
        # runs ever overlap is not.
        raced = await both(bases, start)
        codes = [r.status_code for r in raced]
        assert set(codes) <= {202, 409} and 202 in codes, [r.text for r in raced]
        deadline = time.monotonic() + 60
        async with engine.connect() as conn:
            while await conn.scalar(text("SELECT count(*) FROM match_runs WHERE status = 'running'")):
                assert time.monotonic() < deadline, "the runs did not finish"
                await conn.rollback()
                await asyncio.sleep(0.1)
            runs = (
                await conn.execute(text("SELECT created_at, finished_at, status FROM match_runs ORDER BY created_at"))
            ).all()
    finally:
        await engine.dispose()
    assert len(runs) == codes.count(202) and all(status == "succeeded" for _, _, status in runs)
    assert all(later.created_at >= earlier.finished_at for earlier, later in itertools.pairwise(runs))


async def test_concurrent_links_and_placements_into_one_household_one_wins(cluster):
    """A household approved for one child: four agencies' parallel link requests for four
    children give exactly one link; four parallel placements of it give one placement and
    one fee line."""
    bases, headers, url = cluster
    today = date.today()
    async with httpx.AsyncClient() as client:
        household = (
            await client.post(f"{bases[1]}/v1/households", json=household_payload(approved_children=1), headers=headers)
        ).json()
        groups = []
        for i in range(4):
            child = await client.post(
                f"{bases[i % 2]}/v1/children", json=child_payload(first_name=f"R{i}"), headers=headers
            )
            assert child.status_code == 201, child.text
            groups.append(child.json()["sibling_group_ref"])
    requested_on = (today - timedelta(days=30)).isoformat()
    each_group = iter(groups)  # one request per group, two per server process
    responses = await both(
        bases,
        lambda c, base: c.post(
            f"{base}/v1/links",
            json={
                "sibling_group_ref": next(each_group),
                "household_ref": household["ref"],
                "origin": "family_finder",
                "reason": "race",
                "requested_on": requested_on,
            },
            headers=headers,
        ),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == len(codes) - 1, [r.text for r in responses]
    link = next(r for r in responses if r.status_code == 201)
    ref, etag = link.json()["ref"], link.headers["ETag"]
    async with httpx.AsyncClient() as client:
        for step, body in (
            ("agree", {"on": (today - timedelta(days=20)).isoformat()}),
            ("panel", {"on": (today - timedelta(days=10)).isoformat(), "recommendation": "recommended"}),
            ("decide", {"on": (today - timedelta(days=5)).isoformat()}),
        ):
            moved = await client.post(
                f"{bases[0]}/v1/links/{ref}/{step}", json=body, headers={**headers, "If-Match": etag}
            )
            assert moved.status_code == 200, moved.text
            etag = moved.headers["ETag"]
    responses = await both(
        bases,
        lambda c, base: c.post(
            f"{base}/v1/links/{ref}/place", json={"on": today.isoformat()}, headers={**headers, "If-Match": etag}
        ),
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]
    group_ref = next(r for r in responses if r.status_code == 200).json()["sibling_group_ref"]
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as conn:
        lines = await conn.scalar(
            text(
                "SELECT count(*) FROM fee_lines f JOIN placements p ON p.id = f.placement_id "
                "JOIN sibling_groups g ON g.id = p.sibling_group_id WHERE g.ref = :g"
            ),
            {"g": group_ref},
        )
    await engine.dispose()
    assert lines == 1
