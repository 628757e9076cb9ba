"""The encoder: plain records in, the engine's arrays out, with no database in reach."""

import subprocess
import sys
from dataclasses import replace
from datetime import date

import numpy as np

from services.matching.engine.arrays import NO_RELIGION
from services.matching.engine.encode import (
    ChildRecord,
    HouseholdRecord,
    Languages,
    households_from_records,
    months_between,
    units_from_children,
)
from services.register.vocabulary import Ethnicity, Region, Religion

TODAY = date(2025, 6, 30)
CHILD = ChildRecord(
    date_of_birth=date(2022, 7, 1),
    waiting_since=date(2025, 1, 1),
    needs=(0, 0, 1, 0, 2, 0, 1, 1),
    ethnicity=Ethnicity.WHITE_BRITISH,
    religion=Religion.NONE,
    languages=("english",),
    latitude=52.0,
    longitude=-1.0,
    contact_plan=1,
)
HOUSEHOLD = HouseholdRecord(
    approved_children=2,
    age_min_years=0,
    age_max_years=4,
    can_meet=(1, 1, 2, 2, 2, 1, 2, 2),
    accepts_sibling_group=True,
    region=Region.LONDON,
    latitude=51.5,
    longitude=-0.1,
    ethnicity=Ethnicity.MIXED,
    religion=Religion.MUSLIM,
    languages=("english", "urdu"),
    contact_openness=2,
)


def test_months_count_only_completed_months():
    assert months_between(date(2020, 1, 31), date(2020, 2, 29)) == 0
    assert months_between(date(2020, 1, 15), date(2021, 1, 15)) == 12


def test_a_group_takes_the_most_demanding_of_its_children():
    older = replace(
        CHILD,
        date_of_birth=date(2019, 3, 1),
        waiting_since=date(2024, 12, 1),
        needs=(2, 0, 0, 0, 1, 0, 0, 3),
        ethnicity=Ethnicity.MIXED,
        languages=("english", "polish"),
        contact_plan=3,
        excluded_regions=(Region.LONDON,),
        birth_family_latitude=53.0,
        birth_family_longitude=-2.0,
        min_distance_km=40,
    )
    groups = [[CHILD], [CHILD, older]]
    languages = Languages.of([CHILD, older], [HOUSEHOLD])
    units = units_from_children(groups, TODAY, languages)
    assert units.size.tolist() == [1, 2]
    assert units.age_min_months.tolist() == [35, 35] and units.age_max_months[1] == 75
    assert units.needs[1].tolist() == [2, 0, 1, 0, 2, 0, 1, 3]
    assert units.disabled.tolist() == [False, True]  # physical disability at medium
    assert units.minority_ethnic.tolist() == [False, True]
    assert units.days_waiting.tolist() == [180, 211]  # since the earliest placement order
    assert units.contact_plan.tolist() == [1, 3]
    assert units.excluded_regions[1, list(Region).index(Region.LONDON)] and not units.excluded_regions[0].any()
    assert np.isnan(units.birth_latitude[0, 0]) and units.birth_latitude[1, 0] == 53.0  # unrecorded ones left out
    assert units.min_distance_km.tolist() == [[0], [40]]
    assert units.religion.tolist() == [NO_RELIGION, NO_RELIGION]
    assert units.languages[1] == languages.mask(["english", "polish"]) != languages.mask(["english"])


def test_each_childs_birth_family_restriction_is_kept_apart_never_averaged():
    near = replace(CHILD, birth_family_latitude=51.0, birth_family_longitude=-0.1, min_distance_km=30)
    far = replace(CHILD, birth_family_latitude=54.9, birth_family_longitude=-1.6, min_distance_km=50)
    units = units_from_children([[near, far], [CHILD]], TODAY, Languages.of([CHILD], [HOUSEHOLD]))
    assert units.min_distance_km.tolist() == [[30, 50], [0, 0]]
    assert units.birth_latitude[0].tolist() == [51.0, 54.9] and np.isnan(units.birth_latitude[1]).all()


def test_a_household_is_encoded_with_its_inclusive_age_range_and_its_codes():
    households = households_from_records([HOUSEHOLD], Languages.of([CHILD], [HOUSEHOLD]))
    assert households.age_max_months.tolist() == [59]  # "up to 4" takes a child until their fifth birthday
    assert households.can_meet.shape == (1, 8) and households.can_meet[0, 2] == 2
    assert households.region.tolist() == [list(Region).index(Region.LONDON)]
    assert households.religion[0] != NO_RELIGION
    assert households_from_records([], Languages([])).can_meet.shape == (0, 8)


def test_the_encoder_needs_no_database():
    code = "import sys, services.matching.engine.encode; print('sqlalchemy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
