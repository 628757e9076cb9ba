"""The password pages on the register: invitation, forgot, reset. Single-use, expiring links
(stored as hashes); CSRF on every form; the same answer for known and unknown addresses; rate
limits; the sign-in page's security headers."""

import re

import pytest
from sqlalchemy import text

from services.core.settings import Settings
from tests.fixtures.accounts import NEW_PASSWORD, browser, csrf_of, path_of, refresh, set_password, sign_in, tokens
from tests.fixtures.oauth import PASSWORD

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml


async def _invited(account_world, auth, newest_link, email="kim@example.org") -> str:
    created = await account_world["client"].post(
        f"/v1/households/{account_world['household']}/adopters", json={"email": email}, headers=auth(agency="RAA-S")
    )
    assert created.status_code == 201
    return await newest_link(email, "adopter_invitation")


async def _password_hash(connection, email: str) -> str | None:
    return (
        await connection.execute(
            text("SELECT password_hash FROM adopter_accounts WHERE lower(email) = lower(:e)"), {"e": email}
        )
    ).scalar()


async def test_the_invitation_page_is_an_accessible_form_with_the_pages_headers(account_world, auth, newest_link):
    link = await _invited(account_world, auth, newest_link)
    async with await browser(account_world["app"]) as b:
        page = await b.get(path_of(link))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html and html.count("<h1>") == 1 and "Choose your password" in html
    for field in ("password", "confirm"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'autocomplete="new-password"' in html and re.search(r'name="csrf_token" value="[^"]{20,}"', html)
    assert "register_csrf=" in page.headers["set-cookie"] and "httponly" in page.headers["set-cookie"].lower()
    csp = page.headers["content-security-policy"]
    assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_a_bad_form_writes_nothing_and_says_why(account_world, auth, newest_link, connection):
    link = await _invited(account_world, auth, newest_link)
    short = await set_password(account_world["app"], link, "too short")
    assert short.status_code == 422 and 'role="alert"' in short.text and "at least 12" in short.text
    different = await set_password(account_world["app"], link, NEW_PASSWORD, "another long password")
    assert different.status_code == 422 and "not the same" in different.text
    async with await browser(account_world["app"]) as b:
        await b.get(path_of(link))
        forged = await b.post(
            path_of(link), data={"csrf_token": "forged", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert forged.status_code == 400 and "expired" in forged.text
    async with await browser(account_world["app"]) as b:  # no cookie at all: a cross-site post
        no_cookie = await b.post(
            path_of(link), data={"csrf_token": "x" * 43, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert no_cookie.status_code == 400
    assert await _password_hash(connection, "kim@example.org") is None
    assert (await set_password(account_world["app"], link)).status_code == 200, "the link still works after refusals"


async def test_an_invitation_link_works_once(account_world, auth, newest_link, connection):
    link = await _invited(account_world, auth, newest_link)
    assert (await set_password(account_world["app"], link)).status_code == 200
    stored = await _password_hash(connection, "kim@example.org")
    assert stored and stored.startswith("$argon2")
    async with await browser(account_world["app"]) as b:
        reused = await b.get(path_of(link))
    assert reused.status_code == 410 and "expired or has already been used" in reused.text
    assert await _password_hash(connection, "kim@example.org") == stored
    unknown = await (await browser(account_world["app"])).get("/account/invitation/" + "x" * 43)
    assert unknown.status_code == 410


async def test_an_invitation_expires_after_14_days(account_world, auth, newest_link, connection):
    link = await _invited(account_world, auth, newest_link)
    lifetime = await connection.scalar(
        text("SELECT extract(epoch FROM expires_at - created_at) FROM adopter_account_tokens ORDER BY id DESC LIMIT 1")
    )
    assert 14 * 86400 - 60 < float(lifetime) <= 14 * 86400 + 60
    await connection.execute(text("UPDATE adopter_account_tokens SET expires_at = now() - interval '1 second'"))
    assert await set_password_expecting(account_world["app"], link) == 410


async def test_after_success_the_adopter_goes_to_the_app_when_its_address_is_set(
    account_world, auth, newest_link, make_app, settings
):
    link = await _invited(account_world, auth, newest_link)
    app = await make_app(app_settings=Settings(**{**settings.model_dump(), "adopter_app_url": "https://app.example/"}))
    done = await set_password(app, link)
    assert done.status_code == 303 and done.headers["location"] == "https://app.example/"


async def test_the_sign_in_page_links_to_forgot_password(account_world):
    async with await browser(account_world["app"]) as b:
        page = await b.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": account_world["public"],
                "redirect_uri": "https://adopters.example/callback",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
        )
        forgot = await b.get("/account/forgot")
    assert page.status_code == 200 and '<a href="/account/forgot">Forgot your password?</a>' in page.text
    assert forgot.status_code == 200 and '<label for="email">' in forgot.text


async def _forgot(app, email: str, headers: dict | None = None):
    async with await browser(app) as b:
        form = await b.get("/account/forgot")
        return await b.post("/account/forgot", data={"csrf_token": csrf_of(form), "email": email}, headers=headers)


def _without_csrf(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


async def test_forgot_answers_the_same_for_known_and_unknown_addresses(account_world, newest_link, count):
    known = await _forgot(account_world["app"], "SAM@example.org")
    unknown = await _forgot(account_world["app"], "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known.text) == _without_csrf(unknown.text) and "Check your email" in known.text
    assert await newest_link("sam@example.org", "password_reset")
    assert await newest_link("nobody@example.org", "password_reset") is None
    assert await count("SELECT count(*) FROM notifications") == 1
    bad = await _forgot(account_world["app"], "not an address")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert await count("SELECT count(*) FROM notifications") == 1


async def test_a_reset_sets_a_new_password_once_and_signs_out_everywhere(account_world, newest_link):
    issued = await tokens(account_world, "sam@example.org", PASSWORD)
    await _forgot(account_world["app"], "sam@example.org")
    link = await newest_link("sam@example.org", "password_reset")
    assert "/account/reset/" in link
    assert (await set_password(account_world["app"], link)).status_code == 200
    assert (await refresh(account_world, issued["refresh_token"])).status_code == 400, (
        "the reset revokes refresh tokens"
    )
    assert (await sign_in(account_world, "sam@example.org", PASSWORD)).status_code == 401
    assert (await sign_in(account_world, "sam@example.org", NEW_PASSWORD)).status_code == 302
    assert await set_password_expecting(account_world["app"], link) == 410


async def test_a_reset_link_expires_after_an_hour_and_a_newer_one_replaces_it(account_world, newest_link, connection):
    await _forgot(account_world["app"], "sam@example.org")
    first = await newest_link("sam@example.org", "password_reset")
    lifetime = await connection.scalar(
        text("SELECT extract(epoch FROM expires_at - created_at) FROM adopter_account_tokens ORDER BY id DESC LIMIT 1")
    )
    assert 3540 < float(lifetime) <= 3660
    await _forgot(account_world["app"], "sam@example.org")
    second = await newest_link("sam@example.org", "password_reset")
    async with await browser(account_world["app"]) as b:
        assert (await b.get(path_of(first))).status_code == 410, "a newer link replaces the older"
        assert (await b.get(path_of(second))).status_code == 200
    await connection.execute(text("UPDATE adopter_account_tokens SET expires_at = now() - interval '1 second'"))
    assert (await set_password_expecting(account_world["app"], second)) == 410


async def set_password_expecting(app, link: str) -> int:
    async with await browser(app) as b:
        return (await b.get(path_of(link))).status_code


async def test_forgot_is_rate_limited_per_address_asked_for(account_world, settings, count):
    statuses = [
        (await _forgot(account_world["app"], "sam@example.org")).status_code
        for _ in range(settings.auth_max_failures_per_account + 1)
    ]
    assert statuses[:-1] == [200] * settings.auth_max_failures_per_account and statuses[-1] == 429
    limited = await _forgot(account_world["app"], "sam@example.org")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0 and 'role="alert"' in limited.text
    assert await count("SELECT count(*) FROM notifications") == settings.auth_max_failures_per_account
    assert (await _forgot(account_world["app"], "other@example.org")).status_code == 200, (
        "another address is not limited"
    )


async def test_forgot_is_rate_limited_per_caller(account_world, make_app, settings, count):
    strict = Settings(**{**settings.model_dump(), "auth_max_failures_per_address": 3})
    app = await make_app(app_settings=strict)
    statuses = [(await _forgot(app, f"person{i}@example.org")).status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("path", ["/account/invitation/abc", "/account/reset/abc"])
async def test_unknown_links_say_so_plainly(account_world, path):
    async with await browser(account_world["app"]) as b:
        page = await b.get(path)
    assert page.status_code == 410 and "<h1>This link cannot be used</h1>" in page.text
