"""Synthetic family profiles: a share of the waiting households have one their agency
approved, written from a few stock phrases (no real family's words)."""

from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np

from services.core.refs import new_ref
from services.register.family_profiles.vocabulary import FamilyProfileState

SHARE_WITH_PROFILE = 0.4

OPENINGS = (
    "We are a couple who have been together for twelve years.",
    "We are a single parent household with a close family nearby.",
    "We are a family of three: two adults and our dog, Biscuit.",
    "We have lived in our town all our lives and know it well.",
)
DAYS = (
    "Weekends are for walks, the park and Sunday lunch with grandparents.",
    "We love cooking together, board games and building things out of cardboard.",
    "We spend a lot of time outdoors: cycling, camping and the beach in summer.",
    "Our home is calm and full of books, music and bad jokes.",
)
HOPES = (
    "We would love to give children a safe, loving home and help them keep their story.",
    "We are ready to learn, to ask for help, and to be patient.",
    "We hope to welcome brothers and sisters together.",
    "We know children may have had a hard start, and we are ready to listen.",
)
OFFERS = (
    "A garden to play in",
    "One of us at home full time",
    "Grandparents close by",
    "Experience with children with additional needs",
    "A quiet home",
    "Lots of outdoor time",
    "Openness to contact with birth family",
    "Room for brothers and sisters",
    "Support from friends and our church",
    "Time off work for the first year",
)
LANGUAGES = (["English"], ["English"], ["English", "Welsh"], ["English", "Urdu"], ["English", "Polish"])


def family_profile_rows(household_ids: list[int], seed: int, today: date) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed + 18)
    approved_at = datetime.combine(today, time(9), tzinfo=UTC)
    rows = []
    for household_id in household_ids:
        if rng.random() >= SHARE_WITH_PROFILE:
            continue
        narrative = " ".join(str(part[int(rng.integers(len(part)))]) for part in (OPENINGS, DAYS, HOPES))
        offers = [str(OFFERS[int(i)]) for i in rng.choice(len(OFFERS), size=int(rng.integers(2, 6)), replace=False)]
        languages = LANGUAGES[int(rng.integers(len(LANGUAGES)))]
        rows.append(
            {
                "ref": new_ref("FP"),
                "household_id": household_id,
                "narrative": narrative,
                "what_we_offer": offers,
                "languages_spoken": languages,
                "state": FamilyProfileState.APPROVED,
                "returned_reason": "",
                "approved_at": approved_at,
                "approved_narrative": narrative,
                "approved_what_we_offer": offers,
                "approved_languages_spoken": languages,
                "approved_version": 1,
            }
        )
    return rows
