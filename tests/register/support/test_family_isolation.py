"""An adopter sees its own family's support and passport, and nothing of another family's:
every route an adopter token can reach is crawled with the other family's references."""

import re
from datetime import date, timedelta

import pytest

from services.core.auth import ADOPTER_SCOPES
from tests.factories import add_agencies
from tests.fixtures.support import adopted_family, apply, assessed, authority, ok

TODAY = date.today()
SECRET_PROVIDER = "Riverside Therapy Rooms"
SECRET_PLAN = "Weekly sessions for Zephyrina"
SECRET_ENTITLEMENT = "Lakeside respite weekends"


@pytest.fixture(autouse=True)
async def agencies(connection):
    return await add_agencies(connection)


async def supported_family(client, auth, la_ref: str) -> dict:
    fam = await adopted_family(client, auth, la_ref=la_ref)
    agency = authority(auth, la_ref)
    assessment = await assessed(client, auth, fam) if la_ref == "LA-N1" else None
    if assessment is None:  # assessed() acts as LA-N1; do the same for another authority
        asked = await client.post("/v1/support/me/assessments", json={}, headers=adopter(auth, fam))
        assessment = ok(asked, 201)["ref"]
        read = await client.get(f"/v1/support/assessments/{assessment}", headers=agency)
        ok(
            await client.patch(
                f"/v1/support/assessments/{assessment}",
                json={"outcome": "support_plan", "outcome_on": TODAY.isoformat()},
                headers={**agency, "If-Match": read.headers["ETag"]},
            )
        )
    budget = await client.post(
        "/v1/support/budgets",
        json={
            "assessment_ref": assessment,
            "amount_pence": 50_000,
            "period_start": TODAY.isoformat(),
            "period_end": (TODAY + timedelta(days=365)).isoformat(),
            "managed_by": "provider",
            "manager_name": f"{SECRET_PROVIDER} {la_ref}",
        },
        headers=agency,
    )
    budget_ref = ok(budget, 201)["ref"]
    spend = {
        "spent_on": TODAY.isoformat(),
        "provider": f"{SECRET_PROVIDER} {la_ref}",
        "category": "respite",
        "amount_pence": 1_000,
    }
    ok(
        await client.post(
            f"/v1/support/budgets/{budget_ref}/spend",
            json=spend,
            headers={**agency, "If-Match": budget.headers["ETag"]},
        ),
        201,
    )
    application = None
    if la_ref == "LA-N1":
        application = ok(await apply(client, auth, assessment, fam["child_refs"][0], 10_000, 2025), 201)["ref"]
    entitlement = {
        "agency_ref": la_ref,
        "title": f"{SECRET_ENTITLEMENT} {la_ref}",
        "summary": "Local offer.",
        "source": f"{la_ref} local offer",
    }
    ok(await client.post("/v1/passport/entitlements", json=entitlement, headers=agency), 201)
    return {
        **fam,
        "assessment_ref": assessment,
        "budget_ref": budget_ref,
        "application_ref": application,
        "secrets": [f"{SECRET_PROVIDER} {la_ref}", f"{SECRET_ENTITLEMENT} {la_ref}"],
    }


def adopter(auth, fam) -> dict[str, str]:
    return auth(*ADOPTER_SCOPES, household=fam["household_ref"])


async def test_a_family_sees_its_own_support_and_nothing_of_another_familys(client, auth, make_app):
    north = await supported_family(client, auth, "LA-N1")
    south = await supported_family(client, auth, "LA-S1")

    mine = ok(await client.get("/v1/support/me", headers=adopter(auth, south)))
    assert mine["household_ref"] == south["household_ref"]
    assert [a["ref"] for a in mine["assessments"]] == [south["assessment_ref"]]
    assert [b["ref"] for b in mine["budgets"]] == [south["budget_ref"]] and mine["asf_applications"] == []
    passport = ok(await client.get("/v1/passport", headers=adopter(auth, south)))
    assert [e["title"] for e in passport["local"]] == [f"{SECRET_ENTITLEMENT} LA-S1"]
    north_view = ok(await client.get("/v1/support/me", headers=adopter(auth, north)))
    assert [a["ref"] for a in north_view["asf_applications"]] == [north["application_ref"]]
    # No case reference of a child reaches a family, not even its own child's.
    assert all(ref not in str(north_view) for ref in north["child_refs"])

    # Crawl: every route the south family's token may call, with every north reference.
    north_values = [
        north["household_ref"],
        north["ref"],
        north["assessment_ref"],
        north["budget_ref"],
        north["application_ref"],
        *north["child_refs"],
        *north["secrets"],
    ]
    app = await make_app()
    reached = set()
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            scopes = {s for req in operation.get("security", []) for s in req.get("oauth2", [])}
            if not scopes or not scopes <= ADOPTER_SCOPES:
                continue
            fills = [(re.sub(r"\{[^}]+\}", v, path), v) for v in north_values] if "{" in path else [(path, "")]
            for url, sent in fills:
                body = {} if method in ("post", "put", "patch") else None
                response = await client.request(method.upper(), url, json=body, headers=adopter(auth, south))
                assert response.status_code not in (401, 403), f"{method.upper()} {path}: {response.text}"
                # A "not found" may echo the reference the caller sent; nothing else may show.
                shown = response.text.replace(url, "")
                leaked = [v for v in north_values if v in shown and v != sent]
                assert not leaked, f"{method.upper()} {url} showed the north family's {leaked}"
                reached.add(path)
    assert {"/v1/support/me", "/v1/passport", "/v1/support/me/assessments", "/v1/scorecards"} <= reached
    # Staff routes refuse the family's token outright.
    for url in (
        f"/v1/support/assessments/{north['assessment_ref']}",
        f"/v1/support/budgets/{north['budget_ref']}",
        f"/v1/support/asf/applications/{north['application_ref']}",
    ):
        assert (await client.get(url, headers=adopter(auth, south))).status_code == 403
