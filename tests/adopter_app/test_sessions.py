"""The app as a backend-for-frontend, without a browser: the cookie, CSRF on every form,
tokens kept encrypted on the server, refresh on expiry, sign-out revokes."""

import hashlib
import html
import re

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import text

from services.adopter_app.settings import AppSettings
from tests.adopter_app.register_data import restricted

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

COOKIE = "adopter_session"


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def one_row(stack, query: str, **params):
    async with stack.engine.connect() as conn:
        return (await conn.execute(text(query), params)).mappings().one_or_none()


async def first_profile_ref(browser) -> str:
    page = await browser.get("/children?view=all")
    assert page.status_code == 200
    return re.search(r'href="/children/(PR-[A-Z0-9]+)"', page.text).group(1)


async def test_the_session_cookie_is_opaque_httponly_lax_and_secure_outside_development(stack):
    async with stack.adopter_app() as browser:
        started = await browser.get("/sign-in")
        cookie = started.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # development: plain http on the developer's machine
        signed = await stack.sign_in(browser, "a@example.org")
        assert signed.status_code == 303 and signed.headers["location"] == "/children"
        session_id = browser.cookies[COOKIE]
        # The id changed at sign-in (no fixation); only its hash is stored; tokens are encrypted.
        assert session_id not in cookie
        row = await one_row(stack, "SELECT * FROM adopter_app_sessions WHERE household_ref IS NOT NULL")
        assert row["session_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
        assert session_id not in str(dict(row))
        assert not row["access_token"].startswith("eyJ") and row["refresh_token"] and row["state_hash"] is None
        assert row["household_ref"] == stack.data["household"]["ref"]
    async with stack.adopter_app(development=False, session_key=SecretStr("k" * 40)) as secure:
        cookie = (await secure.get("/sign-in")).headers["set-cookie"]
        assert cookie.startswith("__Host-adopter_session=") and "Secure" in cookie and "HttpOnly" in cookie


async def test_every_form_needs_the_sessions_csrf_token_and_nothing_is_written_without_it(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        ref = await first_profile_ref(browser)
        page = await browser.get(f"/children/{ref}")
        token = csrf(page.text)
        for refused in ({}, {"csrf_token": "0" * 64}, {"csrf_token": token[:-1]}):
            answer = await browser.post(f"/children/{ref}/interest", data={"message": "Hello", **refused})
            assert answer.status_code == 403 and "This form has expired" in answer.text
        assert (await browser.post("/sign-out", data={})).status_code == 403
        mine = await browser.get("/interests")
        assert "Withdraw interest" not in mine.text  # nothing was sent to the register
        # Another household's session id gives another token: it is refused here too.
        async with stack.adopter_app() as other:
            await stack.sign_in(other, "b@example.org")
            theirs = csrf((await other.get(f"/children/{ref}")).text)
        assert theirs != token
        assert (await browser.post(f"/children/{ref}/interest", data={"csrf_token": theirs})).status_code == 403
        made = await browser.post(f"/children/{ref}/interest", data={"message": "We love trains", "csrf_token": token})
        assert made.status_code == 303 and made.headers["location"] == "/interests?expressed"
        shown = await browser.get("/interests")
        assert "Waiting for an answer" in shown.text and ref in shown.text


async def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_stored(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        before = await one_row(stack, "SELECT * FROM adopter_app_sessions WHERE household_ref IS NOT NULL")
        async with stack.engine.begin() as conn:
            await conn.execute(text("UPDATE adopter_app_sessions SET access_expires_at = now() - interval '1 minute'"))
        page = await browser.get("/interests")
        assert page.status_code == 200 and "Our interests" in page.text
        after = await one_row(stack, "SELECT * FROM adopter_app_sessions WHERE id = :id", id=before["id"])
        assert after["refresh_token"] != before["refresh_token"] and after["access_token"] != before["access_token"]
        assert after["access_expires_at"] > before["access_expires_at"]
        used = await one_row(stack, "SELECT count(*) AS n FROM oauth_refresh_tokens WHERE used_at IS NOT NULL")
        assert used["n"] == 1  # the old one, rotated once: a second use would revoke the sign-in
        assert (await browser.get("/children")).status_code == 200


async def test_sign_out_revokes_the_refresh_token_and_deletes_the_session(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        token = csrf((await browser.get("/interests")).text)
        out = await browser.post("/sign-out", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/?signed_out"
        assert 'adopter_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
        assert await one_row(stack, "SELECT * FROM adopter_app_sessions WHERE household_ref IS NOT NULL") is None
        revoked = await one_row(stack, "SELECT count(*) AS n FROM oauth_refresh_tokens WHERE revoked_at IS NULL")
        assert revoked["n"] == 0
        assert "You have signed out." in (await browser.get("/?signed_out")).text
        after = await browser.get("/children")
        assert after.status_code == 303 and after.headers["location"] == "/"


async def test_a_sign_in_the_register_no_longer_accepts_means_signing_in_again(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        async with stack.engine.begin() as conn:  # revoked at the register (say, the account was disabled)
            await conn.execute(text("UPDATE oauth_refresh_tokens SET revoked_at = now()"))
            await conn.execute(text("UPDATE adopter_app_sessions SET access_expires_at = now() - interval '1 minute'"))
        page = await browser.get("/children")
        assert page.status_code == 303 and page.headers["location"] == "/?ended"
        assert await one_row(stack, "SELECT * FROM adopter_app_sessions WHERE household_ref IS NOT NULL") is None
        assert "Please sign in again" in (await browser.get("/?ended")).text


async def test_a_callback_this_browser_did_not_start_is_refused(stack):
    async with stack.adopter_app() as browser, stack.adopter_app() as attacker:
        await attacker.get("/sign-in")
        await browser.get("/sign-in")
        forged = await browser.get("/callback", params={"code": "stolen", "state": "not-the-one"})
        assert forged.status_code == 400 and "Sign-in did not work" in forged.text
        assert (await browser.get("/callback", params={"error": "access_denied"})).headers["location"] == "/?denied"
        assert (await browser.get("/children")).status_code == 303


async def test_pages_say_the_registers_errors_plainly_and_show_no_restricted_field(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        missing = await browser.get("/children/PR-0000000000")
        assert missing.status_code == 404 and "We could not find this page" in missing.text
        bad = await browser.get("/children", params={"age_band": "100-200", "need_contact": "extreme"})
        assert bad.status_code == 200 and "There is a problem" in bad.text
        ref = await first_profile_ref(browser)
        token = csrf((await browser.get(f"/children/{ref}")).text)
        first = await browser.post(f"/children/{ref}/interest", data={"csrf_token": token})
        assert first.status_code == 303
        assert "You told the agency you are interested" in (await browser.get(f"/children/{ref}")).text
        again = await browser.post(f"/children/{ref}/interest", data={"csrf_token": token, "message": "again"})
        assert again.status_code == 409 and "There is a problem" in again.text
        pages = ["/", "/children", "/children?view=all", f"/children/{ref}", "/interests", "/family-profile"]
        pages += ["/passport", "/support", "/children/PR-0000000000"]
        for path in pages:
            shown = await browser.get(path)
            assert shown.status_code in (200, 303, 404), (path, shown.status_code)
            leaked = [v for v in restricted(stack.data) if v in shown.text]
            assert not leaked, f"{path} shows {leaked}"
            if shown.status_code == 200:
                assert "default-src 'none'" in shown.headers["content-security-policy"]
                assert shown.headers["cache-control"] == "no-store"


def test_production_insists_on_a_session_key_and_secure_cookies():
    with pytest.raises(ValidationError, match="ADOPTER_APP_SESSION_KEY"):
        AppSettings(environment="production")
    with pytest.raises(ValidationError, match="refused in production"):
        AppSettings(environment="production", session_key="k" * 40, development=True)
    assert AppSettings(environment="production", session_key="k" * 40).cookie_name == "__Host-adopter_session"


async def test_the_family_profile_is_saved_sent_and_guarded_against_a_lost_update(stack):
    async with stack.adopter_app() as browser:
        await stack.sign_in(browser, "a@example.org")
        page = await browser.get("/family-profile")
        assert "not written yet" in page.text
        token = csrf(page.text)
        fields = {"csrf_token": token, "narrative": "Two of us and a cat.", "what_we_offer": "A garden\n\nTime\n"}
        saved = await browser.post("/family-profile", data={**fields, "etag": "", "action": "save"})
        assert saved.status_code == 303 and saved.headers["location"] == "/family-profile?saved"
        page = await browser.get("/family-profile")
        etag = html.unescape(re.search(r'name="etag" value="([^"]*)"', page.text).group(1))
        assert etag and "Draft" in page.text and "A garden\nTime</textarea>" in page.text
        stale = await browser.post("/family-profile", data={**fields, "etag": '"0"', "action": "submit"})
        assert stale.status_code == 400 and "changed the profile meanwhile" in stale.text
        sent = await browser.post("/family-profile", data={**fields, "etag": etag, "action": "submit"})
        assert sent.status_code == 303 and sent.headers["location"] == "/family-profile?submitted"
        assert "Sent to your agency for approval" in (await browser.get("/family-profile")).text
        too_long = await browser.post("/family-profile", data={**fields, "narrative": "x" * 4001, "etag": etag})
        assert too_long.status_code == 400 and "4000 characters or fewer" in too_long.text
    async with stack.adopter_app() as other:  # the other household's profile is its own
        await stack.sign_in(other, "b@example.org")
        theirs = await other.get("/family-profile")
        assert "not written yet" in theirs.text and "Two of us and a cat." not in theirs.text


async def test_children_page_on_with_the_filters_kept(stack):
    async with stack.adopter_app(page_size=1) as browser:
        await stack.sign_in(browser, "a@example.org")
        first = await browser.get("/children", params={"view": "all", "age_band": "2-4"})
        refs = re.findall(r'href="/children/(PR-[A-Z0-9]+)"', first.text)
        following = html.unescape(re.search(r'<a href="([^"]+)">Next page</a>', first.text).group(1))
        assert len(refs) == 1 and "age_band=2-4" in following and "cursor=" in following
        second = await browser.get(following)
        assert re.findall(r'href="/children/(PR-[A-Z0-9]+)"', second.text) != refs
        assert ">First page</a>" in second.text and "<dd>8-10" not in second.text
