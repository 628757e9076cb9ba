"""How fast the adopters' app answers, page by page, on the synthetic national register.

Loads the register into a scratch database (embedded PostgreSQL, or the server in
DATABASE_URL), registers the app as a client with a demo adopter (as `demo` does), signs in
through the register's page, expresses one interest, then times in one process (httpx over
ASGI: no sockets) each page of the app (its session lookup, its call(s) to the register,
rendering) and, as the baseline, the register's API call(s) behind it with the same token.
Prints p50/p95; the target is p95 < 300 ms per page. Figures, not a pass/fail test.

    python -m benchmarks.adopter_app [--requests 100]
"""

import argparse
import asyncio
import html
import re
import time
from urllib.parse import urlsplit

import httpx
from joserfc.jwk import KeySet

from benchmarks.seeded_database import seeded_database
from services.adopter_app.app import create_app as create_adopter_app
from services.adopter_app.register_client import RegisterClient
from services.adopter_app.sessions import Sessions
from services.adopter_app.settings import AppSettings
from services.core.app_factory import token_verifiers
from services.core.database import create_sessionmaker
from services.core.settings import Settings
from services.demo import prepare_adopter_app
from services.register.app import create_app as create_register_app
from services.register.app import local_public_keys
from services.register.oauth.keys import rotate_signing_key

APP, REGISTER = "http://app.bench", "http://register.bench"
TARGET_MS = 300
WARM_UP = 20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, seconds: list[float], baseline_p50: float | None = None) -> float:
    p50, p95 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.95) * 1000
    extra = f"  (+{p50 - baseline_p50 * 1000:5.1f} ms over its API call)" if baseline_p50 is not None else ""
    flag = "" if p95 < TARGET_MS else "  OVER TARGET"
    print(f"{name:<40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms{extra}{flag}")
    return percentile(seconds, 0.5)


async def timed(
    client: httpx.AsyncClient, path: str, requests: int, headers: dict[str, str] | None = None
) -> list[float]:
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return seconds


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def main(requests: int) -> None:
    _url, engine = await seeded_database()
    settings = Settings(environment="test")
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        await rotate_signing_key(session)
        demo = await prepare_adopter_app(session, APP)

    register_app = create_register_app(settings)
    register_app.state.settings, register_app.state.engine = settings, engine
    register_app.state.sessionmaker, register_app.state.background_tasks = sessionmaker, set()

    async def keys() -> KeySet:
        return await local_public_keys(sessionmaker)

    register_app.state.token_verifiers = await token_verifiers(settings, keys)
    register = httpx.AsyncClient(transport=httpx.ASGITransport(app=register_app), base_url=REGISTER, timeout=30)
    app_settings = AppSettings(
        register_url=REGISTER,
        public_url=APP,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        development=True,
    )
    adopter_app = create_adopter_app(app_settings, settings)
    adopter_app.state.engine = engine
    adopter_app.state.sessions = Sessions(app_settings, sessionmaker, RegisterClient(app_settings, register))
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=adopter_app), base_url=APP, timeout=30)

    # Sign in as a browser does.
    started = await browser.get("/sign-in")
    page = await register.get(path_of(started.headers["location"]))
    fields = {k: html.unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
    signed = await register.post(
        "/oauth/authorize", data={**fields, "email": demo.email, "password": demo.password, "decision": "allow"}
    )
    assert (await browser.get(path_of(signed.headers["location"]))).status_code == 303
    children = await browser.get("/children?view=all")
    ref = re.search(r'href="/children/(PR-[A-Z0-9]+)"', children.text).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await browser.get(f"/children/{ref}")).text)
    await browser.post(f"/children/{ref}/interest", data={"csrf_token": token.group(1), "message": "Hello"})  # type: ignore[union-attr]
    access = await adopter_app.state.sessions.access_token(
        await adopter_app.state.sessions.load(browser.cookies["adopter_session"])
    )
    bearer = {"Authorization": f"Bearer {access}"}

    print(f"\n{requests} requests each, one at a time (after {WARM_UP} to warm up):")
    pages = [
        ("children (approval fits)", "/children", ["/v1/profiles?limit=12&fits=true"]),
        (
            "children (all, age 2-4)",
            "/children?view=all&age_band=2-4",
            ["/v1/profiles?limit=12&age_min_years=2&age_max_years=4"],
        ),
        ("a child's profile", f"/children/{ref}", [f"/v1/profiles/{ref}", "/v1/households/me/interests"]),
        ("our interests", "/interests", ["/v1/households/me/interests"]),
        ("our family profile", "/family-profile", ["/v1/households/me/profile"]),
        ("passport", "/passport", ["/v1/passport"]),
        ("support", "/support", ["/v1/support/me"]),
    ]
    worst = 0.0
    for name, path, calls in pages:
        baseline = None
        for call in calls:
            await timed(register, call, WARM_UP, bearer)
            seconds = await timed(register, call, requests, bearer)
            p50 = report(f"  API {call[:34]}", seconds)
            baseline = (baseline or 0) + p50
        await timed(browser, path, WARM_UP)
        seconds = await timed(browser, path, requests)
        report(f"page {name}", seconds, baseline)
        worst = max(worst, percentile(seconds, 0.95))
    print(f"\nslowest page p95: {worst * 1000:.1f} ms (target < {TARGET_MS} ms)")
    await browser.aclose()
    await register.aclose()
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    asyncio.run(main(parser.parse_args().requests))
