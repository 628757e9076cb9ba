"""Faults: a database failing under load answers 503 problem+json with Retry-After, never
500; `serve` stopped by SIGTERM stops the embedded PostgreSQL it started, as Ctrl-C does."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import httpx
import pgserver
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.core.database import create_engine, start_embedded_postgres
from services.core.migrate import upgrade
from tests.factories import add_agencies, child_payload
from tests.fixtures.processes import free_port, wait_until_ready

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

KILL_APP_CONNECTIONS = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = 'adoption-register' AND pid <> pg_backend_pid() "
    "AND state IN ('active', 'idle in transaction')"
)


def _all_unavailable_or_fine(responses: list[httpx.Response]) -> list[httpx.Response]:
    failures = [r for r in responses if r.status_code not in (200, 201)]
    assert failures, "no request met the failure: the test proved nothing"
    for response in failures:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) > 0
    return failures


async def test_requests_in_flight_when_postgres_stops_get_503(tmp_path, make_app, settings, auth):
    data = tmp_path / "pg"
    url = start_embedded_postgres(data, "stopping")
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, settings)
    async with engine.connect() as conn:
        await add_agencies(conn)
        await conn.commit()
    app = await make_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as client:

        async def traffic(i: int) -> httpx.Response:
            if i % 2:
                return await client.get("/v1/children", headers=auth())
            return await client.post("/v1/children", json=child_payload(), headers=auth())

        in_flight = [asyncio.create_task(traffic(i)) for i in range(100)]
        await asyncio.sleep(0.3)
        await asyncio.to_thread(pgserver.get_server(data).cleanup)  # PostgreSQL stops under them
        responses = await asyncio.gather(*in_flight)
    await engine.dispose()
    _all_unavailable_or_fine(responses)


async def test_connections_killed_under_load_give_503(committed_database_url, make_app, settings, auth):
    engine = create_engine(committed_database_url, settings)
    prefix = f"K{uuid.uuid4().hex[:6].upper()}-"
    async with engine.connect() as conn:
        await add_agencies(conn, prefix=prefix)
        await conn.commit()
    app = await make_app(engine)
    killer = create_async_engine(committed_database_url, poolclass=NullPool)
    stop = asyncio.Event()

    async def kill_repeatedly() -> None:
        async with killer.connect() as conn:
            await conn.execute(text("SET application_name = 'killer'"))
            while not stop.is_set():
                await conn.scalar(KILL_APP_CONNECTIONS)
                await conn.commit()
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=30) as client:

        async def traffic(i: int) -> httpx.Response:
            if i % 2:
                return await client.get("/v1/children", headers=auth())
            return await client.post("/v1/children", json=child_payload(la_ref=prefix + "LA-N1"), headers=auth())

        killing = asyncio.create_task(kill_repeatedly())
        responses: list[httpx.Response] = []
        for _ in range(4):
            responses += await asyncio.gather(*(traffic(i) for i in range(16)))
        stop.set()
        await killing
    await killer.dispose()
    await engine.dispose()
    _all_unavailable_or_fine(responses)


def _postgres_running(data_dir) -> bool:
    return (data_dir / "postmaster.pid").exists()


def test_sigterm_stops_the_embedded_postgres_serve_started(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DATA_DIR": str(tmp_path), "ENVIRONMENT": "test"})
    cli = [sys.executable, "-m", "services.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}")
        assert _postgres_running(tmp_path / "postgres")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "serve must exit normally, not be ended by the signal"
        assert not _postgres_running(tmp_path / "postgres"), "the embedded PostgreSQL was left running"
    finally:
        if process.poll() is None:
            process.kill()
        pid_file = tmp_path / "postgres" / "postmaster.pid"
        if pid_file.exists():  # left running: stop it (fast shutdown) so it outlives no test
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
