"""How fast a family finder's page of 50 from the national pool comes back.

Loads the synthetic register into a scratch database (embedded PostgreSQL, or the server
in DATABASE_URL), then times in one process:
  - GET /v1/children?limit=50 through the whole app (auth, SQL, serialisation), unfiltered,
    filtered, and paging on with the cursor;
  - the floor: the same 50 rows read with a bare asyncpg query.
Prints p50/p99 latency and the ratio to the floor. Figures, not a pass/fail test.

    python -m benchmarks.register_list [--requests 300]
"""

import argparse
import asyncio
import time

import asyncpg
import httpx
from joserfc.jwk import ECKey, KeySet

from benchmarks.seeded_database import seeded_database
from services.core.app_factory import token_verifiers
from services.core.database import create_sessionmaker
from services.core.settings import Settings
from services.register.app import create_app
from services.register.oauth.keys import mint_access_token


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, seconds: list[float], floor_p50: float | None = None) -> None:
    p50, p99 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000
    ratio = f"  x{percentile(seconds, 0.5) / floor_p50:.0f} the floor" if floor_p50 else ""
    print(f"{name:<44} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  ({len(seconds)} requests){ratio}")


async def main(requests: int) -> None:
    url, engine = await seeded_database()
    settings = Settings(environment="test")
    sessionmaker = create_sessionmaker(engine)

    key = ECKey.generate_key("P-256", parameters={"kid": "bench"}, private=True)
    app = create_app(settings)
    app.state.settings, app.state.engine, app.state.sessionmaker = settings, engine, sessionmaker

    async def keys() -> KeySet:
        return KeySet([key])

    app.state.token_verifiers = await token_verifiers(settings, keys)
    token = mint_access_token(key, settings, subject="bench", scopes=["children:read"], client_id="bench")
    headers = {"Authorization": f"Bearer {token}"}

    raw = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    floor = []
    for _ in range(requests):
        t = time.perf_counter()
        await raw.fetch("SELECT * FROM children ORDER BY waiting_since, id LIMIT 50")
        floor.append(time.perf_counter() - t)
    await raw.close()
    report("floor: bare asyncpg, 50 rows", floor)
    floor_p50 = percentile(floor, 0.5)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        cases: dict[str, dict[str, str | int]] = {
            "GET /v1/children?limit=50": {"limit": 50},
            "... region + status + age + need filters": {
                "limit": 50,
                "region": "london",
                "status": "waiting",
                "age_max": 6,
                "need": "emotional_behavioural:medium",
            },
            "... waiting 18 months or more": {"limit": 50, "min_days_waiting": 548},
        }
        for name, params in cases.items():
            timings = []
            for _ in range(requests):
                t = time.perf_counter()
                response = await client.get("/v1/children", params=params, headers=headers)
                timings.append(time.perf_counter() - t)
                assert response.status_code == 200, response.text
            report(name, timings, floor_p50)
        cursor, timings = None, []
        for _ in range(min(requests, 58)):  # walk the whole pool, 50 at a time
            t = time.perf_counter()
            page = (
                await client.get(
                    "/v1/children", params={"limit": 50, **({"cursor": cursor} if cursor else {})}, headers=headers
                )
            ).json()
            timings.append(time.perf_counter() - t)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        report("... next pages with the cursor", timings, floor_p50)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
