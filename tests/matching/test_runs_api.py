"""Match runs over HTTP on the synthetic national register, each test on its own copy of it
(runs read and write through their own connections, so their data must be committed)."""

import asyncio

import pytest
from sqlalchemy import text

from services.matching import service

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

# Every proposed pair checked against the hard rules in SQL, child by child, independently of
# the engine: each child's needs, age, excluded regions, contact plan and own birth family.
BROKEN_RULES_SQL = """
SELECT p.ref FROM match_proposals p
JOIN match_runs r ON r.id = p.run_id
JOIN households h ON h.id = p.household_id
JOIN sibling_groups g ON g.id = p.sibling_group_id
WHERE r.ref = :run AND (
    h.approved_children < (SELECT count(*) FROM children c WHERE c.sibling_group_id = g.id)
    OR EXISTS (SELECT 1 FROM children c WHERE c.sibling_group_id = g.id AND (
        c.need_physical_disability > h.need_physical_disability
        OR c.need_learning_disability > h.need_learning_disability
        OR c.need_developmental_uncertainty > h.need_developmental_uncertainty
        OR c.need_health_condition > h.need_health_condition
        OR c.need_emotional_behavioural > h.need_emotional_behavioural
        OR c.need_foetal_alcohol_exposure > h.need_foetal_alcohol_exposure
        OR c.need_birth_family_history > h.need_birth_family_history
        OR c.need_contact > h.need_contact
        OR h.region = ANY (c.excluded_regions)
        OR c.contact_plan > h.contact_openness
        OR (c.min_distance_km > 0 AND c.birth_family_latitude IS NOT NULL AND 2 * 6371 * asin(sqrt(
            power(sin(radians(h.latitude - c.birth_family_latitude) / 2), 2)
            + cos(radians(c.birth_family_latitude)) * cos(radians(h.latitude))
            * power(sin(radians(h.longitude - c.birth_family_longitude) / 2), 2))) < c.min_distance_km)
        OR c.date_of_birth <= (current_date - make_interval(years => h.age_max_years + 1))
        OR c.date_of_birth > (current_date - make_interval(years => h.age_min_years))))
    OR ((SELECT count(*) FROM children c WHERE c.sibling_group_id = g.id) > 1 AND NOT h.accepts_sibling_group)
)
"""


async def run(client, auth, **body):
    response = await client.post("/v1/matching/runs", params={"wait": "true"}, json=body, headers=auth())
    assert response.status_code == 200, response.text
    return response.json()


