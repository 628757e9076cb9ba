"""How fast the scorecards answer on the synthetic national register (three years of
placements), through the whole app; the floor is one bare count over the same placements.

    python -m benchmarks.scorecards [--requests 30]
"""

import argparse
import asyncio
import time

import httpx
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import text

from benchmarks.seeded_database import seeded_database
from services.apps import create_combined_app
from services.core.app_factory import token_verifiers
from services.core.database import create_sessionmaker
from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token


async def main(requests: int) -> None:
    _, engine = await seeded_database()
    settings = Settings(environment="test")
    app = create_combined_app(settings)
    app.state.settings, app.state.engine, app.state.sessionmaker = settings, engine, create_sessionmaker(engine)
    key = ECKey.generate_key("P-256", parameters={"kid": "bench"}, private=True)

    async def keys() -> KeySet:
        return KeySet([key])

    app.state.token_verifiers = await token_verifiers(settings, keys)
    headers = {
        "Authorization": "Bearer "
        + mint_access_token(key, settings, subject="bench", scopes=["scorecards:read"], client_id="bench")
    }
    async with engine.connect() as conn:
        started = time.perf_counter()
        placed = await conn.scalar(
            text("SELECT count(*) FROM placements p JOIN children c ON c.sibling_group_id = p.sibling_group_id")
        )
        floor = time.perf_counter() - started
    print(f"{placed:,} placed children; floor (one bare count over them): {floor * 1000:.1f} ms")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for name, params in (
            ("national, rolling three years", {}),
            ("every RAA", {"level": "raa"}),
            ("every local authority", {"level": "la"}),
            ("every local authority, as CSV", {"level": "la", "format": "csv"}),
        ):
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get("/v1/scorecards", params=params, headers=headers)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            timings.sort()
            p50 = timings[len(timings) // 2]
            print(
                f"{name:<34} p50 {p50 * 1000:7.1f} ms  max {timings[-1] * 1000:7.1f} ms  x{p50 / floor:.0f} the floor"
            )
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    asyncio.run(main(parser.parse_args().requests))
