"""Adoption support over HTTP: a family asks for an assessment, the authority records the
outcome and applies to the Adoption Support Fund within (and above) the year's limits,
delivers a personal budget; the family sees its own support and passport and nothing of
another family's; a breakdown after the order feeds the scorecard."""

from datetime import date, timedelta

import pytest

from tests.factories import add_agencies
from tests.fixtures.support import TODAY, adopted_family, apply, assessed, authority, family, ok


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def test_request_outcome_and_fund_applications_within_and_above_the_limits(client, auth):
    fam = await adopted_family(client, auth)
    child = fam["child_refs"][0]

    # The family asks; the placing authority (LA-N1, within three years of the order) must assess.
    asked = ok(
        await client.post("/v1/support/me/assessments", json={}, headers=family(auth, fam["household_ref"])), 201
    )
    assert asked["responsible_agency_ref"] == "LA-N1" and asked["outcome"] is None
    again = await client.post("/v1/support/me/assessments", json={}, headers=family(auth, fam["household_ref"]))
    assert again.status_code == 409 and again.json()["assessment_ref"] == asked["ref"]

    # The family's own agency (RAA-S) is not responsible: it neither reads nor decides.
    assert (
        await client.get(f"/v1/support/assessments/{asked['ref']}", headers=authority(auth, "RAA-S"))
    ).status_code == 403
    read = await client.get(f"/v1/support/assessments/{asked['ref']}", headers=authority(auth))
    assert read.status_code == 200 and "placing authority" in read.json()["responsibility_basis"]
    outcome = {"outcome": "support_plan", "outcome_on": TODAY.isoformat(), "support_plan": "Therapeutic parenting"}
    assert (
        await client.patch(f"/v1/support/assessments/{asked['ref']}", json=outcome, headers=authority(auth))
    ).status_code == 428
    decided = ok(
        await client.patch(
            f"/v1/support/assessments/{asked['ref']}",
            json=outcome,
            headers={**authority(auth), "If-Match": read.headers["ETag"]},
        )
    )
    assert decided["outcome"] == "support_plan" and decided["days_to_outcome"] == 0

    # 2025/26: £3,000 per child including assessments, no match funding.
    first = ok(await apply(client, auth, asked["ref"], child, 200_000, 2025), 201)
    assert [(li["allowance"], li["payer"], li["amount_pence"]) for li in first["lines"]] == [
        ("fair_access", "fund", 200_000)
    ]
    refused = await apply(
        client, auth, asked["ref"], child, 150_000, 2025, match_funding_criterion="high_risk_of_breakdown"
    )
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/asf-limit-exceeded")
    assert refused.json()["remaining_pence"] == {"fair_access": 100_000}
    assessment_2025 = await apply(client, auth, asked["ref"], child, 50_000, 2025, category="specialist_assessment")
    assert ok(assessment_2025, 201)["lines"][0]["allowance"] == "fair_access"  # no separate allowance any more
    left = ok(await client.get(f"/v1/support/asf/children/{child}/2025", headers=authority(auth)))
    assert left["remaining_pence"] == {"fair_access": 50_000} and left["used_pence"] == {"fair_access": 250_000}

    # 2017/18: £5,000 for therapy; above it, match funding only with one of the four criteria.
    assert (await apply(client, auth, asked["ref"], child, 600_000, 2017)).status_code == 409
    matched = ok(
        await apply(client, auth, asked["ref"], child, 600_001, 2017, match_funding_criterion="hard_to_place"), 201
    )
    assert [(li["allowance"], li["payer"], li["amount_pence"]) for li in matched["lines"]] == [
        ("fair_access", "fund", 500_000),
        ("match_funding", "fund", 50_000),  # equal shares; the odd penny falls to the authority
        ("match_funding", "authority", 50_001),
    ]
    assert matched["match_funding_criterion"] == "hard_to_place"
    assert matched["fund_pence"] + matched["authority_pence"] == 600_001
    # A specialist assessment has its own £2,500 allowance in 2017/18, untouched by therapy.
    specialist = ok(
        await apply(client, auth, asked["ref"], child, 250_000, 2017, category="specialist_assessment"), 201
    )
    assert [(li["allowance"], li["amount_pence"]) for li in specialist["lines"]] == [("specialist_assessment", 250_000)]
    left = ok(await client.get(f"/v1/support/asf/children/{child}/2017", headers=authority(auth)))
    assert left["remaining_pence"] == {"fair_access": 0, "specialist_assessment": 0}

    # Approved lines never change: a reversal adds negative lines and gives the limit back.
    reversed_ = ok(
        await client.post(
            f"/v1/support/asf/applications/{first['ref']}/reversal",
            json={"reason": "provider cancelled"},
            headers=authority(auth),
        )
    )
    assert reversed_["reversed"] and reversed_["fund_pence"] == 0
    assert [li["amount_pence"] for li in reversed_["lines"]] == [200_000, -200_000]
    twice = await client.post(
        f"/v1/support/asf/applications/{first['ref']}/reversal", json={"reason": "again"}, headers=authority(auth)
    )
    assert twice.status_code == 409
    left = ok(await client.get(f"/v1/support/asf/children/{child}/2025", headers=authority(auth)))
    assert left["remaining_pence"] == {"fair_access": 250_000}

    # The report: spend per authority and year.
    report = ok(await client.get("/v1/support/reports/asf", params={"year": 2017}, headers=authority(auth)))
    england, la = report
    assert england["agency_ref"] is None and la["agency_ref"] == "LA-N1"
    assert la["fund_pence"] == 800_000 and la["authority_match_pence"] == 50_001
    assert la["children_supported"] == 1 and la["families_supported"] == 1 and la["match_funded_percent"] == 50.0
    csv_report = await client.get("/v1/support/reports/asf", params={"format": "csv"}, headers=authority(auth))
    assert csv_report.headers["content-type"].startswith("text/csv") and "LA-N1" in csv_report.text


