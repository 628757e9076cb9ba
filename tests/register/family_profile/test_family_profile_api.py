"""A household's profile in its adopters' words: written and submitted by the adopters,
approved or returned by their own agency, read by other agencies only as last approved."""

import pytest
from sqlalchemy import text

from services.core.auth import ADOPTER_SCOPES
from tests.factories import add_agencies, household_payload

FIELDS = {
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
OWN, OTHER = {"agency": "RAA-S"}, {"agency": "RAA-N"}
TEXT = {
    "narrative": "We are a family of two who love the outdoors.",
    "what_we_offer": ["A garden", "Time at home"],
    "languages_spoken": ["English", "Welsh"],
}


@pytest.fixture
async def homes(connection, client, auth):
    await add_agencies(connection)
    made = []
    for _ in range(2):
        response = await client.post("/v1/households", json=household_payload(), headers=auth(**OWN))
        assert response.status_code == 201
        made.append(response.json()["ref"])
    return made


def adopter(auth, household: str, *scopes: str) -> dict[str, str]:
    return auth(*(scopes or ADOPTER_SCOPES), household=household)


async def put(client, headers, body=None, etag: str | None = None, **changes):
    extra = {"If-Match": etag} if etag is not None else {}
    return await client.put("/v1/households/me/profile", json=body or {**TEXT, **changes}, headers={**headers, **extra})


async def staff_get(client, auth, household, **who):
    return await client.get(f"/v1/households/{household}/profile", headers=auth(**who))


async def decide(client, auth, household, step: str, etag: str, body=None, **who):
    return await client.post(
        f"/v1/households/{household}/profile/{step}", json=body, headers={**auth(**(who or OWN)), "If-Match": etag}
    )


async def test_adopters_write_and_submit_their_profile_with_if_match(client, auth, homes, connection):
    me = adopter(auth, homes[0])
    empty = await client.get("/v1/households/me/profile", headers=me)
    assert empty.status_code == 200 and empty.headers["etag"] == '"0"'
    assert empty.json() == {
        "ref": None,
        "household_ref": homes[0],
        "narrative": "",
        "what_we_offer": [],
        "languages_spoken": [],
        "state": "draft",
        "returned_reason": "",
        "approved_at": None,
        "version": 0,
    }
    first = await put(client, me)
    assert first.status_code == 200 and set(first.json()) == FIELDS
    assert (first.json()["state"], first.json()["version"], first.headers["etag"]) == ("draft", 1, '"1"')
    assert first.json()["ref"].startswith("FP-")
    assert (await put(client, me)).status_code == 428
    assert (await put(client, me, etag='"7"')).status_code == 412
    feed = {"params": {"kind": "family_profile_submitted"}, "headers": auth("events:read", **OWN)}
    assert (await client.get("/v1/events", **feed)).json()["items"] == [], "a draft tells nobody"
    submitted = await put(client, me, etag='"1"', submit=True)
    assert (submitted.json()["state"], submitted.json()["version"]) == ("submitted", 2)
    told = (await client.get("/v1/events", **feed)).json()["items"]
    assert [(e["subject_type"], e["subject_ref"], e["data"]) for e in told] == [
        ("family_profile", first.json()["ref"], {"household_ref": homes[0]})
    ], "the approving agency is told, with references only"
    other = {"params": {"kind": "family_profile_submitted"}, "headers": auth("events:read", **OTHER)}
    assert (await client.get("/v1/events", **other)).json()["items"] == []
    read = await client.get("/v1/households/me/profile", headers=me)
    assert read.json() == submitted.json() and read.headers["etag"] == '"2"'
    versions = await connection.scalar(
        text("SELECT count(*) FROM record_versions WHERE table_name = 'family_profiles'")
    )
    assert versions == 2, "every state is kept"
    history = await client.get(f"/v1/audit/versions/family_profile/{first.json()['ref']}", headers=auth("audit:read"))
    assert history.status_code == 200, history.text
    assert [v["data"]["state"] for v in history.json()] == ["draft", "submitted"]
    audited = await connection.scalar(
        text(
            "SELECT count(*) FROM audit_events "
            "WHERE resource_type = 'family_profile' AND action IN ('create', 'update')"
        )
    )
    assert audited == 2


async def test_the_words_are_plain_text_cleaned_and_bounded(client, auth, homes, connection):
    me = adopter(auth, homes[0])
    saved = await put(
        client,
        me,
        {
            "narrative": "  Line one\r\nLine two\x07\n\n\n\nEnd <b>not bold</b>  ",
            "what_we_offer": ["  a   big\ngarden "],
            "submit": False,
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["narrative"] == "Line one\nLine two\n\nEnd <b>not bold</b>"
    assert saved.json()["what_we_offer"] == ["a big garden"] and saved.json()["languages_spoken"] == []
    before = await connection.scalar(text("SELECT version FROM family_profiles"))
    for bad in (
        {**TEXT, "narrative": "x" * 4001},
        {**TEXT, "what_we_offer": [f"item {i}" for i in range(13)]},
        {**TEXT, "what_we_offer": ["   "]},
        {**TEXT, "what_we_offer": ["x" * 121]},
        {**TEXT, "languages_spoken": ["x" * 41]},
        {**TEXT, "photo": "me.jpg"},
        {"narrative": "no list"},
        {**TEXT, "narrative": "nul \x00 byte" * 1, "what_we_offer": 3},
    ):
        refused = await put(client, me, bad, etag='"1"')
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json", bad
    assert await connection.scalar(text("SELECT version FROM family_profiles")) == before


async def test_other_agencies_read_only_the_last_approved_text(client, auth, homes):
    me = adopter(auth, homes[0])
    await put(client, me, submit=True)
    own = await staff_get(client, auth, homes[0], **OWN)
    assert own.status_code == 200 and own.json()["state"] == "submitted" and own.headers["etag"] == '"1"'
    hidden = await staff_get(client, auth, homes[0], **OTHER)
    assert hidden.status_code == 404 and hidden.headers["content-type"] == "application/problem+json"
    assert (await decide(client, auth, homes[0], "approve", '"1"', **OTHER)).status_code == 403
    assert (await decide(client, auth, homes[0], "approve", '"9"')).status_code == 412
    missing = await client.post(f"/v1/households/{homes[0]}/profile/approve", headers=auth(**OWN))
    assert missing.status_code == 428
    approved = await decide(client, auth, homes[0], "approve", '"1"')
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["approved_at"] is not None
    seen = (await staff_get(client, auth, homes[0], **OTHER)).json()
    assert (seen["narrative"], seen["what_we_offer"], seen["state"]) == (
        TEXT["narrative"],
        TEXT["what_we_offer"],
        "approved",
    )

    # The adopters edit: other agencies keep reading the approved words until they are approved.
    edited = await put(
        client, me, etag=approved.headers["etag"], narrative="A new chapter for our family.", submit=True
    )
    assert edited.json()["state"] == "submitted" and edited.json()["approved_at"] is not None
    still = await staff_get(client, auth, homes[0], **OTHER)
    assert still.json()["narrative"] == TEXT["narrative"] and "etag" not in still.headers
    assert (await staff_get(client, auth, homes[0], **OWN)).json()["narrative"] == "A new chapter for our family."
    await decide(client, auth, homes[0], "approve", edited.headers["etag"])
    assert (await staff_get(client, auth, homes[0], **OTHER)).json()["narrative"] == "A new chapter for our family."


async def test_a_returned_profile_shows_the_agencys_reason(client, auth, homes):
    me = adopter(auth, homes[0])
    draft = await put(client, me)
    not_yet = await decide(client, auth, homes[0], "approve", draft.headers["etag"])
    assert not_yet.status_code == 409, "only a submitted profile is decided"
    submitted = await put(client, me, etag=draft.headers["etag"], submit=True)
    short = await decide(client, auth, homes[0], "return", submitted.headers["etag"], {"reason": ""})
    assert short.status_code == 422
    reason = "Please say a little more about your support network."
    returned = await decide(client, auth, homes[0], "return", submitted.headers["etag"], {"reason": reason})
    assert returned.status_code == 200 and returned.json()["state"] == "returned"
    mine = (await client.get("/v1/households/me/profile", headers=me)).json()
    assert (mine["state"], mine["returned_reason"]) == ("returned", reason)
    saved = await put(client, me, etag=f'"{mine["version"]}"', narrative="More about our friends nearby.")
    assert (saved.json()["state"], saved.json()["returned_reason"]) == ("returned", reason)
    resubmitted = await put(client, me, etag=saved.headers["etag"], submit=True)
    assert (resubmitted.json()["state"], resubmitted.json()["returned_reason"]) == ("submitted", "")
    assert (await staff_get(client, auth, homes[0], **OTHER)).status_code == 404, "never approved"


async def test_each_household_sees_only_its_own_profile_and_staff_routes_refuse_adopters(client, auth, homes):
    await put(client, adopter(auth, homes[0]), narrative="The first family's words.")
    theirs = await client.get("/v1/households/me/profile", headers=adopter(auth, homes[1]))
    assert theirs.json()["household_ref"] == homes[1] and theirs.json()["narrative"] == ""
    assert "first family" not in theirs.text
    by_adopter = await client.get(f"/v1/households/{homes[0]}/profile", headers=adopter(auth, homes[1]))
    assert by_adopter.status_code == 403
    approve = await client.post(
        f"/v1/households/{homes[0]}/profile/approve", headers={**adopter(auth, homes[0]), "If-Match": '"1"'}
    )
    assert approve.status_code == 403
    staff_put = await client.put("/v1/households/me/profile", json=TEXT, headers=auth(**OWN))
    assert staff_put.status_code == 403
    read_only = await client.put(
        "/v1/households/me/profile", json=TEXT, headers=adopter(auth, homes[1], "profiles:read")
    )
    assert read_only.status_code == 403 and read_only.json()["error"] == "insufficient_scope"
    unknown = await client.get("/v1/households/H-NOPE/profile", headers=auth(**OWN))
    assert unknown.status_code == 404
