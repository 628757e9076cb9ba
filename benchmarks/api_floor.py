"""The API against a hand-written floor, endpoint by endpoint, under one load generator.

On the England-sized synthetic register (`seeded_database.py`, or an already seeded database
given with --database-url), starts the project (`adoption-register serve --workers N`) and
the floor (`benchmarks/floor_app.py`: the same SQL and JSON through bare FastAPI + asyncpg,
with as many uvicorn workers) as real processes on loopback, and drives each endpoint with
`wrk` (bounded: --duration seconds per case), the floor and the project back to back. Prints
req/s, p50 and p99 of both and the ratio of throughputs (project / floor), with the machine's
load average beside each row. Needs `wrk` on the PATH.

    python -m benchmarks.api_floor [--workers 1 2] [--duration 10] [--connections 50]
                                   [--database-url postgresql://.../bench_xxx]
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from benchmarks.seeded_database import seeded_database
from services.core.database import asyncpg_url, create_engine
from services.core.settings import Settings
from services.matching.jobs import national_match
from services.register.oauth.keys import mint_access_token, rotate_signing_key, signing_key

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    token: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{args} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk(
    url: str, token: str | None, *, duration: int, connections: int, threads: int, server: int | None = None
) -> tuple[float, float, float, int, float]:
    """(req/s, p50 ms, p99 ms, failures, server CPU ms per request): non-2xx answers and
    socket errors (timeouts) count as failures, and their requests are not in the throughput.
    `server`: the pid whose CPU time (with its workers') is divided by the requests answered."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    cpu_before = cpu_seconds(server) if server is not None else 0.0
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server) - cpu_before if server is not None else float("nan")
    failures = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        failures += sum(int(g) for g in m.groups())
    total = int(re.search(r"(\d+) requests in ([\d.]+)(s|m)", out).group(1))  # type: ignore[union-attr]
    if failures >= total:
        return 0.0, float("nan"), float("nan"), failures, float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    if failures:  # wrk's req/s counts failed answers too
        rps *= (total - failures) / total
    return rps, p50, p99, failures, cpu * 1000 / (total - failures)


