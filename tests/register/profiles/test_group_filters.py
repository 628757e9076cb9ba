"""Profile filters apply to every child of a sibling group, in whole age bands; `fits=true`
shows only the groups the calling household's approval fits. Each filter is tested with a
group that straddles its boundary."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from services.core.auth import ADOPTER_SCOPES
from services.register.ages import years_ago
from tests.factories import add_agencies, child_payload, household_payload, needs

TODAY = date.today()


def born(years: int, days_younger: int = 0) -> date:
    """A birthday making the child `years` old today (`days_younger` days after that)."""
    return years_ago(TODAY, years) + timedelta(days=days_younger)


@pytest.fixture
async def groups(connection, client, auth):
    """Units by name: single 4; pair 4 and 9 (straddles 0-6 and 8-10); pair 3 and 5; trio 2, 3, 4;
    single 7 (band 5-7); single aged 6 years and 364 days; pair with one high need."""
    await add_agencies(connection)

    async def child(dob: date, **levels: str) -> dict:
        body = child_payload(
            date_of_birth=dob.isoformat(),
            entered_care_on=max(dob, TODAY - timedelta(days=200)).isoformat(),
            placement_order_on=(TODAY - timedelta(days=100)).isoformat(),
            needs=needs(**levels),
        )
        response = await client.post("/v1/children", json=body, headers=auth())
        assert response.status_code == 201, response.text
        return response.json()

    async def unit(*children: dict) -> str:
        if len(children) > 1:
            made = await client.post(
                "/v1/sibling-groups", json={"child_refs": [c["ref"] for c in children]}, headers=auth()
            )
            assert made.status_code == 201, made.text
            group_ref = made.json()["ref"]
        else:
            group_ref = children[0]["sibling_group_ref"]
        return group_ref

    spec = {
        "single 4": [born(4)],
        "pair 4 and 9": [born(4), born(9)],
        "pair 3 and 5": [born(3), born(5)],
        "trio 2 3 4": [born(2), born(3), born(4)],
        "single 7": [born(7)],
        "single nearly 7": [born(7, days_younger=1)],
    }
    refs = {}
    for name, dobs in spec.items():
        refs[name] = await unit(*[await child(d) for d in dobs])
    refs["pair one high need"] = await unit(await child(born(3)), await child(born(4), health_condition="high"))
    # The adopters see profile refs: each group's, from the table (staff views never show it).
    profile_of = {}
    for name, group_ref in refs.items():
        profile_of[name] = await connection.scalar(
            text("SELECT profile_ref FROM sibling_groups WHERE ref = :ref"), {"ref": group_ref}
        )
    return profile_of


async def names(client, headers, groups, **params) -> set[str]:
    listed = await client.get("/v1/profiles", params={"limit": 200, **params}, headers=headers)
    assert listed.status_code == 200, listed.text
    by_profile = {v: k for k, v in groups.items()}
    return {by_profile[p["ref"]] for p in listed.json()["items"] if p["ref"] in by_profile}


@pytest.fixture
async def searcher(client, auth, groups):
    household = await client.post("/v1/households", json=household_payload(), headers=auth())
    return auth(*ADOPTER_SCOPES, household=household.json()["ref"])


async def test_the_groups_have_profiles(groups):
    assert all(ref and ref.startswith("PR-") for ref in groups.values()), groups


async def test_an_age_search_matches_a_group_only_if_every_child_is_in_range(client, searcher, groups):
    young = await names(client, searcher, groups, age_min_years=0, age_max_years=6)
    assert "pair 4 and 9" not in young, "a 9-year-old is not in 0-6"
    # Whole bands: 6 is in the band 5-7, so a child of 7 is in, and one of nearly 7.
    assert young == {"single 4", "pair 3 and 5", "trio 2 3 4", "single 7", "single nearly 7", "pair one high need"}
    older = await names(client, searcher, groups, age_min_years=8, age_max_years=10)
    assert older == set(), "the pair's 4-year-old is not in 8-10"
    assert "pair 4 and 9" in await names(client, searcher, groups, age_min_years=2, age_max_years=10)
    from_five = await names(client, searcher, groups, age_min_years=6)  # band 5-7 and up
    assert from_five == {"single 7", "single nearly 7"}


async def test_size_and_needs_filters(client, searcher, groups):
    assert await names(client, searcher, groups, sibling_group_size=3) == {"trio 2 3 4"}
    medium = await names(client, searcher, groups, need="health_condition:medium")
    assert "pair one high need" not in medium and "pair 3 and 5" in medium


async def test_fits_shows_only_what_the_households_approval_fits(client, auth, groups):
    async def fits_for(**approval) -> set[str]:
        made = await client.post("/v1/households", json=household_payload(**approval), headers=auth())
        assert made.status_code == 201, made.text
        return await names(client, auth(*ADOPTER_SCOPES, household=made.json()["ref"]), groups, fits="true")

    two_up_to_six = await fits_for(approved_children=2, age_min_years=0, age_max_years=6, accepts_sibling_group=True)
    # Exact ages here: the household's own approval, which its adopters cannot vary.
    assert two_up_to_six == {"single 4", "pair 3 and 5", "single nearly 7", "pair one high need"}
    three = await fits_for(approved_children=3, age_min_years=0, age_max_years=6, accepts_sibling_group=True)
    assert "trio 2 3 4" in three
    no_siblings = await fits_for(approved_children=3, age_min_years=0, age_max_years=17, accepts_sibling_group=False)
    assert no_siblings == {"single 4", "single 7", "single nearly 7"}
    from_five = await fits_for(approved_children=2, age_min_years=5, age_max_years=10, accepts_sibling_group=True)
    assert from_five == {"single 7", "single nearly 7"}, "the pair 3 and 5 has a 3-year-old"
    combined = await client.get(
        "/v1/profiles",
        params={"fits": "true", "sibling_group_size": 2},
        headers=auth(
            *ADOPTER_SCOPES,
            household=(await client.post("/v1/households", json=household_payload(), headers=auth())).json()["ref"],
        ),
    )
    assert combined.status_code == 200 and all(p["sibling_group_size"] == 2 for p in combined.json()["items"])


async def test_fits_is_for_adopters(client, auth, groups):
    staff = await client.get("/v1/profiles", params={"fits": "true"}, headers=auth("profiles:read"))
    assert staff.status_code == 422 and staff.headers["content-type"] == "application/problem+json"
