"""Adopters' restricted window: anonymised profiles, their own household, capped interests;
and proof that an adopter token reaches nothing else and sees no restricted field."""

import re

from services.core.auth import ADOPTER_SCOPES, Scope
from tests.fixtures.adopters import adopter, restricted_values


async def test_profiles_show_only_visible_waiting_units_anonymised(client, auth, adopter_register):
    response = await client.get("/v1/profiles", headers=adopter(auth, adopter_register))
    assert response.status_code == 200
    profiles = response.json()["items"]
    assert sorted(p["sibling_group_size"] for p in profiles) == [1, 2]  # the hidden child is not there
    for profile in profiles:
        assert profile["ref"].startswith("PR-")
        assert set(profile) == {"ref", "region", "sibling_group_size", "waiting", "contact_plan", "children"}
        for child in profile["children"]:
            assert set(child) == {"age_band", "sex", "ethnicity", "needs", "about"} and child["age_band"] == "2-4"
    text = response.text
    assert not [v for v in restricted_values(adopter_register) if v in text]
    pairs = await client.get("/v1/profiles", params={"sibling_group_size": 2}, headers=adopter(auth, adopter_register))
    assert len(pairs.json()["items"]) == 1
    older = await client.get("/v1/profiles", params={"age_min_years": 5}, headers=adopter(auth, adopter_register))
    assert older.json()["items"] == []


async def test_own_household_only(client, auth, adopter_register):
    mine = await client.get("/v1/households/me", headers=adopter(auth, adopter_register))
    assert mine.status_code == 200 and mine.json()["ref"] == adopter_register["household"]["ref"]
    staff = await client.get("/v1/households/me", headers=auth(Scope.PROFILES_READ))
    assert staff.status_code == 403
    other = await client.get(
        f"/v1/households/{adopter_register['household']['ref']}", headers=adopter(auth, adopter_register)
    )
    assert other.status_code == 403


async def test_interest_cap_duplicates_answers_and_withdrawal(client, auth, adopter_register, settings):
    profiles = (await client.get("/v1/profiles", headers=adopter(auth, adopter_register))).json()["items"]
    first = await client.post(
        f"/v1/profiles/{profiles[0]['ref']}/interest",
        json={"message": "We love dens too"},
        headers=adopter(auth, adopter_register),
    )
    assert first.status_code == 201 and first.json()["status"] == "open"
    again = await client.post(
        f"/v1/profiles/{profiles[0]['ref']}/interest", json={}, headers=adopter(auth, adopter_register)
    )
    assert again.status_code == 409
    hidden = await client.post("/v1/profiles/PR-0000000000/interest", json={}, headers=adopter(auth, adopter_register))
    assert hidden.status_code == 404
    # The child's agency sees and answers it; the household's agency sees it; others do not.
    north = await client.get("/v1/interests", headers=auth(agency="RAA-N"))
    south = await client.get("/v1/interests", headers=auth(agency="RAA-S"))
    vaa = await client.get("/v1/interests", headers=auth(agency="VAA-1"))
    assert len(north.json()["items"]) == len(south.json()["items"]) == 1 and vaa.json()["items"] == []
    ref = first.json()["ref"]
    not_theirs = await client.post(
        f"/v1/interests/{ref}/answer",
        json={"status": "accepted", "reason": "not ours to say"},
        headers={**auth(agency="RAA-S"), "If-Match": '"1"'},
    )
    assert not_theirs.status_code == 403
    answered = await client.post(
        f"/v1/interests/{ref}/answer",
        json={"status": "declined", "reason": "distance"},
        headers={**auth(agency="RAA-N"), "If-Match": '"1"'},
    )
    assert answered.status_code == 200 and answered.json()["status"] == "declined"
    mine = await client.get("/v1/households/me/interests", headers=adopter(auth, adopter_register))
    # The adopters see the answer and the reason as the child's agency wrote it.
    assert [(i["status"], i["answer_reason"]) for i in mine.json()] == [("declined", "distance")]
    second = await client.post(
        f"/v1/profiles/{profiles[1]['ref']}/interest", json={}, headers=adopter(auth, adopter_register)
    )
    withdraw = await client.post(
        f"/v1/households/me/interests/{second.json()['ref']}/withdraw",
        headers={**adopter(auth, adopter_register), "If-Match": '"1"'},
    )
    assert withdraw.status_code == 200 and withdraw.json()["status"] == "withdrawn"


