"""Parallel applications for one child, through two server processes on one database, never
take the child past the year's limit."""

import asyncio
import os
import subprocess
import sys
import time
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key
from tests.factories import add_agencies
from tests.fixtures.database import Databases
from tests.fixtures.processes import free_port
from tests.register.support.test_support_api import adopted_family

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

SCOPES = ["children:read", "children:write", "households:read", "households:write", "links:read", "links:write"]
SCOPES += ["support:read", "support:write"]


@pytest.fixture(scope="module")
def servers(databases: Databases):
    url = databases.create("migrated", "support")

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
            key, Settings(), subject="racer", scopes=SCOPES, client_id="race", lifetime_seconds=600
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
    databases.drop(url)


async def _assessed_child(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    """An adopted child (placed and ordered by the same factory as the in-process tests)
    whose family's assessment found support needed."""
    fam = await adopted_family(client, lambda *scopes, **_: headers)
    opened = await client.post("/v1/support/assessments", json={"placement_ref": fam["ref"]}, headers=headers)
    assert opened.status_code == 201, opened.text
    decided = await client.patch(
        f"/v1/support/assessments/{opened.json()['ref']}",
        json={"outcome": "support_plan", "outcome_on": date.today().isoformat()},
        headers={**headers, "If-Match": opened.headers["ETag"]},
    )
    assert decided.status_code == 200, decided.text
    return opened.json()["ref"], fam["child_refs"][0]


async def test_parallel_applications_across_two_processes_never_pass_the_limit(servers):
    bases, headers, url = servers
    async with httpx.AsyncClient(base_url=bases[0], timeout=60) as setup:
        assessment, child = await _assessed_child(setup, headers)
    async with httpx.AsyncClient(timeout=60) as client:

        def application(year: int, pence: int, **extra) -> dict:
            return {
                "assessment_ref": assessment,
                "child_ref": child,
                "category": "therapy",
                "provider": "Racing Therapy Ltd",
                "amount_pence": pence,
                "financial_year": year,
                **extra,
            }

        # 2025/26: £3,000 a year; eight applications of £1,000 at once, four per process.
        responses = await asyncio.gather(
            *(
                client.post(f"{base}/v1/support/asf/applications", json=application(2025, 100_000), headers=headers)
                for base in bases * 4
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 3 + [409] * 5, [r.text for r in responses]
        assert all(r.json()["remaining_pence"] == {"fair_access": 0} for r in responses if r.status_code == 409)

        # 2017/18: £5,000, then match funding; six of £1,000 at once: five within, one matched.
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{base}/v1/support/asf/applications",
                    json=application(2017, 100_000, match_funding_criterion="many_complex_cases"),
                    headers=headers,
                )
                for base in bases * 3
            )
        )
        assert sorted(r.status_code for r in responses) == [201] * 6
        matched = [r.json() for r in responses if r.json()["match_funding_criterion"]]
        assert len(matched) == 1 and matched[0]["authority_pence"] == 50_000

    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as conn:
        used = dict(
            (
                await conn.execute(
                    text(
                        "SELECT l.financial_year, sum(l.amount_pence) FROM asf_lines l JOIN children c "
                        "ON c.id = l.child_id WHERE c.ref = :c AND l.allowance = 'fair_access' GROUP BY 1"
                    ),
                    {"c": child},
                )
            ).all()
        )
    await engine.dispose()
    assert used == {2025: 300_000, 2017: 500_000}
