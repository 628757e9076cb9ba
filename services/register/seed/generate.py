"""A synthetic national register, calibrated to the published figures in
shared/design/domain.md. Deterministic for a seed. Pure: it returns plain rows and knows
nothing of the database (see `load.py`).

The calibration constants below are the model's assumptions; `calibration.py` compares
what they produce with the published targets.
"""

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from services.register.vocabulary import (
    DISABILITY_NEEDS,
    NEEDS,
    AgencyKind,
    ContactPlan,
    Ethnicity,
    HouseholdStatus,
    Need,
    Region,
    Religion,
    Sex,
)

AGENCIES_FILE = Path(__file__).with_name("agencies.csv")

WAITING_CHILDREN = 2_940
HOUSEHOLDS = 1_420
SHARE_IN_SIBLING_GROUPS = 0.57
SIBLING_GROUP_SIZES = ((2, 0.75), (3, 0.20), (4, 0.05))
SHARE_AGED_FIVE_PLUS_SINGLE = 0.13  # tuned so ~28% of all waiting children are 5+
SHARE_OLDER_SIBLING_GROUP = 0.33  # groups whose youngest is already of school age
EARLY_PERMANENCE_SHARE = 0.05
# Days waiting since the placement order: lognormal per unit; the mean grows for older,
# disabled and sibling units (published means: 292 overall, 508 for 5+, 444 disabled).
WAIT_MEAN_DAYS_YOUNG = 220
WAIT_MEAN_DAYS_FIVE_PLUS = 420
WAIT_DISABLED_FACTOR = 1.7
WAIT_SIBLING_FACTOR = 1.10
WAIT_SIGMA = 0.85
# Beyond about four years a child's plan has almost always changed away from adoption.
MAX_WAIT_DAYS = 4 * 365
OLDEST_AGE_DAYS = 17 * 365  # the register holds children under 18
ETHNICITY_SHARES = (
    (Ethnicity.WHITE_BRITISH, 0.80),
    (Ethnicity.WHITE_OTHER, 0.04),
    (Ethnicity.MIXED, 0.09),
    (Ethnicity.ASIAN, 0.03),
    (Ethnicity.BLACK, 0.03),
    (Ethnicity.OTHER, 0.01),
)
RELIGION_SHARES = (
    (Religion.NONE, 0.62),
    (Religion.CHRISTIAN, 0.28),
    (Religion.MUSLIM, 0.06),
    (Religion.HINDU, 0.01),
    (Religion.SIKH, 0.01),
    (Religion.OTHER, 0.02),
)
SECOND_LANGUAGES = ("polish", "urdu", "bengali", "romanian", "arabic", "somali", "punjabi", "portuguese")
# Level shares (none, low, medium, high) of each need for children; disability needs are
# rarer so that ~4% of children count as disabled (a disability need at medium or more).
CHILD_NEED_SHARES = {
    Need.PHYSICAL_DISABILITY: (0.90, 0.08, 0.015, 0.005),
    Need.LEARNING_DISABILITY: (0.86, 0.12, 0.015, 0.005),
    Need.DEVELOPMENTAL_UNCERTAINTY: (0.40, 0.35, 0.20, 0.05),
    Need.HEALTH_CONDITION: (0.60, 0.30, 0.08, 0.02),
    Need.EMOTIONAL_BEHAVIOURAL: (0.35, 0.35, 0.22, 0.08),
    Need.FOETAL_ALCOHOL_EXPOSURE: (0.80, 0.12, 0.06, 0.02),
    Need.BIRTH_FAMILY_HISTORY: (0.20, 0.40, 0.30, 0.10),
    Need.CONTACT: (0.30, 0.45, 0.20, 0.05),
}
HOUSEHOLD_NEED_SHARES = (0.05, 0.35, 0.45, 0.15)
# Fewer adopters feel able to parent a child with a disability (why disabled children wait longer).
HOUSEHOLD_DISABILITY_NEED_SHARES = (0.40, 0.43, 0.13, 0.04)
CONTACT_SHARES = (
    (ContactPlan.NONE, 0.10),
    (ContactPlan.LETTERBOX, 0.70),
    (ContactPlan.DIRECT_SIBLINGS, 0.15),
    (ContactPlan.DIRECT_BIRTH_FAMILY, 0.05),
)
HOUSEHOLD_CONTACT_SHARES = (
    (ContactPlan.LETTERBOX, 0.55),
    (ContactPlan.DIRECT_SIBLINGS, 0.35),
    (ContactPlan.DIRECT_BIRTH_FAMILY, 0.10),
)
HOUSEHOLD_CAPACITY_SHARES = ((1, 0.55), (2, 0.35), (3, 0.08), (4, 0.02))
HOUSEHOLD_VAA_SHARE = 0.20
# Past placements: three years, so the scorecard's rolling window has values and fees have
# periods to reconcile; about 2,900 children a year in England, over half with households
# of another agency.
HISTORY_YEARS = 3
PLACED_CHILDREN_PER_YEAR = 2_900
PLACED_GROUP_SIZES = ((1, 0.62), (2, 0.28), (3, 0.08), (4, 0.02))
CROSS_AGENCY_SHARE = 0.55

