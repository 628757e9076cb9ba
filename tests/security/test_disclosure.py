"""Disclosure control: no suppressed scorecard cell follows from a total, no percentage
reveals a small count, and adopters filter ages only in the bands a profile shows."""

from datetime import date, timedelta

from tests.factories import child_payload
from tests.fixtures.adopters import adopter
from tests.fixtures.scorecards import cards

BANDS = ("under 6 months", "6 to 12 months", "12 to 18 months", "18 months or more")
FIGURES = ("a1_days_care_to_placement", "a2_days_authority_to_match", "a3_percent_placed_within_14_months")


def _alone(group: list[bool]) -> bool:
    return sum(group) == 1


async def test_no_suppressed_cell_can_be_derived_from_a_total(client, auth, scorecard_register, connection):
    every = [c for level in ("national", "raa", "la") for c in await cards(client, auth, level=level)]
    by_ref = {c["agency_ref"]: c for c in every}
    # Rows: a card's waiting bands add up to its total (hidden counts as None).
    for card in every:
        waiting = card["waiting"]
        hidden = [waiting["children"] is None] + [waiting["days_waited"][b] is None for b in BANDS]
        assert not _alone(hidden), card["agency_ref"]
    # Columns: LAs add up to their RAA, RAAs to the nation, figure by figure.
    parents = dict(
        (
            await connection.exec_driver_sql(
                "SELECT la.ref, raa.ref FROM agencies la JOIN agencies raa ON raa.id = la.parent_raa_id"
            )
        ).all()
    )
    families: dict[str | None, list[dict]] = {}
    for card in every:
        if card["level"] == "raa":
            families.setdefault(None, []).append(card)
        elif card["level"] == "la" and card["agency_ref"] in parents:
            families.setdefault(parents[card["agency_ref"]], []).append(card)
    for parent_ref, members in families.items():
        parent = by_ref[parent_ref]
        for name in FIGURES:
            cells = [parent[name]] + [m[name] for m in members]
            assert not _alone([c["suppressed"] for c in cells if c["children"]]), (parent_ref, name)
        cells = [parent["waiting"]] + [m["waiting"] for m in members]
        assert not _alone([c["children"] is None for c in cells if c["children"] != 0]), (parent_ref, "waiting")


async def test_no_percentage_reveals_a_small_count(client, auth, scorecard_register, settings):
    minimum = settings.scorecard_min_children
    for level in ("national", "raa", "la"):
        for card in await cards(client, auth, level=level):
            waiting = card["waiting"]
            for name in ("sibling_groups_percent", "aged_five_plus_percent", "disabled_percent"):
                if waiting[name] is not None:
                    count = round(waiting[name] * waiting["children"] / 100)
                    assert count == 0 or count >= minimum, (card["agency_ref"], name, waiting[name])
            a3 = card["a3_percent_placed_within_14_months"]
            if a3["value"] is not None:
                count = round(a3["value"] * a3["children"] / 100)
                assert count == 0 or count >= minimum, (card["agency_ref"], a3)


async def test_adopters_age_filters_work_in_the_bands_a_profile_shows(client, auth, adopter_register):
    today = date.today()
    for years in (2, 4):  # both in the band 2-4
        born = (today - timedelta(days=365 * years + 40)).isoformat()
        made = await client.post(
            "/v1/children",
            json=child_payload(date_of_birth=born, profile_visible_to_adopters=True),
            headers=auth(),
        )
        assert made.status_code == 201, made.text
    headers = adopter(auth, adopter_register)

    async def refs(low: int, high: int) -> set[str]:
        response = await client.get(
            "/v1/profiles", params={"age_min_years": low, "age_max_years": high, "limit": 100}, headers=headers
        )
        assert response.status_code == 200, response.text
        return {p["ref"] for p in response.json()["items"]}

    band = await refs(2, 4)
    assert len(band) >= 2
    for year in (2, 3, 4):
        assert await refs(year, year) == band, f"a filter on age {year} alone must not narrow the band"
