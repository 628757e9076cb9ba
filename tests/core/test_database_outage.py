"""PostgreSQL stopped under traffic: requests fail fast with 503 problem+json, nothing is
half-written, and the service recovers by itself when the server is back."""

import asyncio
import time

import httpx
import pgserver
import pytest
from sqlalchemy import text

from services.core.database import create_engine, start_embedded_postgres
from services.core.migrate import upgrade
from tests.factories import add_agencies, child_payload

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


async def test_outage_gives_fast_503_and_the_service_recovers(own_server_dir, make_app, settings, auth):
    data = own_server_dir
    url = start_embedded_postgres(data, "outage")
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, settings)
    async with engine.connect() as conn:
        await add_agencies(conn)
        await conn.commit()
    app = await make_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/v1/children", json=child_payload(), headers=auth())).status_code == 201
        server = pgserver.get_server(data)
        await asyncio.to_thread(server.cleanup)  # the database goes away

        for request in (
            client.get("/v1/children", headers=auth()),
            client.post("/v1/children", json=child_payload(first_name="During"), headers=auth()),
            client.get("/readyz"),
        ):
            started = time.perf_counter()
            response = await request
            assert response.status_code == 503 and time.perf_counter() - started < 6
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "Traceback" not in response.text and "asyncpg" not in response.text
        assert (await client.get("/healthz")).status_code == 200  # the process itself is fine

        start_embedded_postgres(data, "outage")  # the server comes back
        recovered = await client.get("/v1/children", headers=auth())
        assert recovered.status_code == 200 and len(recovered.json()["items"]) == 1
    async with engine.connect() as conn:  # the write attempted during the outage left nothing
        assert await conn.scalar(text("SELECT count(*) FROM children WHERE first_name = 'During'")) == 0
    await engine.dispose()
