"""Targets from shared/design/domain.md beside what the synthetic register achieves."""

from dataclasses import dataclass
from datetime import date

from services.register.seed.generate import SyntheticRegister
from services.register.vocabulary import Ethnicity, Need

# Relative tolerance for every figure: the same 15% the simulation's calibration uses.
TOLERANCE = 0.15
LONG_WAIT_DAYS = 548  # 18 months


@dataclass(frozen=True)
class CalibrationRow:
    figure: str
    target: float
    achieved: float
    source: str

    @property
    def within_tolerance(self) -> bool:
        return abs(self.achieved - self.target) <= TOLERANCE * abs(self.target)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def calibration_report(register: SyntheticRegister) -> list[CalibrationRow]:
    today = register.today
    children = [(c, g) for g in register.groups for c in g["children"]]
    n = len(children)

    def waited(child: dict) -> int:
        return (today - (child["placement_order_on"] or child["should_be_placed_on"])).days

    def mean(values: list[int]) -> float:
        return sum(values) / len(values) if values else 0.0

    five_plus = [c for c, _ in children if _age(c["date_of_birth"], today) >= 5]
    disabled = [
        c for c, _ in children if max(c["needs"][Need.PHYSICAL_DISABILITY], c["needs"][Need.LEARNING_DISABILITY]) >= 2
    ]
    history = register.history
    raa_of = {a.ref: a.parent_raa_ref for a in register.agencies}
    cross = [h for h in history if h["household"]["approving_agency_ref"] != raa_of[h["group"]["la_ref"]]]
    coram = "Coram-i / ASGLB, 30 June 2025"
    return [
        CalibrationRow("children waiting with a placement order", 2_940, n, coram),
        CalibrationRow("approved households waiting", 1_420, len(register.households), coram),
        CalibrationRow(
            "% of waiting children in sibling groups",
            57,
            100 * sum(len(g["children"]) > 1 for _, g in children) / n,
            "ASGLB Dec 2018",
        ),
        CalibrationRow("% aged five and over", 28, 100 * len(five_plus) / n, "ASGLB Dec 2018"),
        CalibrationRow(
            "% minority ethnic",
            20,
            100 * sum(c["ethnicity"] is not Ethnicity.WHITE_BRITISH for c, _ in children) / n,
            "ASGLB Dec 2018",
        ),
        CalibrationRow("% disabled", 4, 100 * len(disabled) / n, "ASGLB Dec 2018"),
        CalibrationRow("mean days since placement order", 292, mean([waited(c) for c, _ in children]), coram),
        CalibrationRow("mean days, children aged 5+", 508, mean([waited(c) for c in five_plus]), coram),
        CalibrationRow("mean days, disabled children", 444, mean([waited(c) for c in disabled]), coram),
        CalibrationRow(
            "children waiting 18 months or more", 410, sum(waited(c) >= LONG_WAIT_DAYS for c, _ in children), coram
        ),
        CalibrationRow(
            "regional adoption agencies",
            33,
            sum(a.kind == "raa" for a in register.agencies),
            "34 RAAs by Aug 2023 (adoptionstories.org.uk)",
        ),
        CalibrationRow(
            "% of past placements across agencies",
            55,
            100 * len(cross) / len(history) if history else 0,
            "CVAA: over half",
        ),
    ]


def format_report(rows: list[CalibrationRow]) -> str:
    lines = [f"{'figure':<44} {'target':>8} {'achieved':>9}  within {TOLERANCE:.0%}", "-" * 75]
    for row in rows:
        mark = "yes" if row.within_tolerance else "NO"
        lines.append(f"{row.figure:<44} {row.target:>8,.0f} {row.achieved:>9,.1f}  {mark}")
    return "\n".join(lines)
