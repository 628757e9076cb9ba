"""Several server processes on loopback against one PostgreSQL: races between processes."""

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from services.core.migrate import upgrade
from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key
from tests.conftest import _create_database, _drop_database
from tests.factories import add_agencies, child_payload, household_payload


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(server_url):
    name = f"adoption_processes_{uuid.uuid4().hex[:8]}"
    url = _create_database(server_url, name)
    upgrade(url)

    async def prepare() -> str:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            await add_agencies(conn)
            await conn.commit()
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            await rotate_signing_key(session)
            key = await signing_key(session)
        await engine.dispose()
        return mint_access_token(
            key,
            Settings(),
            subject="racer",
            scopes=[
                "children:read",
                "children:write",
                "households:write",
                "households:read",
                "links:read",
                "links:write",
                "matching:run",
                "matching:read",
                "fees:read",
                "events:read",
                "webhooks:write",
            ],
            client_id="race",
            lifetime_seconds=600,
        )

    token = asyncio.run(prepare())
    env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test"}
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "--port", str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    deadline = time.time() + 60
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "the server processes did not start"
            time.sleep(0.2)
    yield [f"http://127.0.0.1:{p}" for p in ports], {"Authorization": f"Bearer {token}"}, url
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
    _drop_database(server_url, name)


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
    bases, headers, _ = cluster
    responses = await both(bases, lambda c, base: c.post(f"{base}/v1/matching/runs", json={}, headers=headers))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(202) == 1 and codes.count(409) == 3, [r.text for r in responses]


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