async def test_applications_need_a_support_plan_the_right_authority_and_set_limits(client, auth):
    fam = await adopted_family(client, auth)
    asked = ok(
        await client.post("/v1/support/me/assessments", json={}, headers=family(auth, fam["household_ref"])), 201
    )
    child = fam["child_refs"][0]
    assert (await apply(client, auth, asked["ref"], child, 10_000, 2025)).status_code == 409  # not yet assessed
    ref = await assessed_existing(client, auth, asked["ref"])
    other = await client.post(
        "/v1/support/asf/applications",
        json={
            "assessment_ref": ref,
            "child_ref": child,
            "category": "therapy",
            "provider": "P",
            "amount_pence": 10_000,
            "financial_year": 2025,
        },
        headers=authority(auth, "LA-S1"),
    )
    assert other.status_code == 403
    assert (await apply(client, auth, ref, child, 10_000, 2016)).status_code == 409  # no limits set for 2016
    limits = ok(await client.get("/v1/support/asf/limits", headers=authority(auth)))
    by_year = {row["financial_year"]: row for row in limits}
    assert (by_year[2017]["fair_access_pence"], by_year[2017]["specialist_assessment_pence"]) == (500_000, 250_000)
    assert by_year[2017]["match_funding"] and not by_year[2025]["match_funding"]
    assert by_year[2025]["specialist_assessment_pence"] is None and "2025" in by_year[2025]["source"]
    # Only the national team sets a year's limits; a year with spend against it is fixed.
    body = {"fair_access_pence": 300_000, "match_funding": False, "source": "test"}
    assert (await client.put("/v1/support/asf/limits/2030", json=body, headers=authority(auth))).status_code == 403
    national = auth("support:read", "support:write")
    assert (await client.put("/v1/support/asf/limits/2030", json=body, headers=national)).status_code == 201
    ok(await apply(client, auth, ref, child, 10_000, 2030), 201)
    assert (await client.put("/v1/support/asf/limits/2030", json=body, headers=national)).status_code == 409


async def assessed_existing(client, auth, ref: str) -> str:
    read = await client.get(f"/v1/support/assessments/{ref}", headers=authority(auth))
    ok(
        await client.patch(
            f"/v1/support/assessments/{ref}",
            json={"outcome": "support_plan", "outcome_on": TODAY.isoformat()},
            headers={**authority(auth), "If-Match": read.headers["ETag"]},
        )
    )
    return ref