async def every_proposal(client, auth, run_ref: str, status: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"status": status, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/v1/matching/runs/{run_ref}/proposals", params=params, headers=auth())).json()
        found += page["items"]
        if not (cursor := page["next_cursor"]):
            return found


async def test_a_national_run_proposes_explained_pairs_that_break_no_rule(seeded_app, auth):
    client, engine, _ = seeded_app
    result = await run(client, auth)
    assert result["status"] == "succeeded" and result["policy_version"] == 1
    metrics, inputs = result["metrics"], result["inputs"]
    assert inputs["children"] == 2_940 and inputs["households"] >= 1_300 and len(inputs["hash"]) == 64
    assert 0 < metrics["matched"] <= inputs["households"] and metrics["long_waiting_matched"] > 0
    assert metrics["sibling_groups_matched"] > 0 and metrics["mean_score"] > 0
    assert {"load_seconds", "mask_and_score_seconds", "solve_seconds", "store_seconds"} <= set(result["timings"])
    page = (
        await client.get(f"/v1/matching/runs/{result['ref']}/proposals", params={"status": "proposed"}, headers=auth())
    ).json()
    first = page["items"][0]
    assert first["household_ref"] and first["score"] == sum(first["components"].values())
    assert first["shortlist"] and first["shortlist"][0]["score"] == sum(first["shortlist"][0]["components"].values())
    assert [s["score"] for s in first["shortlist"]] == sorted((s["score"] for s in first["shortlist"]), reverse=True)
    async with engine.connect() as conn:
        broken = (await conn.execute(text(BROKEN_RULES_SQL), {"run": result["ref"]})).scalars().all()
        stored = await conn.scalar(
            text(
                "SELECT count(*) FROM match_proposals p JOIN match_runs r ON r.id = p.run_id "
                "WHERE r.ref = :r AND p.status = 'proposed'"
            ),
            {"r": result["ref"]},
        )
    assert broken == [] and stored == metrics["matched"]
    # Units no household can take are stored and explained rule by rule, never left out;
    # a proposal that is not its unit's top family says where that family went.
    unmatched = await every_proposal(client, auth, result["ref"], "unmatched")
    hopeless = [p for p in unmatched if p["no_eligible_household"]]
    assert len(hopeless) == inputs["units"] - metrics["units_eligible"] > 0
    assert all(p["household_ref"] is None and not p["shortlist"] for p in hopeless)
    assert all(sum(p["no_eligible_household"].values()) >= inputs["households"] for p in hopeless[:20])
    proposed = await every_proposal(client, auth, result["ref"], "proposed")
    second_best = [p for p in proposed if p["not_top"]]
    assert second_best, "on the national register some units lose their top family to another"
    for p in second_best:
        assert p["not_top"]["top_household_ref"] == p["shortlist"][0]["household_ref"] != p["household_ref"]
        assert p["not_top"]["swap_loss_points"] >= 0  # the solver's total is the best (plain mode)
    again = await run(client, auth)
    assert again["inputs"]["hash"] == result["inputs"]["hash"] and again["metrics"] == metrics  # deterministic


async def test_lexicographic_and_scoped_and_what_if_runs(seeded_app, auth):
    client, _, _ = seeded_app
    points = await run(client, auth)
    lexicographic = await run(client, auth, lexicographic=True)
    assert lexicographic["metrics"]["long_waiting_matched"] >= points["metrics"]["long_waiting_matched"]
    london = await run(client, auth, regions=["london"])
    assert london["inputs"]["units"] < points["inputs"]["units"] and london["scope"]["regions"] == ["london"]
    what_if = await run(client, auth, policy_overrides={"wait_points_cap": 0})
    assert what_if["policy_version"] is None and what_if["policy_settings"]["wait_points_cap"] == 0
    bad = await client.post("/v1/matching/runs", json={"policy_overrides": {"magic": 3}}, headers=auth())
    assert bad.status_code == 422


async def test_one_run_at_a_time(seeded_app, auth):
    client, _, _ = seeded_app
    responses = await asyncio.gather(
        *(client.post("/v1/matching/runs", params={"wait": "true"}, json={}, headers=auth()) for _ in range(3))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}
    assert 409 in codes  # the runs overlapped: only one may hold the lock


async def test_a_failed_run_leaves_no_partial_proposals(seeded_app, auth, monkeypatch):
    client, engine, _ = seeded_app

    def explode(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(service, "propose", explode)
    response = await client.post("/v1/matching/runs", params={"wait": "true"}, json={}, headers=auth())
    failed = response.json()
    assert failed["status"] == "failed" and "solver crashed" in failed["error"]
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM match_proposals p JOIN match_runs r ON r.id = p.run_id WHERE r.ref = :r"),
            {"r": failed["ref"]},
        )
    assert count == 0
    monkeypatch.undo()
    assert (await run(client, auth))["status"] == "succeeded"  # the lock was released


async def test_accept_links_and_decline_excludes_the_pair_from_later_runs(seeded_app, auth):
    client, engine, _ = seeded_app
    result = await run(client, auth)
    proposals = (
        await client.get(
            f"/v1/matching/runs/{result['ref']}/proposals", params={"status": "proposed", "limit": 2}, headers=auth()
        )
    ).json()["items"]
    accept, decline = proposals
    no_reason = await client.post(
        f"/v1/matching/proposals/{decline['ref']}/decision", json={"decision": "decline"}, headers=auth()
    )
    assert no_reason.status_code == 422
    other_agency = await client.post(
        f"/v1/matching/proposals/{accept['ref']}/decision", json={"decision": "accept"}, headers=auth(agency="VAA-01")
    )
    assert other_agency.status_code == 403
    accepted = await client.post(
        f"/v1/matching/proposals/{accept['ref']}/decision", json={"decision": "accept"}, headers=auth()
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    # Accepting asks the household's agency for a link; nothing else changes until it agrees.
    link = (await client.get(f"/v1/links/{accepted.json()['link_ref']}", headers=auth())).json()
    assert (link["status"], link["origin"]["kind"], link["origin"]["ref"]) == ("requested", "proposal", accept["ref"])
    assert (link["sibling_group_ref"], link["household_ref"]) == (accept["sibling_group_ref"], accept["household_ref"])
    group = (await client.get(f"/v1/sibling-groups/{accept['sibling_group_ref']}", headers=auth())).json()
    household = (await client.get(f"/v1/households/{accept['household_ref']}", headers=auth())).json()
    assert group["status"] == "waiting" and household["status"] == "approved"
    twice = await client.post(
        f"/v1/matching/proposals/{accept['ref']}/decision", json={"decision": "accept"}, headers=auth()
    )
    assert twice.status_code == 409
    declined = await client.post(
        f"/v1/matching/proposals/{decline['ref']}/decision",
        json={"decision": "decline", "reason": "too far for contact"},
        headers=auth(),
    )
    assert declined.status_code == 200
    later = await run(client, auth)
    async with engine.connect() as conn:
        repeated = await conn.scalar(
            text(
                "SELECT count(*) FROM match_proposals p JOIN match_runs r ON r.id = p.run_id "
                "JOIN sibling_groups g ON g.id = p.sibling_group_id JOIN households h ON h.id = p.household_id "
                "WHERE r.ref = :r AND g.ref = :g AND h.ref = :h"
            ),
            {"r": later["ref"], "g": decline["sibling_group_ref"], "h": decline["household_ref"]},
        )
        linked_again = await conn.scalar(
            text(
                "SELECT count(*) FROM match_proposals p JOIN match_runs r ON r.id = p.run_id "
                "JOIN sibling_groups g ON g.id = p.sibling_group_id WHERE r.ref = :r AND g.ref = :g"
            ),
            {"r": later["ref"], "g": accept["sibling_group_ref"]},
        )
    assert repeated == 0 and linked_again == 0  # a unit in an active link is out of the pool
    candidates = (
        await client.get(f"/v1/matching/children/{decline['sibling_group_ref']}/candidates", headers=auth())
    ).json()
    assert decline["household_ref"] not in [c["household_ref"] for c in candidates["candidates"]]


async def test_live_candidates_for_a_child_are_ranked_and_explained(seeded_app, auth):
    client, engine, _ = seeded_app
    async with engine.connect() as conn:
        child = await conn.scalar(
            text(
                "SELECT c.ref FROM children c JOIN sibling_groups g ON g.id = c.sibling_group_id "
                "WHERE g.status = 'waiting' ORDER BY c.id LIMIT 1"
            )
        )
    response = await client.get(f"/v1/matching/children/{child}/candidates", params={"k": 5}, headers=auth())
    body = response.json()
    assert response.status_code == 200 and body["policy_version"] == 1
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True) and all(
        c["score"] == sum(c["components"].values()) for c in body["candidates"]
    )
    missing = await client.get("/v1/matching/children/C-0000000000/candidates", headers=auth())
    assert missing.status_code == 404


async def test_policy_versions(seeded_app, auth):
    client, _, _ = seeded_app
    created = await client.post(
        "/v1/matching/policies",
        json={"settings": {"culture_points": 4}, "note": "less weight on shared culture"},
        headers=auth(),
    )
    assert created.status_code == 201 and created.json()["settings"]["culture_points"] == 4
    regional = await client.post(
        "/v1/matching/policies", json={"settings": {}, "note": "mine"}, headers=auth(agency="RAA-01")
    )
    assert regional.status_code == 403
    versions = (await client.get("/v1/matching/policies", headers=auth())).json()
    assert [v["version"] for v in versions][-1] == created.json()["version"] > 1
    assert (await run(client, auth))["policy_version"] == created.json()["version"]


async def test_a_run_interrupted_by_shutdown_leaves_nothing_half_written(seeded_app, auth):
    client, engine, app = seeded_app
    started = await client.post("/v1/matching/runs", json={}, headers=auth())
    assert started.status_code == 202 and started.json()["status"] == "running"
    for task in list(app.state.background_tasks):  # what the lifespan does on shutdown
        task.cancel()
    await asyncio.gather(*app.state.background_tasks, return_exceptions=True)
    stopped = (await client.get(f"/v1/matching/runs/{started.json()['ref']}", headers=auth())).json()
    assert stopped["status"] == "failed" and "Cancelled" in stopped["error"]
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM match_proposals p JOIN match_runs r ON r.id = p.run_id WHERE r.ref = :r"),
            {"r": stopped["ref"]},
        )
    assert count == 0
    assert (await run(client, auth))["status"] == "succeeded"  # and it can be run again


