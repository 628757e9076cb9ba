"""The synthetic register: deterministic, calibrated, and internally consistent."""

from datetime import date

import pytest

from services.register.seed.calibration import calibration_report
from services.register.seed.generate import SyntheticRegister, generate_register
from services.register.vocabulary import AgencyKind

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

TODAY = date(2026, 11, 22)


class Registers(dict[int, SyntheticRegister]):
    """Each seed's register, generated when a test first asks for it (about 3 s each), once per
    process: tests spread over xdist workers generate only the seeds they use."""

    def __missing__(self, seed: int) -> SyntheticRegister:
        self[seed] = generate_register(seed, TODAY)
        return self[seed]


@pytest.fixture(scope="session")
def registers() -> Registers:
    return Registers()


def test_same_seed_same_register_other_seed_other_register(registers):
    # The past placements are drawn after the waiting children and households, so a register
    # without them draws those exactly as the full one does (and in a tenth of the time).
    again = generate_register(1, TODAY, history_years=0)
    assert again.groups == registers[1].groups and again.households == registers[1].households
    assert registers[2].groups != registers[1].groups


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_published_figure_is_within_tolerance(registers, seed):
    off = [
        (r.figure, r.target, round(r.achieved, 1))
        for r in calibration_report(registers[seed])
        if not r.within_tolerance
    ]
    assert off == []


def test_agencies_file_is_synthetic_and_consistent(registers):
    agencies = registers[1].agencies
    by_ref = {a.ref: a for a in agencies}
    assert all("(synthetic)" in a.name for a in agencies)
    assert len({a.region for a in agencies}) == 9
    for la in (a for a in agencies if a.kind is AgencyKind.LA):
        parent = by_ref[la.parent_raa_ref]
        assert parent.kind is AgencyKind.RAA and parent.region == la.region


def test_children_and_households_are_consistent(registers):
    register = registers[1]
    refs = {a.ref for a in register.agencies}
    for group in register.groups + [h["group"] for h in register.history]:
        assert group["la_ref"] in refs
        for child in group["children"]:
            waiting_since = child["placement_order_on"] or child["should_be_placed_on"]
            assert child["date_of_birth"] <= child["entered_care_on"] <= waiting_since <= TODAY
            assert (TODAY - child["date_of_birth"]).days < 18 * 365
            assert child["first_name"] not in child["profile_text"] and child["surname"] not in child["profile_text"]
        assert len({c["ethnicity"] for c in group["children"]}) == 1  # siblings share a background
    for household in register.households:
        assert household["approving_agency_ref"] in refs
        assert household["age_min_years"] <= household["age_max_years"] and 1 <= len(household["applicant_names"]) <= 2
    for past in register.history:
        assert len(past["group"]["children"]) <= past["household"]["approved_children"]
        assert past["placed_on"] <= TODAY
        assert past["adoption_order_on"] is None or past["placed_on"] <= past["adoption_order_on"] <= TODAY
