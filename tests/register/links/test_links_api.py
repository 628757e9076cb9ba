"""Links over HTTP: the journey from a match proposal to the adoption order across two
agencies, disruption, and every refusal (which must write nothing)."""

from datetime import date, timedelta

from sqlalchemy import text

from services.core.auth import ADOPTER_SCOPES
from tests.factories import child_payload, household_payload
from tests.fixtures.links import TODAY, day, ok, request, step


async def feed(client, headers) -> list[tuple[str, str]]:
    """(kind, subject ref) of every event addressed to the caller's agency, oldest first."""
    response = await ok(await client.get("/v1/events", params={"limit": 200}, headers=headers))
    return [(e["kind"], e["subject_ref"]) for e in response.json()["items"]]


async def test_the_whole_journey_from_a_match_proposal_to_the_adoption_order(committed_client, auth):
    client, prefix, engine = committed_client
    north, south, vaa = (auth(agency=prefix + ref) for ref in ("RAA-N", "RAA-S", "VAA-1"))
    child = (
        await ok(await client.post("/v1/children", json=child_payload(la_ref=prefix + "LA-N1"), headers=north), 201)
    ).json()
    household = (
        await ok(
            await client.post(
                "/v1/households", json=household_payload(approving_agency_ref=prefix + "RAA-S"), headers=south
            ),
            201,
        )
    ).json()
    group_ref = child["sibling_group_ref"]

    # A match run over the two agencies proposes the pair, with its score explained.
    run = await ok(
        await client.post(
            "/v1/matching/runs",
            params={"wait": "true"},
            json={"agency_refs": [prefix + "RAA-N", prefix + "RAA-S"]},
            headers=north,
        )
    )
    proposals = (
        await ok(
            await client.get(f"/v1/matching/runs/{run.json()['ref']}/proposals", params={"limit": 200}, headers=north)
        )
    ).json()["items"]
    proposal = next(p for p in proposals if p["sibling_group_ref"] == group_ref)
    assert proposal["household_ref"] == household["ref"] and proposal["status"] == "proposed"

    # The household's agency cannot accept for the child; the child's agency can.
    assert (
        await client.post(
            f"/v1/matching/proposals/{proposal['ref']}/decision", json={"decision": "accept"}, headers=south
        )
    ).status_code == 403
    accepted = await ok(
        await client.post(
            f"/v1/matching/proposals/{proposal['ref']}/decision",
            json={"decision": "accept", "on": day(60)},
            headers=north,
        )
    )
    link = await ok(await client.get(f"/v1/links/{accepted.json()['link_ref']}", headers=south))
    assert link.json()["status"] == "requested" and link.json()["origin"] == {
        "kind": "proposal",
        "ref": proposal["ref"],
        "reason": "",
    }
    assert (await client.get(f"/v1/links/{link.json()['ref']}", headers=vaa)).status_code == 403

    link = await ok(await step(client, south, link, "agree", {"on": day(50)}))
    group = (await client.get(f"/v1/sibling-groups/{group_ref}", headers=north)).json()
    assert group["status"] == "linked"
    assert (await client.get(f"/v1/households/{household['ref']}", headers=south)).json()["status"] == "linked"
    link = await ok(await step(client, north, link, "panel", {"on": day(30), "recommendation": "recommended"}))
    link = await ok(await step(client, north, link, "decide", {"on": day(20)}))
    link = await ok(await step(client, north, link, "place", {"on": day(10)}))
    placement_ref = link.json()["placement_ref"]
    assert placement_ref

    # The placement raised its first instalment, from the child's RAA to the household's.
    lines = (
        await ok(await client.get("/v1/fees/invoices", params={"placement_ref": placement_ref}, headers=auth()))
    ).json()["items"]
    assert [(x["event"], x["payer_ref"], x["payee_ref"]) for x in lines] == [
        ("placement", prefix + "RAA-N", prefix + "RAA-S")
    ]
    link = await ok(await step(client, north, link, "adoption-order", {"on": day(0)}))
    final = link.json()
    # Each agency was told, in the same transaction, of what the other one did; the third
    # agency of the test heard nothing of this case.
    lref = final["ref"]
    assert [e for e in await feed(client, north) if e[0] != "invoice_raised"] == [
        ("proposal_received", proposal["ref"]),
        ("link_agreed", lref),
    ]
    assert await feed(client, south) == [
        ("link_requested", lref),
        ("link_panel", lref),
        ("link_decided", lref),
        ("placement_recorded", lref),
        ("adoption_order_recorded", lref),
    ]
    assert await feed(client, vaa) == []
    # The paying agency's finance officers heard of each line raised (the child's RAA pays).
    assert [k for k, _ in await feed(client, auth(agency=prefix + "RAA-N"))].count("invoice_raised") == 2
    assert final["status"] == "adopted" and final["decided_on"] == day(20) and final["adoption_order_on"] == day(0)
    assert [s["step"] for s in final["steps"]] == ["requested", "agreed", "panel", "decided", "placed", "adopted"]
    assert [s["by_agency_ref"] for s in final["steps"]] == [prefix + "RAA-N", prefix + "RAA-S"] + [prefix + "RAA-N"] * 4

    # Scorecard A2 ends at the decision on the link, not at any record's update.
    async with engine.connect() as conn:
        a2 = await conn.scalar(
            text(
                "SELECT l.decided_on - c.waiting_since FROM links l JOIN children c "
                "ON c.sibling_group_id = l.sibling_group_id WHERE l.ref = :ref"
            ),
            {"ref": final["ref"]},
        )
        matched_on = await conn.scalar(text("SELECT matched_on FROM sibling_groups WHERE ref = :g"), {"g": group_ref})
    assert matched_on.isoformat() == day(20) and a2 == 280  # placement order 300 days ago, decided 20 days ago
    year = TODAY.year if TODAY.month >= 4 else TODAY.year - 1
    card = (
        await ok(
            await client.get(f"/v1/scorecards/{prefix}LA-N1", params={"year": year}, headers=auth("scorecards:read"))
        )
    ).json()[0]
    assert card["a2_days_authority_to_match"]["children"] == 1  # counted once adopted (shown from 5 children)
    # The child waited 290 days: from the placement order to the placement, not to today.
    summary = (
        await client.get("/v1/children", params={"status": "placed", "la_ref": prefix + "LA-N1"}, headers=north)
    ).json()
    assert [(c["ref"], c["days_waiting"]) for c in summary["items"]] == [(child["ref"], 290)]


