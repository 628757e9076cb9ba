"""Graceful shutdown of a real server process: a request in flight when SIGTERM arrives
finishes and is answered, then the process exits."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from services.core.migrate import upgrade
from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key
from services.register.seed.generate import generate_register
from services.register.seed.load import load_register
from tests.conftest import _create_database, _drop_database
from tests.test_processes import free_port


def test_a_request_in_flight_finishes_before_the_process_exits(server_url):
    name = f"adoption_shutdown_{uuid.uuid4().hex[:8]}"
    url = _create_database(server_url, name)
    upgrade(url)

    async def prepare() -> str:
        engine = create_async_engine(url, poolclass=NullPool)
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            # The national waiting pool only: a national match then takes about a second.
            await load_register(session, generate_register(2, date.today(), history_years=0))
            await rotate_signing_key(session)
            key = await signing_key(session)
        await engine.dispose()
        return mint_access_token(
            key,
            Settings(),
            subject="ops",
            scopes=["matching:run", "matching:read"],
            client_id="ops",
            lifetime_seconds=600,
        )

    token = asyncio.run(prepare())
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline
            time.sleep(0.2)

        async def in_flight_then_stop() -> httpx.Response:
            async with httpx.AsyncClient(timeout=60) as client:
                request = asyncio.create_task(
                    client.post(
                        f"http://127.0.0.1:{port}/v1/matching/runs",
                        params={"wait": "true"},
                        json={},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                )
                await asyncio.sleep(0.4)  # the run is under way
                assert not request.done(), "the request must still be in flight when the signal comes"
                process.send_signal(signal.SIGTERM)
                return await request

        response = asyncio.run(in_flight_then_stop())
        assert response.status_code == 200 and response.json()["status"] == "succeeded"
        # uvicorn finishes what is in flight, shuts down, then re-raises the signal it caught.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
        _drop_database(server_url, name)
