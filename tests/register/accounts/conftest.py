"""An app with a signing key, the adopters' public client, one household of RAA-S (with an
active account, sam@example.org) and helpers to read the outbox as the browser test does."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import text

from tests.register.oauth.test_flows import REDIRECT, oauth  # noqa: F401 (a fixture)

NEWEST_LINK = text(
    "SELECT link FROM notifications WHERE lower(to_email) = lower(:email) AND kind = :kind ORDER BY id DESC LIMIT 1"
)
NEW_PASSWORD = "a long and new password"


@pytest.fixture
def newest_link(connection):
    async def read(email: str, kind: str) -> str | None:
        return (await connection.execute(NEWEST_LINK, {"email": email, "kind": kind})).scalar()

    return read


@pytest.fixture
def count(connection):
    async def rows(sql: str, **params) -> int:
        return int((await connection.execute(text(sql), params)).scalar() or 0)

    return rows


def path_of(link: str) -> str:
    return urlsplit(link).path


async def browser(app) -> httpx.AsyncClient:
    """A fresh cookie jar: one adopter's browser."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def csrf_of(page: httpx.Response) -> str:
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def set_password(app, link: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> httpx.Response:
    async with await browser(app) as b:
        form = await b.get(path_of(link))
        assert form.status_code == 200, form.text
        return await b.post(
            path_of(link),
            data={
                "csrf_token": csrf_of(form),
                "password": password,
                "confirm": password if confirm is None else confirm,
            },
        )


async def sign_in(world, email: str, password: str) -> httpx.Response:
    """The sign-in form posted as the browser does; a 302 to the client with a code, or the page again."""
    verifier = generate_token(48)
    params = {
        "response_type": "code",
        "client_id": world["public"],
        "redirect_uri": REDIRECT,
        "state": "s1",
        "scope": "profiles:read interests:write",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    async with await browser(world["app"]) as b:
        response = await b.post(
            "/oauth/authorize", data={**params, "email": email, "password": password, "decision": "allow"}
        )
    response.verifier = verifier  # type: ignore[attr-defined]
    return response


async def tokens(world, email: str, password: str) -> dict:
    signed_in = await sign_in(world, email, password)
    assert signed_in.status_code == 302, signed_in.text
    code = parse_qs(urlsplit(signed_in.headers["location"]).query)["code"][0]
    response = await world["client"].post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": world["public"],
            "code_verifier": signed_in.verifier,  # type: ignore[attr-defined]
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def refresh(world, refresh_token: str) -> httpx.Response:
    return await world["client"].post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": world["public"]},
    )


@pytest.fixture
def world(oauth):  # noqa: F811
    return oauth


@pytest.fixture
def app_verifiers_refreshed(world):
    async def refresh_all() -> None:
        for verifier in world["app"].state.token_verifiers.values():
            await verifier.refresh()

    return refresh_all