async def snapshot(connection) -> tuple[int, ...]:
    """Counts and versions that any write would change."""
    row = (
        await connection.execute(
            text(
                "SELECT (SELECT count(*) FROM links), (SELECT coalesce(sum(version), 0) FROM links), "
                "(SELECT count(*) FROM link_steps), (SELECT count(*) FROM placements), "
                "(SELECT coalesce(sum(version), 0) FROM sibling_groups), "
                "(SELECT coalesce(sum(version), 0) FROM households)"
            )
        )
    ).one()
    return tuple(row)


async def test_refused_steps_answer_problems_and_write_nothing(client, auth, connection, pair):
    north, south = auth(agency="RAA-N"), auth(agency="RAA-S")
    link = await ok(await request(client, auth, pair), 201)
    before = await snapshot(connection)
    refused = {
        "wrong agency": await step(client, north, link, "agree", {"on": day(30)}),
        "placement without a decided link": await step(client, north, link, "place", {"on": day(30)}),
        "out of order": await step(client, north, link, "decide", {"on": day(30)}),
        "in the future": await step(client, south, link, "agree", {"on": (TODAY + timedelta(days=1)).isoformat()}),
        "before its predecessor": await step(client, south, link, "agree", {"on": day(41)}),
        "stale If-Match": await client.post(
            f"/v1/links/{link.json()['ref']}/agree", json={"on": day(30)}, headers={**south, "If-Match": '"99"'}
        ),
        "no If-Match": await client.post(f"/v1/links/{link.json()['ref']}/agree", json={"on": day(30)}, headers=south),
        "second active link": await request(client, auth, pair),
        "a disruption before any placement": await step(
            client, north, link, "disrupt", {"on": day(1), "reason": "other"}
        ),
    }
    assert {name: r.status_code for name, r in refused.items()} == {
        "wrong agency": 403,
        "placement without a decided link": 409,
        "out of order": 409,
        "in the future": 422,
        "before its predecessor": 422,
        "stale If-Match": 412,
        "no If-Match": 428,
        "second active link": 409,
        "a disruption before any placement": 409,
    }
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in refused.values())
    assert await snapshot(connection) == before

    # Beyond the household's capacity: approved for one child, already linked for one.
    other = await ok(await client.post("/v1/children", json=child_payload(first_name="Other"), headers=north), 201)
    before = await snapshot(connection)
    beyond = await request(client, auth, pair, group_ref=other.json()["sibling_group_ref"])
    assert beyond.status_code == 409 and "approved for 1" in beyond.json()["detail"]
    # The old way round is closed: no placement or link status by hand.
    assert (await client.post("/v1/placements", json={}, headers=north)).status_code == 405
    group_url = f"/v1/sibling-groups/{pair['child']['sibling_group_ref']}"
    etag = (await client.get(group_url, headers=north)).headers["ETag"]
    by_hand = await client.patch(group_url, json={"status": "linked"}, headers={**north, "If-Match": etag})
    assert by_hand.status_code == 409 and "/v1/links" in by_hand.json()["detail"]
    assert await snapshot(connection) == before


