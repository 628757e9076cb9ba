"""Metrics per policy over replications (mean and 95% interval), the calibration of the
status quo against the published figures, and a Markdown report with charts."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.matching.simulation.model import DAYS_PER_WEEK, Assumptions, Population
from services.matching.simulation.simulate import PLACED, Outcome

LONG_WAIT_WEEKS = 78
GROUPS = ("all", "aged 5+", "sibling groups", "disabled", "minority ethnic")


@dataclass(frozen=True)
class Metrics:
    mean_wait_days: dict[str, float]  # by group
    median_wait_days: float
    waiting_18_months_at_year_end: float  # children, scaled to England
    waiting_children: float  # mean stock, scaled
    waiting_households: float
    children_placed_per_year: float
    sibling_groups_placed_together_percent: float
    cross_region_percent: float
    interagency_fees_per_year_pounds: float
    waits: np.ndarray  # days, one per placed child (for the charts)
    stock: np.ndarray  # waiting children per measured week, scaled


def metrics(pop: Population, a: Assumptions, o: Outcome) -> Metrics:
    placed = (o.unit_state == PLACED) & (o.placed_week >= a.warmup_weeks)
    sizes = pop.units.size[placed].astype(float)
    waits = (o.placed_week[placed] - pop.unit_arrival[placed]) * DAYS_PER_WEEK
    # Aged 5+ when placed, as the published figure counts them (a long wait makes a child older).
    five_plus = pop.units.age_max_months[placed] + waits / 30.44 >= 60
    masks = {
        "all": np.ones(placed.sum(), bool),
        "aged 5+": five_plus,
        "sibling groups": pop.units.size[placed] > 1,
        "disabled": pop.units.disabled[placed],
        "minority ethnic": pop.units.minority_ethnic[placed],
    }
    means = {g: float((waits * sizes * m).sum() / max((sizes * m).sum(), 1)) for g, m in masks.items()}
    household = o.placed_household[placed]
    cross_region = pop.households.region[household] != pop.unit_region[placed]
    cross_agency = pop.household_agency[household] != pop.unit_agency[placed]
    fee = np.where(pop.household_is_vaa[household], a.fee_vaa_pence, a.fee_la_pence) * pop.units.size[placed]
    year_ends = [a.warmup_weeks + 52 * y - 1 for y in range(1, a.years + 1)]
    per_child = np.repeat(waits, pop.units.size[placed])
    return Metrics(
        mean_wait_days=means,
        median_wait_days=float(np.median(per_child)) if len(per_child) else 0.0,
        waiting_18_months_at_year_end=float(np.mean([o.long_waiting_children[w] for w in year_ends])) / a.scale,
        waiting_children=float(np.mean(o.waiting_children[a.warmup_weeks :])) / a.scale,
        waiting_households=float(np.mean(o.waiting_households[a.warmup_weeks :])) / a.scale,
        children_placed_per_year=float(sizes.sum()) / a.years / a.scale,
        sibling_groups_placed_together_percent=100.0,  # a group is one unit: never split, by construction
        cross_region_percent=float(100 * (sizes * cross_region).sum() / max(sizes.sum(), 1)),
        interagency_fees_per_year_pounds=float((fee * cross_agency).sum()) / 100 / a.years / a.scale,
        waits=per_child,
        stock=np.array(o.waiting_children[a.warmup_weeks :]) / a.scale,
    )


def interval(values: list[float]) -> str:
    mean = float(np.mean(values))
    if len(values) < 2:
        return f"{mean:,.0f}"
    half = 1.96 * float(np.std(values, ddof=1)) / np.sqrt(len(values))
    return f"{mean:,.0f} ± {half:,.0f}"


CALIBRATION_TARGETS = (
    ("mean days, placement order to placement", 292, lambda m: m.mean_wait_days["all"]),
    ("mean days, children aged 5+", 508, lambda m: m.mean_wait_days["aged 5+"]),
    ("mean days, disabled children", 444, lambda m: m.mean_wait_days["disabled"]),
    ("children waiting 18 months or more", 410, lambda m: m.waiting_18_months_at_year_end),
    ("children waiting (stock)", 2_940, lambda m: m.waiting_children),
    ("households waiting (stock)", 1_420, lambda m: m.waiting_households),
)
TOLERANCE = 0.15


def calibration(status_quo: list[Metrics]) -> list[tuple[str, float, float, bool]]:
    rows = []
    for name, target, get in CALIBRATION_TARGETS:
        achieved = float(np.mean([get(m) for m in status_quo]))
        rows.append((name, target, achieved, abs(achieved - target) <= TOLERANCE * target))
    return rows


def write_report(results: dict[str, list[Metrics]], a: Assumptions, out: Path, seed: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    names = list(results)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.boxplot([np.concatenate([m.waits for m in results[p]]) for p in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [p.replace("_", " ") for p in names])
    ax.set_ylabel("days from placement order to placement")
    ax.set_title("Waits of the children placed, by policy")
    fig.tight_layout()
    fig.savefig(out / "waits.png", dpi=110)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(names)
    for k, p in enumerate(names):
        ax.bar(
            np.arange(len(GROUPS)) + k * width,
            [np.mean([m.mean_wait_days[g] for m in results[p]]) for g in GROUPS],
            width,
            label=p.replace("_", " "),
        )
    ax.set_xticks(np.arange(len(GROUPS)) + width * (len(names) - 1) / 2, GROUPS)
    ax.set_ylabel("mean days waited")
    ax.set_title("Who waits longest, by policy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "groups.png", dpi=110)
    fig, ax = plt.subplots(figsize=(8, 4))
    for p in names:
        ax.plot(np.mean([m.stock for m in results[p]], axis=0), label=p.replace("_", " "))
    ax.set_xlabel("week (after the warm-up)")
    ax.set_ylabel("children waiting (England)")
    ax.set_title("The waiting stock over time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "stock.png", dpi=110)
    plt.close("all")

    lines = [
        f"# What matching policies do to waiting times (simulation, seed {seed})",
        "",
        f"{len(results[names[0]])} replications of {a.years} measured years (after {a.warmup_years} years of "
        f"warm-up), at {a.scale:.0%} of England's scale; stocks and flows are scaled back to England. "
        "Every policy sees the same children, households and random outcomes (common random numbers). "
        "Figures are means with 95% intervals over replications.",
        "",
        "## Calibration of the status quo",
        "",
        "| figure | published | simulated | within 15% |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, target, achieved, ok in calibration(results["status_quo"]):
        lines.append(f"| {name} | {target:,} | {achieved:,.0f} | {'yes' if ok else 'NO'} |")
    lines += [
        "",
        "## Results",
        "",
        "| figure | " + " | ".join(p.replace("_", " ") for p in names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]

    def row(label: str, get) -> None:
        lines.append(f"| {label} | " + " | ".join(interval([get(m) for m in results[p]]) for p in names) + " |")

    for g in GROUPS:
        row(f"mean days waited: {g}", lambda m, g=g: m.mean_wait_days[g])
    row("median days waited", lambda m: m.median_wait_days)
    row("children waiting 18+ months at year end", lambda m: m.waiting_18_months_at_year_end)
    row("children placed per year", lambda m: m.children_placed_per_year)
    row("% placed across regions", lambda m: m.cross_region_percent)
    row("interagency fees per year (£)", lambda m: m.interagency_fees_per_year_pounds)
    row("% of sibling groups placed together", lambda m: m.sibling_groups_placed_together_percent)
    lines += [
        "",
        "![waits](waits.png)",
        "",
        "![groups](groups.png)",
        "",
        "![stock](stock.png)",
        "",
        "## Assumptions",
        "",
    ]
    lines += [f"- `{k}` = {v}" for k, v in vars(a).items()]
    lines += [
        "",
        "Policies: status quo (households enquire and choose the child they prefer, own agency first); "
        "national greedy (the longest-waiting unit takes its best-scoring household, weekly); national "
        "optimal (the engine's assignment, weekly); national optimal with the 18-month lexicographic "
        "priority. National proposals are accepted with the probability in the assumptions.",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report
