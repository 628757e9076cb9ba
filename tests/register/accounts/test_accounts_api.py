"""Agency staff manage their households' adopter accounts over the API: invite (an email with
a single-use link, never the token in the response), list, disable, invite again."""

from services.core.auth import ADOPTER_SCOPES
from tests.fixtures.accounts import NEW_PASSWORD, browser, path_of, refresh, set_password, sign_in, tokens
from tests.fixtures.oauth import PASSWORD

ACCOUNT_FIELDS = {"ref", "email", "household_ref", "state", "invited_at", "activated_at", "disabled_at"}
OWN = {"agency": "RAA-S"}  # the household's approving agency


async def _invite(account_world, auth, email="new.adopter@example.org", **who):
    return await account_world["client"].post(
        f"/v1/households/{account_world['household']}/adopters", json={"email": email}, headers=auth(**(who or OWN))
    )


async def test_invite_makes_an_invited_account_and_an_invitation_email(
    account_world, auth, newest_link, count, settings
):
    response = await _invite(account_world, auth)
    assert response.status_code == 201, response.text
    account = response.json()
    assert set(account) == ACCOUNT_FIELDS
    assert account["state"] == "invited" and account["household_ref"] == account_world["household"]
    assert account["activated_at"] is None and account["disabled_at"] is None
    assert response.headers["location"] == f"/v1/adopter-accounts/{account['ref']}"
    link = await newest_link("NEW.adopter@example.org", "adopter_invitation")
    assert link and link.startswith(settings.public_base_url + "/account/invitation/")
    token = link.rsplit("/", 1)[1]
    assert token not in response.text, "the token goes to the adopter only"
    assert await count("SELECT count(*) FROM adopter_account_tokens WHERE token_hash = :t", t=token) == 0
    body = await count("SELECT count(*) FROM notifications WHERE body LIKE '%' || :link || '%'", link=link)
    assert body == 1
    assert (
        await count(
            "SELECT count(*) FROM audit_events WHERE resource_type = 'adopter_account' AND action = 'create' "
            "AND resource_ref = :ref",
            ref=account["ref"],
        )
        == 1
    )


async def test_an_invited_account_cannot_sign_in_until_it_sets_a_password(account_world, auth, newest_link):
    await _invite(account_world, auth)
    for guess in ("", "x" * 12, PASSWORD):
        refused = await sign_in(account_world, "new.adopter@example.org", guess)
        assert refused.status_code in (401, 400) and "location" not in refused.headers
    done = await set_password(account_world["app"], await newest_link("new.adopter@example.org", "adopter_invitation"))
    assert done.status_code == 200 and "Your password is set" in done.text
    assert (await sign_in(account_world, "new.adopter@example.org", NEW_PASSWORD)).status_code == 302
    listed = await account_world["client"].get(
        f"/v1/households/{account_world['household']}/adopters", headers=auth(**OWN)
    )
    states = {a["email"]: a["state"] for a in listed.json()}
    assert states == {"Sam@Example.org": "active", "new.adopter@example.org": "active"}


async def test_a_taken_email_is_a_conflict_and_nothing_is_written(account_world, auth, count):
    before = await count("SELECT count(*) FROM adopter_accounts") + await count("SELECT count(*) FROM notifications")
    taken = await _invite(account_world, auth, email="SAM@example.ORG")
    assert taken.status_code == 409 and taken.headers["content-type"] == "application/problem+json"
    after = await count("SELECT count(*) FROM adopter_accounts") + await count("SELECT count(*) FROM notifications")
    assert after == before