async def test_disruption_then_a_new_link_for_the_same_children(client, auth, pair):
    north, south = auth(agency="RAA-N"), auth(agency="RAA-S")
    link = await ok(await request(client, auth, pair), 201)
    for name, body, who in (
        ("agree", {"on": day(35)}, south),
        ("panel", {"on": day(30), "recommendation": "recommended"}, north),
        ("decide", {"on": day(25)}, north),
        ("place", {"on": day(20)}, north),
    ):
        link = await ok(await step(client, who, link, name, body))
    disrupted = await ok(
        await step(client, north, link, "disrupt", {"on": day(5), "reason": "relationship_breakdown", "note": "review"})
    )
    assert (
        disrupted.json()["status"] == "disrupted" and disrupted.json()["disruption_reason"] == "relationship_breakdown"
    )
    placement = (await client.get(f"/v1/placements/{disrupted.json()['placement_ref']}", headers=north)).json()
    assert placement["ended_on"] == day(5)
    child = (await client.get(f"/v1/children/{pair['child']['ref']}", headers=north)).json()
    assert child["status"] == "waiting"
    assert child["placement_order_on"] == pair["child"]["placement_order_on"]  # their wait counts from it still
    assert child["days_waiting"] == (TODAY - date.fromisoformat(pair["child"]["waiting_since"])).days
    household = (await client.get(f"/v1/households/{pair['household']['ref']}", headers=south)).json()
    assert household["status"] == "on_hold"
    history = (
        await client.get(f"/v1/audit/versions/sibling_group/{pair['child']['sibling_group_ref']}", headers=auth())
    ).json()
    assert [v["data"]["status"] for v in history][-2:] == ["placed", "waiting"]

    # A new family for the same children: another household, a new link, placed again.
    second = await ok(
        await client.post("/v1/households", json=household_payload(approved_children=1), headers=south), 201
    )
    relink = await ok(
        await client.post(
            "/v1/links",
            json={
                "sibling_group_ref": pair["child"]["sibling_group_ref"],
                "household_ref": second.json()["ref"],
                "origin": "family_finder",
                "reason": "A family experienced with older children",
                "requested_on": day(4),
            },
            headers=north,
        ),
        201,
    )
    for name, body, who in (
        ("agree", {"on": day(3)}, south),
        ("panel", {"on": day(2), "recommendation": "recommended"}, north),
        ("decide", {"on": day(1)}, north),
        ("place", {"on": day(0)}, north),
    ):
        relink = await ok(await step(client, who, relink, name, body))
    links = (
        await client.get("/v1/links", params={"sibling_group_ref": pair["child"]["sibling_group_ref"]}, headers=north)
    ).json()["items"]
    assert [x["status"] for x in links] == ["disrupted", "placed"]


async def test_withdrawal_by_either_agency_frees_the_children_and_the_household(client, auth, pair):
    north, south = auth(agency="RAA-N"), auth(agency="RAA-S")
    link = await ok(await request(client, auth, pair), 201)
    link = await ok(await step(client, south, link, "agree", {"on": day(35)}))
    assert (await step(client, south, link, "withdraw", {"on": day(30)})).status_code == 422  # a reason is needed
    withdrawn = await ok(
        await step(client, south, link, "withdraw", {"on": day(30), "reason": "Family's circumstances changed"})
    )
    assert withdrawn.json()["end_reason"] == "Family's circumstances changed"
    group = (await client.get(f"/v1/sibling-groups/{pair['child']['sibling_group_ref']}", headers=north)).json()
    household = (await client.get(f"/v1/households/{pair['household']['ref']}", headers=south)).json()
    assert (group["status"], household["status"]) == ("waiting", "approved")
    assert (await request(client, auth, pair, on=day(20))).status_code == 201  # free to be linked again