async def test_personal_budget_balance_never_below_zero_and_the_family_sees_its_own(client, auth):
    fam = await adopted_family(client, auth)
    ref = await assessed(client, auth, fam)
    budget = await client.post(
        "/v1/support/budgets",
        json={
            "assessment_ref": ref,
            "amount_pence": 120_000,
            "period_start": (TODAY - timedelta(days=30)).isoformat(),
            "period_end": (TODAY + timedelta(days=335)).isoformat(),
            "managed_by": "family",
        },
        headers=authority(auth),
    )
    created = ok(budget, 201)
    spend = {
        "spent_on": TODAY.isoformat(),
        "provider": "Play therapist",
        "category": "therapy",
        "amount_pence": 100_000,
    }
    etag = budget.headers["ETag"]
    spent = await client.post(
        f"/v1/support/budgets/{created['ref']}/spend", json=spend, headers={**authority(auth), "If-Match": etag}
    )
    assert ok(spent, 201)["balance_pence"] == 20_000
    over = await client.post(
        f"/v1/support/budgets/{created['ref']}/spend",
        json=spend,
        headers={**authority(auth), "If-Match": spent.headers["ETag"]},
    )
    assert over.status_code == 409 and over.json()["balance_pence"] == 20_000
    stale = await client.post(
        f"/v1/support/budgets/{created['ref']}/spend",
        json={**spend, "amount_pence": 1},
        headers={**authority(auth), "If-Match": etag},
    )
    assert stale.status_code == 412

    mine = ok(await client.get("/v1/support/me", headers=family(auth, fam["household_ref"])))
    assert [b["ref"] for b in mine["budgets"]] == [created["ref"]]
    assert mine["budgets"][0]["spend"][0]["provider"] == "Play therapist"
    assert mine["budgets"][0]["balance_pence"] == 20_000 and mine["assessments"][0]["ref"] == ref


async def test_passport_national_entitlements_and_the_responsible_authoritys_own(client, auth):
    fam = await adopted_family(client, auth)
    north = ok(
        await client.post(
            "/v1/passport/entitlements",
            json={
                "agency_ref": "LA-N1",
                "title": "Support groups",
                "summary": "Monthly adopters' group.",
                "source": "LA-N1 local offer",
            },
            headers=authority(auth),
        ),
        201,
    )
    south = {"agency_ref": "LA-S1", "title": "South", "summary": "South only.", "source": "LA-S1"}
    assert (await client.post("/v1/passport/entitlements", json=south, headers=authority(auth))).status_code == 403
    ok(await client.post("/v1/passport/entitlements", json=south, headers=authority(auth, "LA-S1")), 201)

    passport = ok(await client.get("/v1/passport", headers=family(auth, fam["household_ref"])))
    titles = [e["title"] for e in passport["national"]]
    assert len(titles) == 5 and all(e["source"] for e in passport["national"])
    assert any("Adoption Support Fund" in t for t in titles) and any("school" in t for t in titles)
    assert [e["ref"] for e in passport["local"]] == [north["ref"]]
    assert passport["responsible_agency_refs"] == ["LA-N1"]

    # The authority edits its own addition (If-Match), and never the national list.
    national_ref = passport["national"][0]["ref"]
    denied = await client.patch(
        f"/v1/passport/entitlements/{national_ref}", json={"title": "x"}, headers={**authority(auth), "If-Match": '"1"'}
    )
    assert denied.status_code == 403
    withdrawn = await client.patch(
        f"/v1/passport/entitlements/{north['ref']}",
        json={"withdrawn": True},
        headers={**authority(auth), "If-Match": '"1"'},
    )
    assert ok(withdrawn)["withdrawn"]
    assert ok(await client.get("/v1/passport", headers=family(auth, fam["household_ref"])))["local"] == []


