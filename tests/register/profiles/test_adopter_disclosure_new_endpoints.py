"""The crawl of test_adopter_views.py, over the adopters' newer routes with real content in
them: their interests (answered, with the agency's reason) and their family profile. No
restricted field of any child reaches an adopter, and each answer has exactly its fields."""

from services.core.auth import ADOPTER_SCOPES
from tests.factories import household_payload
from tests.fixtures.adopters import adopter, restricted_values

ADOPTER_GETS = (
    "/v1/households/me",
    "/v1/households/me/interests",
    "/v1/households/me/profile",
    "/v1/profiles",
    "/v1/profiles?fits=true",
)


async def test_the_adopters_newer_routes_show_no_restricted_field(client, auth, adopter_register):
    mine = adopter(auth, adopter_register)
    profiles = (await client.get("/v1/profiles", headers=mine)).json()["items"]
    interest = await client.post(f"/v1/profiles/{profiles[0]['ref']}/interest", json={"message": "Hi"}, headers=mine)
    assert interest.status_code == 201
    staff = (await client.get("/v1/interests", headers=auth())).json()["items"][0]
    answered = await client.post(
        f"/v1/interests/{staff['ref']}/answer",
        json={"status": "accepted", "reason": "We would like to meet you"},
        headers={**auth(), "If-Match": f'"{staff["version"]}"'},
    )
    assert answered.status_code == 200
    written = await client.put(
        "/v1/households/me/profile",
        json={"narrative": "Our family.", "what_we_offer": ["A garden"], "submit": True},
        headers=mine,
    )
    assert written.status_code == 200
    restricted = restricted_values(adopter_register)
    for url in ADOPTER_GETS:
        response = await client.get(url, headers=mine)
        assert response.status_code == 200, (url, response.text)
        leaked = [v for v in restricted if v in response.text]
        assert not leaked, f"{url} leaked {leaked}"
    interests = (await client.get("/v1/households/me/interests", headers=mine)).json()
    assert [(i["status"], i["answer_reason"], i["profile_ref"]) for i in interests] == [
        ("accepted", "We would like to meet you", profiles[0]["ref"])
    ]
    assert set(interests[0]) == {
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
    # A second household sees none of the first's interests or words.
    second = await client.post("/v1/households", json=household_payload(), headers=auth())
    theirs = auth(*ADOPTER_SCOPES, household=second.json()["ref"])
    assert (await client.get("/v1/households/me/interests", headers=theirs)).json() == []
    their_profile = await client.get("/v1/households/me/profile", headers=theirs)
    assert their_profile.json()["narrative"] == "" and "Our family" not in their_profile.text
    profile = (await client.get("/v1/households/me/profile", headers=mine)).json()
    assert set(profile) == {
        "ref",
        "household_ref",
        "narrative",
        "what_we_offer",
        "languages_spoken",
        "state",
        "returned_reason",
        "approved_at",
        "version",
    }