async def test_interests_close_when_the_children_are_linked_and_answered_interest_is_an_origin(client, auth, pair):
    north, south = auth(agency="RAA-N"), auth(agency="RAA-S")
    other = await ok(await client.post("/v1/households", json=household_payload(), headers=south), 201)
    profile_ref = (
        await client.get("/v1/profiles", headers=auth(*ADOPTER_SCOPES, household=pair["household"]["ref"]))
    ).json()["items"][0]["ref"]
    interests = {}
    for household in (pair["household"], other.json()):
        adopter = auth(*ADOPTER_SCOPES, household=household["ref"])
        interests[household["ref"]] = (
            await ok(await client.post(f"/v1/profiles/{profile_ref}/interest", json={}, headers=adopter), 201)
        ).json()
    ours = interests[pair["household"]["ref"]]
    staff_view = (await client.get("/v1/interests", headers=north)).json()["items"]
    etag = f'"{next(i for i in staff_view if i["ref"] == ours["ref"])["version"]}"'
    no_reason = await client.post(
        f"/v1/interests/{ours['ref']}/answer", json={"status": "accepted"}, headers={**north, "If-Match": etag}
    )
    assert no_reason.status_code == 422
    await ok(
        await client.post(
            f"/v1/interests/{ours['ref']}/answer",
            json={"status": "accepted", "reason": "We would like to know more about your family"},
            headers={**north, "If-Match": etag},
        )
    )
    link = await ok(
        await client.post(
            "/v1/links",
            json={
                "sibling_group_ref": pair["child"]["sibling_group_ref"],
                "household_ref": pair["household"]["ref"],
                "origin": "interest",
                "origin_ref": ours["ref"],
                "requested_on": day(10),
            },
            headers=north,
        ),
        201,
    )
    assert link.json()["origin"]["kind"] == "interest"
    await ok(await step(client, south, link, "agree", {"on": day(5)}))
    seen = {}
    for household in (pair["household"], other.json()):
        mine = (
            await client.get("/v1/households/me/interests", headers=auth(*ADOPTER_SCOPES, household=household["ref"]))
        ).json()
        seen[household["ref"]] = (mine[0]["status"], mine[0]["outcome"], mine[0]["answer_reason"])
    assert seen == {
        pair["household"]["ref"]: ("accepted", None, "We would like to know more about your family"),
        other.json()["ref"]: ("closed", "linked_elsewhere", ""),
    }
    again = (
        await client.get("/v1/households/me/interests", headers=auth(*ADOPTER_SCOPES, household=other.json()["ref"]))
    ).json()
    assert again[0]["outcome_explanation"] == "These children are now linked with another family."


async def test_links_are_seen_only_by_their_two_agencies(client, auth, pair):
    link = await ok(await request(client, auth, pair), 201)
    seen = {}
    for agency in ("RAA-N", "LA-N1", "RAA-S", "VAA-1", "LA-S1"):
        listed = (await client.get("/v1/links", headers=auth(agency=agency))).json()["items"]
        one = await client.get(f"/v1/links/{link.json()['ref']}", headers=auth(agency=agency))
        seen[agency] = (len(listed), one.status_code)
    assert seen == {"RAA-N": (1, 200), "LA-N1": (1, 200), "RAA-S": (1, 200), "VAA-1": (0, 403), "LA-S1": (0, 403)}
    assert (await client.get("/v1/links", headers=auth("children:read"))).status_code == 403  # links:read needed


async def test_the_demo_describes_a_recent_adoption_step_by_step(client, auth, connection, pair):
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.register.links.service import describe_a_recent_adoption

    north, south = auth(agency="RAA-N"), auth(agency="RAA-S")
    link = await ok(await request(client, auth, pair), 201)
    for name, body, who in (
        ("agree", {"on": day(35)}, south),
        ("panel", {"on": day(30), "recommendation": "recommended"}, north),
        ("decide", {"on": day(25)}, north),
        ("place", {"on": day(20)}, north),
        ("adoption-order", {"on": day(1)}, north),
    ):
        link = await ok(await step(client, who, link, name, body))
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        text_ = await describe_a_recent_adoption(session)
    assert link.json()["ref"] in text_
    assert f"requested {day(40)}; agreed {day(35)}; panel {day(30)}; decided {day(25)}" in text_
    assert f"placed {day(20)}; adopted {day(1)}" in text_
