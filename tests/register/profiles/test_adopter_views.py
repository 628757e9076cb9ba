"""Adopters' restricted window: anonymised profiles, their own household, capped interests;
and proof that an adopter token reaches nothing else and sees no restricted field."""

import re

import pytest

from services.core.auth import ADOPTER_SCOPES, Scope
from tests.factories import add_agencies, child_payload, household_payload

NAMES = ("Zephyrina", "Quillonby", "Marchetta", "Oswaldine")


@pytest.fixture
async def register(connection, client, auth):
    """Three visible waiting units (one a sibling pair), one hidden, one household."""
    await add_agencies(connection)
    made = []
    for i, name in enumerate(NAMES):
        body = child_payload(
            first_name=name,
            surname=f"{name}son",
            contact_notes=f"Notes about {name}'s mother",
            birth_family_latitude=53.123456,
            birth_family_longitude=-2.654321,
            profile_visible_to_adopters=(i != 3),
        )
        response = await client.post("/v1/children", json=body, headers=auth())
        assert response.status_code == 201
        made.append(response.json())
    pair = await client.post(
        "/v1/sibling-groups", json={"child_refs": [made[1]["ref"], made[2]["ref"]]}, headers=auth()
    )
    household = await client.post("/v1/households", json=household_payload(), headers=auth())
    return {"children": made, "pair": pair.json(), "household": household.json()}


def adopter(auth, register):
    return auth(*ADOPTER_SCOPES, household=register["household"]["ref"])


def restricted_values(register) -> list[str]:
    # The children's agencies (RAA-N, LA-N1) are restricted; the household's own agency is not.
    values = [register["pair"]["ref"], "LA-N1", "RAA-N", "53.12", "-2.65"]
    for child in register["children"]:
        values += [
            child["first_name"],
            child["surname"],
            child["date_of_birth"],
            child["ref"],
            child["sibling_group_ref"],
            "Notes about",
        ]
    return values


async def test_profiles_show_only_visible_waiting_units_anonymised(client, auth, register):
    response = await client.get("/v1/profiles", headers=adopter(auth, register))
    assert response.status_code == 200
    profiles = response.json()["items"]
    assert sorted(p["sibling_group_size"] for p in profiles) == [1, 2]  # the hidden child is not there
    for profile in profiles:
        assert profile["ref"].startswith("PR-")
        assert set(profile) == {"ref", "region", "sibling_group_size", "waiting", "contact_plan", "children"}
        for child in profile["children"]:
            assert set(child) == {"age_band", "sex", "ethnicity", "needs", "about"} and child["age_band"] == "2-4"
    text = response.text
    assert not [v for v in restricted_values(register) if v in text]
    pairs = await client.get("/v1/profiles", params={"sibling_group_size": 2}, headers=adopter(auth, register))
    assert len(pairs.json()["items"]) == 1
    older = await client.get("/v1/profiles", params={"age_min_years": 5}, headers=adopter(auth, register))
    assert older.json()["items"] == []


async def test_own_household_only(client, auth, register):
    mine = await client.get("/v1/households/me", headers=adopter(auth, register))
    assert mine.status_code == 200 and mine.json()["ref"] == register["household"]["ref"]
    staff = await client.get("/v1/households/me", headers=auth(Scope.PROFILES_READ))
    assert staff.status_code == 403
    other = await client.get(f"/v1/households/{register['household']['ref']}", headers=adopter(auth, register))
    assert other.status_code == 403


async def test_interest_cap_duplicates_answers_and_withdrawal(client, auth, register, settings):
    profiles = (await client.get("/v1/profiles", headers=adopter(auth, register))).json()["items"]
    first = await client.post(
        f"/v1/profiles/{profiles[0]['ref']}/interest",
        json={"message": "We love dens too"},
        headers=adopter(auth, register),
    )
    assert first.status_code == 201 and first.json()["status"] == "open"
    again = await client.post(f"/v1/profiles/{profiles[0]['ref']}/interest", json={}, headers=adopter(auth, register))
    assert again.status_code == 409
    hidden = await client.post("/v1/profiles/PR-0000000000/interest", json={}, headers=adopter(auth, register))
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
    mine = await client.get("/v1/households/me/interests", headers=adopter(auth, register))
    # The adopters see the answer and the reason as the child's agency wrote it.
    assert [(i["status"], i["answer_reason"]) for i in mine.json()] == [("declined", "distance")]
    second = await client.post(f"/v1/profiles/{profiles[1]['ref']}/interest", json={}, headers=adopter(auth, register))
    withdraw = await client.post(
        f"/v1/households/me/interests/{second.json()['ref']}/withdraw",
        headers={**adopter(auth, register), "If-Match": '"1"'},
    )
    assert withdraw.status_code == 200 and withdraw.json()["status"] == "withdrawn"


async def test_interest_cap(client, auth, register, make_app, settings):
    app = await make_app()
    app.state.settings = settings.model_copy(update={"interests_open_max": 1})
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as capped:
        profiles = (await capped.get("/v1/profiles", headers=adopter(auth, register))).json()["items"]
        ok = await capped.post(f"/v1/profiles/{profiles[0]['ref']}/interest", json={}, headers=adopter(auth, register))
        over = await capped.post(
            f"/v1/profiles/{profiles[1]['ref']}/interest", json={}, headers=adopter(auth, register)
        )
    assert ok.status_code == 201 and over.status_code == 409 and over.json()["open_max"] == 1


def operations(app):
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            scopes = {s for requirement in operation.get("security", []) for s in requirement.get("oauth2", [])}
            yield path, method, operation, scopes


def fill(path: str, register, profile_ref: str) -> str:
    adopter_path = path.startswith(("/v1/profiles", "/v1/households/me"))
    value = profile_ref if adopter_path else register["children"][0]["ref"]
    return re.sub(r"\{[^}]+\}", value, path).replace("/versions/" + value, "/versions/child")


async def test_an_adopter_token_reaches_only_adopter_routes_and_never_restricted_fields(
    client, auth, register, make_app
):
    app = await make_app()
    profile_ref = (await client.get("/v1/profiles", headers=adopter(auth, register))).json()["items"][0]["ref"]
    reached, refused = set(), set()
    for path, method, _, scopes in operations(app):
        url = fill(path, register, profile_ref)
        body = {} if method in ("post", "put", "patch") else None
        response = await client.request(
            method.upper(), url, json=body, headers={**adopter(auth, register), "If-Match": '"1"'}
        )
        shown = response.text.replace(url, "")  # a problem's `instance` echoes the caller's own URL
        leaked = [v for v in restricted_values(register) if v in shown]
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


async def test_scope_matrix_every_secured_route(client, auth, register, make_app, token):
    app = await make_app()
    all_scopes = [s.value for s in Scope]
    secured = [(p, m, s) for p, m, _, s in operations(app) if s]
    assert len(secured) > 20
    for path, method, scopes in secured:
        url = fill(path, register, "PR-X")
        body = {} if method in ("post", "put", "patch") else None
        anonymous = await client.request(method.upper(), url, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        without = [s for s in all_scopes if s not in scopes]
        missing = await client.request(
            method.upper(), url, json=body, headers={"Authorization": f"Bearer {token(*without)}"}
        )
        assert missing.status_code == 403 and missing.json()["error"] == "insufficient_scope", (path, method)