def sequential_latency(url: str, token: str, requests: int) -> tuple[float, float]:
    """(p50 ms, p95 ms) of one caller at a time: the service time, without queueing."""
    seconds = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for _ in range(requests):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            seconds.append(time.perf_counter() - started)
    seconds.sort()
    return seconds[len(seconds) // 2] * 1000, seconds[int(len(seconds) * 0.95)] * 1000


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (the
    uvicorn workers): with other work on the machine, wall-clock throughput moves with the
    load, CPU time per request much less."""
    total = 0.0
    pending = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def load_average() -> float:
    return os.getloadavg()[0]


async def prepare(database_url: str | None) -> tuple[str, list[Case]]:
    """The seeded database (made now unless given), one succeeded national run on it, and a
    token for each kind of caller."""
    if database_url:
        url = asyncpg_url(database_url)
        engine = create_engine(url, Settings(environment="test"))
    else:
        url, engine = await seeded_database()
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await rotate_signing_key(session)
        key = await signing_key(session)
        household = await session.scalar(text("SELECT ref FROM households WHERE status = 'approved' LIMIT 1"))
        child = await session.scalar(
            text(
                "SELECT c.ref FROM children c JOIN sibling_groups g ON g.id = c.sibling_group_id "
                "WHERE g.status = 'waiting' AND NOT EXISTS (SELECT 1 FROM links l WHERE l.sibling_group_id = g.id "
                "AND l.status IN ('requested', 'agreed', 'panel', 'decided', 'placed')) "
                "ORDER BY c.waiting_since, c.id LIMIT 1"
            )
        )
        run = await session.scalar(text("SELECT ref FROM match_runs WHERE status = 'succeeded' ORDER BY id LIMIT 1"))
    if run is None:
        print(await national_match(engine, today=date.today(), requested_by="benchmark"))
        async with AsyncSession(engine) as session:
            run = await session.scalar(text("SELECT ref FROM match_runs WHERE status = 'succeeded' LIMIT 1"))
    await engine.dispose()
    settings = Settings()

    def token(scopes: list[str], **claims: str) -> str:
        return mint_access_token(
            key, settings, subject="bench", scopes=scopes, client_id="bench", lifetime_seconds=3600, **claims
        )

    cases = [
        Case("family finder's children list (50)", "/v1/children?limit=50", token(["children:read"])),
        Case(
            "adopters' profile browse (20)", "/v1/profiles?limit=20", token(["profiles:read"], household_ref=household)
        ),
        Case("one child's full record (audited)", f"/v1/children/{child}", token(["children:read"])),
        Case("live candidates of one child", f"/v1/matching/children/{child}/candidates", token(["matching:read"])),
        Case("a proposal page of a run (50)", f"/v1/matching/runs/{run}/proposals?limit=50", token(["matching:read"])),
        Case("invoice list (50)", "/v1/fees/invoices?limit=50", token(["fees:read"])),
    ]
    return url, cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an already seeded database (default: seed a new one)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per case")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measured case")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--sequential", type=int, default=200, help="one-at-a-time requests for candidates' p95")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    url, cases = asyncio.run(prepare(args.database_url))
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLOOR_DSN": url.replace("postgresql+asyncpg", "postgresql"),
        "FLOOR_SQLALCHEMY_URL": url,
        "FLOOR_CANDIDATES": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    logs = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    results = []
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s per case, loopback; floor then project")
    for workers in args.workers:
        app_port, floor_port = free_port(), free_port()
        project = start(
            [sys.executable, "-m", "services.cli", "serve", "--port", str(app_port), "--workers", str(workers)],
            env,
            app_port,
            logs / f"api_floor_project_{workers}.log",
        )
        try:
            floor = start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "benchmarks.floor_app:app",
                    "--port",
                    str(floor_port),
                    "--workers",
                    str(workers),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env,
                floor_port,
                logs / f"api_floor_floor_{workers}.log",
            )
            try:
                for case in cases:
                    if "candidates" in case.name:  # the target: p95 <= 50 ms
                        url = f"http://127.0.0.1:{app_port}{case.path}"
                        sequential_latency(url, case.token, 20)  # warm
                        p50, p95 = sequential_latency(url, case.token, args.sequential)
                        print(
                            f"  {workers}w {case.name}, one caller at a time ({args.sequential} requests): "
                            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (load {load_average():.1f})",
                            flush=True,
                        )
                    row = [workers, case.name]
                    for port, token, server in ((floor_port, None, floor), (app_port, case.token, project)):
                        target = f"http://127.0.0.1:{port}{case.path}"
                        kwargs = {"connections": args.connections, "threads": args.threads}
                        if args.warmup:
                            wrk(target, token, duration=args.warmup, **kwargs)
                        measured = wrk(target, token, duration=args.duration, server=server.pid, **kwargs)
                        row.append((*measured, load_average()))
                    results.append(row)
                    print_row(row)
            finally:
                stop(floor)
        finally:
            stop(project)
    print()
    print_table(results)


def print_row(row: list) -> None:
    workers, name, (f_rps, f50, f99, f_fail, f_cpu, f_load), (p_rps, p50, p99, p_fail, p_cpu, p_load) = row
    failed = f" FAILED {p_fail} (floor {f_fail})" if p_fail or f_fail else ""
    print(
        f"  {workers}w {name}: project {p_rps:.0f} req/s p50 {p50:.1f} p99 {p99:.1f} cpu {p_cpu:.2f} ms/req "
        f"(load {p_load:.1f}){failed} | floor {f_rps:.0f} req/s p50 {f50:.1f} p99 {f99:.1f} cpu {f_cpu:.2f} ms/req "
        f"(load {f_load:.1f}) | ratio {p_rps / f_rps:.2f}, by CPU {f_cpu / p_cpu:.2f}",
        flush=True,
    )


def print_table(results: list) -> None:
    print(
        "| workers | endpoint | project req/s | p50 ms | p99 ms | CPU ms/req | floor req/s | p50 ms | p99 ms | "
        "CPU ms/req | ratio | ratio by CPU | p99 / floor's | load avg |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for workers, name, (f_rps, f50, f99, _, f_cpu, f_load), (p_rps, p50, p99, p_fail, p_cpu, p_load) in results:
        failed = f" ({p_fail} failed)" if p_fail else ""
        print(
            f"| {workers} | {name} | {p_rps:,.0f}{failed} | {p50:.1f} | {p99:.1f} | {p_cpu:.2f} | {f_rps:,.0f} | "
            f"{f50:.1f} | {f99:.1f} | {f_cpu:.2f} | {p_rps / f_rps:.2f} | {f_cpu / p_cpu:.2f} | {p99 / f99:.1f} | "
            f"{f_load:.1f} / {p_load:.1f} |"
        )


if __name__ == "__main__":
    main()
