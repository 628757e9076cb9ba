"""Graceful shutdown of a real server process: a request in flight when SIGTERM arrives
finishes and is answered, then the process exits."""

import asyncio
import signal

import httpx
import pytest

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


def test_a_request_in_flight_finishes_before_the_process_exits(seeded_database_url, serve, token_for_servers):
    # A national match on the synthetic register takes about a second: long enough to be in
    # flight when the signal comes.
    token = token_for_servers(seeded_database_url, ["matching:run", "matching:read"])
    server = serve(seeded_database_url)

    async def in_flight_then_stop() -> httpx.Response:
        async with httpx.AsyncClient(timeout=60) as client:
            request = asyncio.create_task(
                client.post(
                    f"{server.base}/v1/matching/runs",
                    params={"wait": "true"},
                    json={},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            await asyncio.sleep(0.4)  # the run is under way
            assert not request.done(), "the request must still be in flight when the signal comes"
            server.process.send_signal(signal.SIGTERM)
            return await request

    response = asyncio.run(in_flight_then_stop())
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    # uvicorn finishes what is in flight, shuts down, then re-raises the signal it caught.
    assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