async def test_interest_cap(client, auth, adopter_register, make_app, settings):
    app = await make_app()
    app.state.settings = settings.model_copy(update={"interests_open_max": 1})
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as capped:
        profiles = (await capped.get("/v1/profiles", headers=adopter(auth, adopter_register))).json()["items"]
        ok = await capped.post(
            f"/v1/profiles/{profiles[0]['ref']}/interest", json={}, headers=adopter(auth, adopter_register)
        )
        over = await capped.post(
            f"/v1/profiles/{profiles[1]['ref']}/interest", json={}, headers=adopter(auth, adopter_register)
        )
    assert ok.status_code == 201 and over.status_code == 409 and over.json()["open_max"] == 1


def operations(app):
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            scopes = {s for requirement in operation.get("security", []) for s in requirement.get("oauth2", [])}
            yield path, method, operation, scopes


def fill(path: str, adopter_register, profile_ref: str) -> str:
    adopter_path = path.startswith(("/v1/profiles", "/v1/households/me"))
    value = profile_ref if adopter_path else adopter_register["children"][0]["ref"]
    return re.sub(r"\{[^}]+\}", value, path).replace("/versions/" + value, "/versions/child")


async def test_an_adopter_token_reaches_only_adopter_routes_and_never_restricted_fields(
    client, auth, adopter_register, make_app
):
    app = await make_app()
    profile_ref = (await client.get("/v1/profiles", headers=adopter(auth, adopter_register))).json()["items"][0]["ref"]
    reached, refused = set(), set()
    for path, method, _, scopes in operations(app):
        url = fill(path, adopter_register, profile_ref)
        body = {} if method in ("post", "put", "patch") else None
        response = await client.request(
            method.upper(), url, json=body, headers={**adopter(auth, adopter_register), "If-Match": '"1"'}
        )
        shown = response.text.replace(url, "")  # a problem's `instance` echoes the caller's own URL
        leaked = [v for v in restricted_values(adopter_register) if v in shown]
        assert not leaked, f"{method.upper()} {path} leaked {leaked}"
        if not scopes:
            continue  # public: the OAuth endpoints and metadata
        if scopes <= ADOPTER_SCOPES:
            assert response.status_code not in (401, 403), f"{method.upper()} {path}: {response.text}"
            reached.add(path)
        else:
            assert response.status_code == 403, f"{method.upper()} {path} answered an adopter"
            refused.add(path)
    assert {"/v1/profiles", "/v1/profiles/{ref}", "/v1/households/me"} <= reached
    assert "/v1/children/{ref}" in refused and len(refused) > 10


async def test_scope_matrix_every_secured_route(client, auth, adopter_register, make_app, token):
    app = await make_app()
    all_scopes = [s.value for s in Scope]
    secured = [(p, m, s) for p, m, _, s in operations(app) if s]
    assert len(secured) > 20
    for path, method, scopes in secured:
        url = fill(path, adopter_register, "PR-X")
        body = {} if method in ("post", "put", "patch") else None
        anonymous = await client.request(method.upper(), url, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        without = [s for s in all_scopes if s not in scopes]
        missing = await client.request(
            method.upper(), url, json=body, headers={"Authorization": f"Bearer {token(*without)}"}
        )
        assert missing.status_code == 403 and missing.json()["error"] == "insufficient_scope", (path, method)