async def test_runs_are_listed_newest_first_and_proposals_filter(seeded_app, auth):
    client, _, _ = seeded_app
    first, second = await run(client, auth), await run(client, auth)
    page = (await client.get("/v1/matching/runs", params={"limit": 1}, headers=auth())).json()
    assert page["items"][0]["ref"] == second["ref"]
    after = (
        await client.get("/v1/matching/runs", params={"limit": 1, "cursor": page["next_cursor"]}, headers=auth())
    ).json()
    assert after["items"][0]["ref"] == first["ref"]
    failed = (await client.get("/v1/matching/runs", params={"status": "failed", "limit": 200}, headers=auth())).json()
    assert {first["ref"], second["ref"]}.isdisjoint(r["ref"] for r in failed["items"])

    url = f"/v1/matching/runs/{second['ref']}/proposals"
    everything = (await client.get(url, params={"status": "proposed", "limit": 200}, headers=auth())).json()["items"]
    one = everything[0]
    by_group = (await client.get(url, params={"sibling_group_ref": one["sibling_group_ref"]}, headers=auth())).json()
    assert [p["ref"] for p in by_group["items"]] == [one["ref"]]
    by_household = (await client.get(url, params={"household_ref": one["household_ref"]}, headers=auth())).json()
    assert one["ref"] in [p["ref"] for p in by_household["items"]]
    assert {p["household_ref"] for p in by_household["items"]} == {one["household_ref"]}
    raa = (await client.get(f"/v1/sibling-groups/{one['sibling_group_ref']}", headers=auth())).json()["raa_ref"]
    by_agency = (await client.get(url, params={"agency_ref": raa, "limit": 200}, headers=auth())).json()["items"]
    assert one["ref"] in [p["ref"] for p in by_agency]
    assert 0 < len(by_agency) < len(everything)