async def test_invitations_are_refused_to_others_and_bad_input(account_world, auth, count):
    before = await count("SELECT count(*) FROM adopter_accounts")
    assert (await _invite(account_world, auth, agency="RAA-N")).status_code == 403  # another agency
    adopter = auth(*ADOPTER_SCOPES, household=account_world["household"])
    by_adopter = await account_world["client"].post(
        f"/v1/households/{account_world['household']}/adopters", json={"email": "x@example.org"}, headers=adopter
    )
    assert by_adopter.status_code == 403
    read_only = await account_world["client"].post(
        f"/v1/households/{account_world['household']}/adopters",
        json={"email": "x@example.org"},
        headers=auth("households:read", agency="RAA-S"),
    )
    assert read_only.status_code == 403 and read_only.json()["error"] == "insufficient_scope"
    for body in ({"email": "not an email"}, {"email": ""}, {}, {"email": "a@b.c", "password": "x" * 20}):
        bad = await account_world["client"].post(
            f"/v1/households/{account_world['household']}/adopters", json=body, headers=auth(**OWN)
        )
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json", body
    missing = await account_world["client"].post(
        "/v1/households/H-NOPE/adopters", json={"email": "x@e.org"}, headers=auth()
    )
    assert missing.status_code == 404
    assert await count("SELECT count(*) FROM adopter_accounts") == before
    assert await count("SELECT count(*) FROM notifications") == 0


async def test_listing_is_for_the_households_own_agency(account_world, auth):
    mine = await account_world["client"].get(
        f"/v1/households/{account_world['household']}/adopters", headers=auth(**OWN)
    )
    assert mine.status_code == 200 and [a["state"] for a in mine.json()] == ["active"]
    assert set(mine.json()[0]) == ACCOUNT_FIELDS
    other = await account_world["client"].get(
        f"/v1/households/{account_world['household']}/adopters", headers=auth(agency="RAA-N")
    )
    assert other.status_code == 403
    adopter = auth(*ADOPTER_SCOPES, household=account_world["household"])
    assert (
        await account_world["client"].get(f"/v1/households/{account_world['household']}/adopters", headers=adopter)
    ).status_code == 403


async def test_disabling_stops_sign_in_refresh_and_access_tokens(account_world, auth, app_verifiers_refreshed):
    issued = await tokens(account_world, "sam@example.org", PASSWORD)
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    assert (await account_world["client"].get("/v1/households/me", headers=bearer)).status_code == 200
    account = (
        await account_world["client"].get(f"/v1/households/{account_world['household']}/adopters", headers=auth(**OWN))
    ).json()[0]
    wrong = await account_world["client"].post(
        f"/v1/adopter-accounts/{account['ref']}/disable", headers=auth(agency="RAA-N")
    )
    assert wrong.status_code == 403
    disabled = await account_world["client"].post(f"/v1/adopter-accounts/{account['ref']}/disable", headers=auth(**OWN))
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert disabled.json()["disabled_at"] is not None
    assert (await refresh(account_world, issued["refresh_token"])).status_code == 400
    assert (await sign_in(account_world, "sam@example.org", PASSWORD)).status_code == 401
    await app_verifiers_refreshed()  # what the NOTIFY on revoked_access_tokens makes every process do
    assert (await account_world["client"].get("/v1/households/me", headers=bearer)).status_code == 401
    again = await account_world["client"].post(f"/v1/adopter-accounts/{account['ref']}/invitation", headers=auth(**OWN))
    assert again.status_code == 409


async def test_a_new_invitation_kills_the_old_link(account_world, auth, newest_link):
    account = (await _invite(account_world, auth)).json()
    first = await newest_link(account["email"], "adopter_invitation")
    wrong = await account_world["client"].post(
        f"/v1/adopter-accounts/{account['ref']}/invitation", headers=auth(agency="RAA-N")
    )
    assert wrong.status_code == 403
    again = await account_world["client"].post(f"/v1/adopter-accounts/{account['ref']}/invitation", headers=auth(**OWN))
    assert again.status_code == 200 and again.json()["state"] == "invited"
    second = await newest_link(account["email"], "adopter_invitation")
    assert second != first and second.rsplit("/", 1)[1] not in again.text
    async with await browser(account_world["app"]) as b:
        assert (await b.get(path_of(first))).status_code == 410
    assert (await set_password(account_world["app"], second)).status_code == 200
    active = await account_world["client"].post(
        f"/v1/adopter-accounts/{account['ref']}/invitation", headers=auth(**OWN)
    )
    assert active.status_code == 409, "an active account resets its password instead"
    unknown = await account_world["client"].post("/v1/adopter-accounts/A-NOPE/disable", headers=auth(**OWN))
    assert unknown.status_code == 404