async def test_breakdown_after_the_order_feeds_the_scorecard_for_adopters_too(client, auth):
    # Placed 460 days ago, adopted 260 days ago: each first anniversary is inside the window.
    families = [await adopted_family(client, auth, order_days_ago=260) for _ in range(5)]
    broke = families[0]
    before_order = await client.post(
        f"/v1/placements/{broke['ref']}/breakdown",
        json={"returned_to_care_on": (TODAY - timedelta(days=300)).isoformat(), "reason": "child_behaviour"},
        headers=authority(auth),
    )
    assert before_order.status_code == 422
    not_theirs = await client.post(
        f"/v1/placements/{broke['ref']}/breakdown",
        json={"returned_to_care_on": (TODAY - timedelta(days=200)).isoformat(), "reason": "child_behaviour"},
        headers=authority(auth, "LA-S1"),
    )
    assert not_theirs.status_code == 403
    recorded = ok(
        await client.post(
            f"/v1/placements/{broke['ref']}/breakdown",
            json={"returned_to_care_on": (TODAY - timedelta(days=200)).isoformat(), "reason": "child_behaviour"},
            headers=authority(auth),
        ),
        201,
    )
    assert [r["child_ref"] for r in recorded] == broke["child_refs"]
    again = await client.post(
        f"/v1/placements/{broke['ref']}/breakdown",
        json={"returned_to_care_on": TODAY.isoformat(), "reason": "other"},
        headers=authority(auth),
    )
    assert again.status_code == 409

    # Adopters read the scorecards (suppressed figures only), breakdowns included.
    cards = ok(await client.get("/v1/scorecards/LA-N1", headers=family(auth, families[1]["household_ref"])))
    la = next(c for c in cards if c["level"] == "la")
    one_year = la["breakdowns"]["ended_within_1_year_percent"]
    assert one_year == {"value": 20.0, "children": 5, "suppressed": False, "threshold": None, "meets_threshold": None}
    assert la["breakdowns"]["ended_within_2_years_percent"]["children"] == 0  # not yet two years on
    # Four placed children are too few to show.
    south_family = [await adopted_family(client, auth, order_days_ago=260, la_ref="LA-S1") for _ in range(4)]
    assert south_family
    south = next(c for c in ok(await client.get("/v1/scorecards/LA-S1", headers=auth())) if c["level"] == "la")
    assert south["breakdowns"]["ended_within_1_year_percent"] == {
        "value": None,
        "children": 4,
        "suppressed": True,
        "threshold": None,
        "meets_threshold": None,
    }
    csv_cards = await client.get("/v1/scorecards/LA-N1", params={"format": "csv"}, headers=auth())
    assert "ended_within_1_year_percent" in csv_cards.text.splitlines()[0]


async def test_the_demo_prints_this_years_fund_spend_per_region(client, auth, connection, monkeypatch):
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.core import clock
    from services.demo import asf_spend_by_region

    fam = await adopted_family(client, auth)
    ref = await assessed(client, auth, fam)
    ok(await apply(client, auth, ref, fam["child_refs"][0], 12_345, 2026), 201)
    # The demo's date only (the API's requests above are dated by the real calendar).
    monkeypatch.setattr(clock, "today", lambda: date(2026, 6, 1))  # a year whose limits are loaded
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        printed = await asf_spend_by_region(session)
    north_west = next(line for line in printed.splitlines() if "north_west" in line)
    assert "1 children" in north_west and "£      123.45" in north_west
    assert "England" in printed.splitlines()[-1]


async def test_three_years_after_the_order_the_familys_authority_is_responsible(client, auth):
    fam = await adopted_family(client, auth, order_days_ago=3 * 365 + 30)
    asked = ok(
        await client.post("/v1/support/me/assessments", json={}, headers=family(auth, fam["household_ref"])), 201
    )
    # The household was approved by RAA-S: the best the register holds of where the family lives.
    assert asked["responsible_agency_ref"] == "RAA-S"
    read = await client.get(f"/v1/support/assessments/{asked['ref']}", headers=authority(auth, "RAA-S"))
    assert read.status_code == 200 and "family's authority" in read.json()["responsibility_basis"]
    assert (await client.get(f"/v1/support/assessments/{asked['ref']}", headers=authority(auth))).status_code == 403


async def test_a_support_records_history_is_in_the_audit_trail(client, auth):
    fam = await adopted_family(client, auth)
    ref = await assessed(client, auth, fam)
    response = await client.get(f"/v1/audit/versions/support_assessment/{ref}", headers=auth("audit:read"))
    assert response.status_code == 200, response.text
    versions = response.json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["data"]["outcome"] is None and versions[1]["data"]["outcome"] == "support_plan"
    missing = await client.get("/v1/audit/versions/support_budget/SB-NONE", headers=auth("audit:read"))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
