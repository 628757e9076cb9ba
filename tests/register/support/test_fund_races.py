"""Parallel applications for one child, through two server processes on one database, never
take the child past the year's limit."""

import asyncio
from datetime import date

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.fixtures.support import adopted_family

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


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


async def test_parallel_applications_across_two_processes_never_pass_the_limit(cluster):
    bases, headers, url = cluster
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