FIRST_NAMES = (
    "Amara",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Finley",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Keira",
    "Leo",
    "Maya",
    "Noah",
    "Olivia",
    "Poppy",
    "Reuben",
    "Sophie",
    "Theo",
    "Zara",
    "Aisha",
    "Bilal",
    "Demi",
    "Ethan",
    "Freya",
    "Kai",
    "Lily",
    "Mason",
    "Nia",
    "Oscar",
    "Ruby",
    "Yusuf",
)
SURNAMES = (
    "Allen",
    "Baker",
    "Clarke",
    "Davies",
    "Evans",
    "Foster",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Mitchell",
    "Nowak",
    "Owen",
    "Patel",
    "Roberts",
    "Smith",
    "Taylor",
    "Walker",
    "Ahmed",
    "Brown",
    "Campbell",
    "Dixon",
    "Ellis",
    "Fisher",
    "Hall",
    "Kelly",
    "Morris",
    "Price",
)
INTERESTS = (
    "building dens",
    "dinosaurs",
    "football",
    "drawing",
    "music and dancing",
    "animals",
    "stories at bedtime",
    "swimming",
    "puzzles",
    "cooking with grown-ups",
    "trains",
    "being outdoors",
)
TRAITS = ("curious", "affectionate", "funny", "gentle", "energetic", "thoughtful", "chatty", "determined")


@dataclass(frozen=True)
class AgencyRow:
    ref: str
    name: str
    kind: AgencyKind
    region: Region
    parent_raa_ref: str | None
    latitude: float
    longitude: float


@dataclass
class SyntheticRegister:
    today: date
    agencies: list[AgencyRow]
    groups: list[dict[str, Any]]  # waiting units: {"la_ref", "status", "children": [child rows]}
    households: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)  # {"group", "household", "placed_on", "order_on"}
    support_note: str = ""  # the synthetic adoption support's calibration, once loaded


def load_agencies() -> list[AgencyRow]:
    with AGENCIES_FILE.open() as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [
            AgencyRow(
                ref=r["ref"],
                name=r["name"],
                kind=AgencyKind(r["kind"]),
                region=Region(r["region"]),
                parent_raa_ref=r["parent_raa_ref"] or None,
                latitude=float(r["latitude"]),
                longitude=float(r["longitude"]),
            )
            for r in rows
        ]


def _pick(rng: np.random.Generator, shares: tuple, size: int | None = None):
    values, weights = zip(*shares, strict=True)
    index = rng.choice(len(values), size=size, p=np.array(weights) / sum(weights))
    return values[index] if size is None else [values[i] for i in index]


def _days_before(day: date, days: int) -> date:
    return day - timedelta(days=int(days))


