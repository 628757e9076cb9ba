"""The synthetic support is calibrated to the published figures and keeps every limit."""

from datetime import date, timedelta

import numpy as np

from services.register.seed.support import SHARE_SUPPORTED_PER_YEAR, calibration_note, generate_support
from services.register.support.rules import FundRules

TODAY = date(2026, 11, 23)
RULES = {y: FundRules(y, 500_000, 250_000, True, (1, 2)) for y in range(2017, 2025)}
RULES |= {y: FundRules(y, 300_000, None, False, (1, 2)) for y in (2025, 2026)}


def candidates(n: int = 5_000) -> list[dict]:
    rng = np.random.default_rng(3)
    return [
        {
            "placement_id": i,
            "household_id": i,
            "la_id": 1,
            "approving_id": 2,
            "approving_kind": "raa",
            "placed_on": TODAY - timedelta(days=int(rng.integers(1, 3 * 365))),
            "adoption_order_on": None,
            "child_ids": [10 * i + k for k in range(int(rng.integers(1, 3)))],
        }
        for i in range(n)
    ]


def test_share_supported_and_average_spend_match_the_published_figures():
    cands = candidates()
    rows = generate_support(cands, RULES, TODAY, seed=0)
    note = calibration_note(rows, cands, RULES, TODAY)
    share = float(note.split(", ")[1].split("%")[0]) / 100
    assert abs(share - SHARE_SUPPORTED_PER_YEAR) <= 0.15 * SHARE_SUPPORTED_PER_YEAR, note
    average = int(note.split("rules £")[1].split(" ")[0].replace(",", ""))
    assert 3_000 <= average < 4_000, note
    assert all(row["used_pence"] <= row["limit_pence"] for row in rows.allowances.values())
    for application in rows.applications:
        assert sum(line["amount_pence"] for line in application["lines"]) == application["amount_pence"]
        if not RULES[application["financial_year"]].match_funding:
            assert all(line["allowance"] != "match_funding" for line in application["lines"])
    assert all(b["spent_pence"] <= b["amount_pence"] for b in rows.budgets)
