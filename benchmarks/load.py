"""Load on loopback: the family finder's list query and the adopter's profile browse through
the real server process, against a minimal FastAPI + asyncpg endpoint reading one row (the
floor), in the same run. Prints throughput and p50/p99 latency at a stated concurrency, and
the ratio to the floor. Bounded: a fixed number of requests per case.

    python -m benchmarks.load [--requests 2000] [--concurrency 16]
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks.seeded_database import seeded_database
from services.core.settings import Settings
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(args, env=env, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(
                f"http://127.0.0.1:{port}/healthz" if "services.cli" in args else f"http://127.0.0.1:{port}/row",
                timeout=1,
            )
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


async def hammer(url: str, headers: dict[str, str], requests: int, concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    queue = iter(range(requests))
    async with httpx.AsyncClient(
        headers=headers, timeout=30, limits=httpx.Limits(max_connections=concurrency)
    ) as client:

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return requests / elapsed, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000


async def main(requests: int, concurrency: int) -> None:
    url, engine = await seeded_database()
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await rotate_signing_key(session)
        key = await signing_key(session)
        household = await session.scalar(text("SELECT ref FROM households WHERE status = 'approved' LIMIT 1"))
    await engine.dispose()
    settings = Settings()
    finder = mint_access_token(
        key, settings, subject="bench", scopes=["children:read"], client_id="bench", lifetime_seconds=3600
    )
    adopter = mint_access_token(
        key,
        settings,
        subject="adopter",
        scopes=["profiles:read"],
        client_id="bench",
        household_ref=household,
        lifetime_seconds=3600,
    )
    app_port, floor_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLOOR_DSN": url.replace("postgresql+asyncpg", "postgresql"),
        "PYTHONPATH": str(HERE),
    }
    servers = [
        start([sys.executable, "-m", "services.cli", "serve", "--port", str(app_port)], env, app_port),
        start(
            [sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(floor_port), "--log-level", "warning"],
            env,
            floor_port,
        ),
    ]
    try:
        print(f"{requests:,} requests per case at concurrency {concurrency}, one server process each, loopback")
        floor = await hammer(f"http://127.0.0.1:{floor_port}/row", {}, requests, concurrency)
        print(
            f"{'floor: FastAPI + asyncpg, one row':<44} {floor[0]:7.0f} req/s  p50 {floor[1]:6.1f} ms  "
            f"p99 {floor[2]:6.1f} ms"
        )
        cases = {
            "family finder: GET /v1/children?limit=50": ("/v1/children?limit=50", finder),
            "adopter: GET /v1/profiles?limit=20": ("/v1/profiles?limit=20", adopter),
        }
        for name, (path, token) in cases.items():
            rps, p50, p99 = await hammer(
                f"http://127.0.0.1:{app_port}{path}", {"Authorization": f"Bearer {token}"}, requests, concurrency
            )
            print(
                f"{name:<44} {rps:7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"(throughput x{floor[0] / rps:.1f} below the floor)"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