class RegisterGenerator:
    """Draws children (as sibling groups) and households with the register's distributions;
    the synthetic register and the simulation share it."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = np.random.default_rng(seed)
        self.today = today
        self.agencies = load_agencies()
        self.las = [a for a in self.agencies if a.kind is AgencyKind.LA]
        self.raas = [a for a in self.agencies if a.kind is AgencyKind.RAA]
        self.vaas = [a for a in self.agencies if a.kind is AgencyKind.VAA]
        # Every local authority belongs to an RAA (the agencies' data file is checked on load).
        self.raa_of: dict[str, str] = {la.ref: la.parent_raa_ref for la in self.las if la.parent_raa_ref}

    # --- children ----------------------------------------------------------------------
    def unit_sizes(self, children: int) -> list[int]:
        in_groups = round(children * SHARE_IN_SIBLING_GROUPS)
        sizes: list[int] = []
        while sum(sizes) < in_groups:
            sizes.append(int(_pick(self.rng, SIBLING_GROUP_SIZES)))
        return sizes + [1] * max(children - sum(sizes), 0)

    def needs(self) -> dict[str, int]:
        return {need.value: int(self.rng.choice(4, p=CHILD_NEED_SHARES[need])) for need in NEEDS}

    def profile_text(self, age: int) -> str:
        trait, other = self.rng.choice(len(TRAITS), size=2, replace=False)
        likes = self.rng.choice(len(INTERESTS), size=2, replace=False)
        stage = (
            "a toddler" if age < 3 else "at nursery" if age < 5 else "at primary school" if age < 11 else "a teenager"
        )
        return (
            f"A {TRAITS[trait]} and {TRAITS[other]} child, {stage}, who loves {INTERESTS[likes[0]]} "
            f"and {INTERESTS[likes[1]]}. Needs a patient family who will keep routines steady."
        )

    def unit(self, size: int, *, waiting_days: int | None, status: str) -> dict[str, Any]:
        """One sibling group (or single child) with everything its children share."""
        rng = self.rng
        la = self.las[int(rng.integers(len(self.las)))]
        older = rng.random() < (SHARE_OLDER_SIBLING_GROUP if size > 1 else SHARE_AGED_FIVE_PLUS_SINGLE)
        if size == 1:
            youngest = int(rng.integers(5, 11)) if older else int(rng.integers(0, 4))
        else:
            youngest = int(rng.integers(3, 8)) if older else int(rng.integers(0, 2))
        ages_days = []
        age = youngest * 365 + int(rng.integers(0, 365))
        for _ in range(size):
            ages_days.append(age)
            age += int(rng.integers(1, 3) * 365 + rng.integers(0, 120))
        ethnicity = _pick(rng, ETHNICITY_SHARES)
        religion = _pick(rng, RELIGION_SHARES)
        languages = ["english"] + (
            [SECOND_LANGUAGES[int(rng.integers(len(SECOND_LANGUAGES)))]]
            if ethnicity is not Ethnicity.WHITE_BRITISH and rng.random() < 0.3
            else []
        )
        children = [self.needs() for _ in range(size)]
        five_plus = max(ages_days) >= 5 * 365
        disabled = any(max(n[Need.PHYSICAL_DISABILITY], n[Need.LEARNING_DISABILITY]) >= 2 for n in children)
        if waiting_days is None:
            mean: float = WAIT_MEAN_DAYS_FIVE_PLUS if five_plus else WAIT_MEAN_DAYS_YOUNG
            mean *= (WAIT_DISABLED_FACTOR if disabled else 1) * (WAIT_SIBLING_FACTOR if size > 1 else 1)
            waiting_days = min(int(rng.lognormal(np.log(mean) - WAIT_SIGMA**2 / 2, WAIT_SIGMA)), MAX_WAIT_DAYS)
        waiting_since = _days_before(self.today, waiting_days)
        early = rng.random() < EARLY_PERMANENCE_SHARE
        contact = _pick(rng, CONTACT_SHARES)
        restricted_region = [la.region.value] if rng.random() < 0.03 else []
        min_distance = int(rng.integers(20, 61)) if rng.random() < 0.10 else 0
        rows = []
        for needs, age_days in zip(children, ages_days, strict=True):
            # Ages are at the time the wait began, so a long wait makes an older child now.
            born = max(waiting_since - timedelta(days=age_days), self.today - timedelta(days=OLDEST_AGE_DAYS))
            entered_care = min(waiting_since - timedelta(days=int(rng.integers(90, 400))), waiting_since)
            entered_care = max(entered_care, born)
            rows.append(
                {
                    "first_name": FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
                    "surname": SURNAMES[int(rng.integers(len(SURNAMES)))],
                    "date_of_birth": born,
                    "sex": _pick(rng, ((Sex.FEMALE, 0.5), (Sex.MALE, 0.5))),
                    "ethnicity": ethnicity,
                    "religion": religion,
                    "languages": languages,
                    "region": la.region,
                    "latitude": round(la.latitude + rng.normal(0, 0.05), 2),
                    "longitude": round(la.longitude + rng.normal(0, 0.05), 2),
                    "entered_care_on": entered_care,
                    "placement_order_on": None if early else waiting_since,
                    "should_be_placed_on": waiting_since if early else None,
                    "needs": needs,
                    "contact_plan": int(contact),
                    "birth_family_latitude": round(la.latitude + rng.normal(0, 0.05), 3),
                    "birth_family_longitude": round(la.longitude + rng.normal(0, 0.05), 3),
                    "excluded_regions": restricted_region,
                    "min_distance_km": min_distance,
                    "profile_text": self.profile_text((self.today - born).days // 365),
                    "profile_visible_to_adopters": bool(rng.random() < 0.85),
                }
            )
        return {"la_ref": la.ref, "status": status, "children": rows}

    # --- households --------------------------------------------------------------------
    def household(
        self, *, status: HouseholdStatus, approved_on: date | None = None, agency_ref: str | None = None
    ) -> dict[str, Any]:
        rng = self.rng
        if agency_ref is None:
            pool = self.vaas if rng.random() < HOUSEHOLD_VAA_SHARE else self.raas
            agency = pool[int(rng.integers(len(pool)))]
        else:
            agency = next(a for a in self.agencies if a.ref == agency_ref)
        capacity = int(_pick(rng, HOUSEHOLD_CAPACITY_SHARES))
        age_max = int(_pick(rng, ((4, 0.55), (6, 0.25), (8, 0.12), (10, 0.08))))
        applicants = 1 if rng.random() < 0.2 else 2
        surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
        return {
            "applicant_names": [
                f"{FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]} {surname}" for _ in range(applicants)
            ],
            "approving_agency_ref": agency.ref,
            "approved_on": approved_on or _days_before(self.today, int(rng.integers(10, 500))),
            "approved_children": capacity,
            "age_min_years": 0,
            "age_max_years": max(age_max, capacity),
            "can_meet": {
                need.value: int(
                    rng.choice(
                        4, p=HOUSEHOLD_DISABILITY_NEED_SHARES if need in DISABILITY_NEEDS else HOUSEHOLD_NEED_SHARES
                    )
                )
                for need in NEEDS
            },
            "accepts_sibling_group": capacity > 1 and bool(rng.random() < 0.9),
            "contact_openness": int(_pick(rng, HOUSEHOLD_CONTACT_SHARES)),
            "region": agency.region,
            "latitude": round(agency.latitude + rng.normal(0, 0.15), 2),
            "longitude": round(agency.longitude + rng.normal(0, 0.15), 2),
            "ethnicity": _pick(
                rng,
                (
                    (Ethnicity.WHITE_BRITISH, 0.85),
                    (Ethnicity.MIXED, 0.05),
                    (Ethnicity.ASIAN, 0.05),
                    (Ethnicity.BLACK, 0.04),
                    (Ethnicity.OTHER, 0.01),
                ),
            ),
            "religion": _pick(rng, RELIGION_SHARES),
            "languages": ["english"],
            "status": status,
            "profile_live": True,
        }

    # --- a year of past placements -----------------------------------------------------------
    def history(self, years: int) -> list[dict[str, Any]]:
        placed: list[dict[str, Any]] = []
        children = 0
        while children < PLACED_CHILDREN_PER_YEAR * years:
            size = int(_pick(self.rng, PLACED_GROUP_SIZES))
            placed_on = _days_before(self.today, int(self.rng.integers(1, 365 * years)))
            wait = int(self.rng.lognormal(np.log(250) - 0.3, 0.7))
            unit = self.unit(size, waiting_days=(self.today - placed_on).days + wait, status="placed")
            # The match decision comes some weeks before the children move in.
            unit["matched_on"] = placed_on - timedelta(days=min(int(self.rng.integers(21, 70)), wait))
            child_raa = self.raa_of[unit["la_ref"]]
            if self.rng.random() < CROSS_AGENCY_SHARE:
                pool = [a for a in self.raas if a.ref != child_raa] + self.vaas
                agency_ref = pool[int(self.rng.integers(len(pool)))].ref
            else:
                agency_ref = child_raa
            household = self.household(
                status=HouseholdStatus.MATCHED,
                agency_ref=agency_ref,
                approved_on=_days_before(placed_on, int(self.rng.integers(60, 400))),
            )
            household["approved_children"] = max(household["approved_children"], size)
            household["age_max_years"] = max(household["age_max_years"], household["approved_children"])
            order_after = int(self.rng.integers(150, 420))
            order_on = placed_on + timedelta(days=order_after)
            placed.append(
                {
                    "group": unit,
                    "household": household,
                    "placed_on": placed_on,
                    "adoption_order_on": order_on if order_on <= self.today else None,
                }
            )
            children += size
        return placed


def generate_register(seed: int, today: date, *, history_years: int = HISTORY_YEARS) -> SyntheticRegister:
    g = RegisterGenerator(seed, today)
    groups = [g.unit(size, waiting_days=None, status="waiting") for size in g.unit_sizes(WAITING_CHILDREN)]
    households = [
        g.household(status=HouseholdStatus.ON_HOLD if g.rng.random() < 0.05 else HouseholdStatus.APPROVED)
        for _ in range(HOUSEHOLDS)
    ]
    return SyntheticRegister(
        today=today, agencies=g.agencies, groups=groups, households=households, history=g.history(history_years)
    )
