"""Rate limits: no lock-out of every adopter through the public client's name, the real
address behind a trusted proxy only, and counting that holds under parallel requests."""

import asyncio

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.settings import Settings
from services.register.oauth.accounts import create_client
from services.register.oauth.keys import rotate_signing_key
from tests.fixtures.oauth import REDIRECT, authorize


def _bad_code(public_client: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": generate_token(30),
        "redirect_uri": REDIRECT,
        "client_id": public_client,
        "code_verifier": generate_token(48),
    }


async def test_failures_naming_the_public_client_do_not_lock_out_adopters(oauth, settings):
    client = oauth["client"]
    for _ in range(settings.auth_max_failures_per_account + 2):
        failed = await client.post("/oauth/token", data=_bad_code(oauth["public"]))
        assert failed.status_code == 400, failed.text
    async with AsyncOAuth2Client(
        client_id=oauth["public"],
        scope="profiles:read",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=httpx.ASGITransport(app=oauth["app"]),
        base_url="http://test",
        token_endpoint_auth_method="none",
    ) as adopter:
        verifier = generate_token(48)
        redirected = await authorize(adopter, oauth["app"], verifier)
        token = await adopter.fetch_token(
            "http://test/oauth/token", authorization_response=redirected.headers["location"], code_verifier=verifier
        )
    assert token["access_token"]


@pytest.fixture
async def behind_proxy(oauth, make_app, settings):
    """The app as deployed behind an ingress at 127.0.0.1 (the ASGI test client's address)."""
    proxied = Settings(
        **{**settings.model_dump(), "trusted_proxies": ["127.0.0.1/32"], "auth_max_failures_per_address": 3}
    )
    app = await make_app(app_settings=proxied)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def test_each_caller_behind_a_trusted_proxy_is_limited_on_its_own_address(oauth, behind_proxy):
    noisy = {"X-Forwarded-For": "203.0.113.7"}
    codes = [
        (await behind_proxy.post("/oauth/token", data=_bad_code(oauth["public"]), headers=noisy)).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    # Another caller through the same proxy is not blocked by the noisy one.
    other = await behind_proxy.post(
        "/oauth/token", data=_bad_code(oauth["public"]), headers={"X-Forwarded-For": "198.51.100.20"}
    )
    assert other.status_code == 400
    # A caller cannot escape by writing its own address before the proxy's entry.
    spoofed = await behind_proxy.post(
        "/oauth/token", data=_bad_code(oauth["public"]), headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.7"}
    )
    assert spoofed.status_code == 429


async def test_forwarded_header_from_an_untrusted_peer_is_ignored(oauth, make_app, settings):
    direct = Settings(**{**settings.model_dump(), "auth_max_failures_per_address": 3})
    app = await make_app(app_settings=direct)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        codes = [
            (
                await client.post(
                    "/oauth/token", data=_bad_code(oauth["public"]), headers={"X-Forwarded-For": f"192.0.2.{i}"}
                )
            ).status_code
            for i in range(4)
        ]
    assert codes == [400, 400, 400, 429]


async def test_parallel_failures_each_count(committed_client, settings, monkeypatch):
    client, prefix, engine = committed_client
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await rotate_signing_key(session)
        system, _ = await create_client(
            session,
            name="racing system",
            scopes=["children:read"],
            agency_ref=prefix + "RAA-N",
            redirect_uris=[],
            public=False,
        )
    checks = 0
    original = type(system).check_client_secret

    def counted(self, secret: str) -> bool:
        nonlocal checks
        checks += 1
        return original(self, secret)

    monkeypatch.setattr(type(system), "check_client_secret", counted)
    responses = await asyncio.gather(
        *(
            client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=(system.client_id, "wrong secret")
            )
            for _ in range(40)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert checks == settings.auth_max_failures_per_account, codes
    assert codes.count(401) == settings.auth_max_failures_per_account and codes.count(429) == 35
