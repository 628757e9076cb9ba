"""An open interest closes by itself, with an outcome its adopters see, when the children leave
the register (plan withdrawn, profile hidden from adopters) or are linked with another family;
either way the household's place is free again."""

import httpx
import pytest

from services.core.auth import ADOPTER_SCOPES
from tests.factories import child_payload, household_payload
from tests.fixtures.adopters import adopter
from tests.fixtures.links import ok, request, step

INTEREST_FIELDS = {
    "ref",
    "profile_ref",
    "status",
    "answer_reason",
    "outcome",
    "outcome_explanation",
    "created_at",
    "answered_at",
    "version",
}


@pytest.fixture
async def capped(make_app, settings):
    """The app with one open interest per household, so a freed place shows at once."""
    app = await make_app(app_settings=settings.model_copy(update={"interests_open_max": 1}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def _profiles(client, headers) -> list[dict]:
    return (await client.get("/v1/profiles", headers=headers)).json()["items"]


async def _patch(client, auth, url: str, body: dict) -> httpx.Response:
    etag = (await client.get(url, headers=auth())).headers["ETag"]
    return await client.patch(url, json=body, headers={**auth(), "If-Match": etag})


async def _single_and_pair(capped, auth, adopter_register):
    mine = adopter(auth, adopter_register)
    profiles = await _profiles(capped, mine)
    single = next(p for p in profiles if p["sibling_group_size"] == 1)
    pair_ = next(p for p in profiles if p["sibling_group_size"] == 2)
    first = await capped.post(f"/v1/profiles/{single['ref']}/interest", json={"message": "Hello"}, headers=mine)
    assert first.status_code == 201
    full = await capped.post(f"/v1/profiles/{pair_['ref']}/interest", json={}, headers=mine)
    assert full.status_code == 409, "the household's one place is taken"
    return mine, single, pair_


async def test_a_withdrawn_plan_closes_the_interest_and_frees_the_place(capped, auth, adopter_register):
    mine, single, pair_ = await _single_and_pair(capped, auth, adopter_register)
    group_ref = adopter_register["children"][0]["sibling_group_ref"]
    withdrawn = await _patch(capped, auth, f"/v1/sibling-groups/{group_ref}", {"status": "withdrawn"})
    assert withdrawn.status_code == 200, withdrawn.text
    interests = (await capped.get("/v1/households/me/interests", headers=mine)).json()
    assert len(interests) == 1 and set(interests[0]) == INTEREST_FIELDS
    closed = interests[0]
    assert (closed["status"], closed["outcome"], closed["profile_ref"]) == ("closed", "left_register", single["ref"])
    assert closed["outcome_explanation"] == "These children are no longer waiting on the register."
    assert closed["answered_at"] is not None
    again = await capped.post(f"/v1/profiles/{pair_['ref']}/interest", json={}, headers=mine)
    assert again.status_code == 201, "the place is free again"


async def test_a_hidden_profile_closes_the_interest_and_frees_the_place(capped, auth, adopter_register):
    mine, _, pair_ = await _single_and_pair(capped, auth, adopter_register)
    hidden = await _patch(
        capped, auth, f"/v1/children/{adopter_register['children'][0]['ref']}", {"profile_visible_to_adopters": False}
    )
    assert hidden.status_code == 200, hidden.text
    closed = (await capped.get("/v1/households/me/interests", headers=mine)).json()[0]
    assert (closed["status"], closed["outcome"]) == ("closed", "left_register")
    assert (await capped.post(f"/v1/profiles/{pair_['ref']}/interest", json={}, headers=mine)).status_code == 201


async def test_an_edit_that_keeps_the_profile_visible_leaves_the_interest_open(capped, auth, adopter_register):
    mine, _, _ = await _single_and_pair(capped, auth, adopter_register)
    edited = await _patch(
        capped, auth, f"/v1/children/{adopter_register['children'][0]['ref']}", {"profile_text": "Sings."}
    )
    assert edited.status_code == 200
    assert (await capped.get("/v1/households/me/interests", headers=mine)).json()[0]["status"] == "open"


async def test_the_answer_and_its_reason_reach_the_adopters_as_written(capped, auth, adopter_register):
    mine, _, _ = await _single_and_pair(capped, auth, adopter_register)
    staff = (await capped.get("/v1/interests", headers=auth())).json()["items"][0]
    reason = "We are looking for a family nearer to the children's grandparents; thank you for asking."
    answered = await capped.post(
        f"/v1/interests/{staff['ref']}/answer",
        json={"status": "declined", "reason": reason},
        headers={**auth(), "If-Match": f'"{staff["version"]}"'},
    )
    assert answered.status_code == 200
    seen = (await capped.get("/v1/households/me/interests", headers=mine)).json()[0]
    assert (seen["status"], seen["answer_reason"], seen["outcome"]) == ("declined", reason, None)


async def test_linked_elsewhere_frees_the_other_familys_place(client, auth, pair, make_app, settings):
    south = auth(agency="RAA-S")
    other = (await ok(await client.post("/v1/households", json=household_payload(), headers=south), 201)).json()
    theirs = auth(*ADOPTER_SCOPES, household=other["ref"])
    profile_ref = (await _profiles(client, theirs))[0]["ref"]
    await ok(await client.post(f"/v1/profiles/{profile_ref}/interest", json={}, headers=theirs), 201)
    app = await make_app(app_settings=settings.model_copy(update={"interests_open_max": 1}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as capped_:
        second = await capped_.post(
            "/v1/children",
            json=child_payload(first_name="Bo"),
            headers=auth(agency="RAA-N"),
        )
        assert second.status_code == 201
        other_profile = next(p for p in await _profiles(capped_, theirs) if p["ref"] != profile_ref)["ref"]
        assert (
            await capped_.post(f"/v1/profiles/{other_profile}/interest", json={}, headers=theirs)
        ).status_code == 409
        link = await ok(await request(client, auth, pair), 201)
        await ok(await step(client, south, link, "agree", {"on": link.json()["requested_on"]}))
        closed = (await capped_.get("/v1/households/me/interests", headers=theirs)).json()[0]
        assert (closed["status"], closed["outcome"]) == ("closed", "linked_elsewhere")
        freed = await capped_.post(f"/v1/profiles/{other_profile}/interest", json={}, headers=theirs)
        assert freed.status_code == 201
