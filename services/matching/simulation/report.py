"""Metrics per policy and replication, paired differences with 95% intervals, the calibration
of the status quo against published figures, and the report (Markdown with PNG charts, and
the same as one self-contained HTML page)."""

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from services.matching.simulation.model import DAYS_PER_MONTH, DAYS_PER_WEEK, Assumptions, Population
from services.matching.simulation.simulate import LABELS, PLACED, WITHDRAWN, Outcome

if TYPE_CHECKING:
    from services.matching.simulation.experiment import Experiment

LONG_WAIT_WEEKS = 78
GROUPS = ("all", "aged 5+", "sibling groups", "disabled", "minority ethnic")
KM_DAYS = np.arange(0, 3 * 365 + 1, 7)  # the days at which the waiting curves are read
TOLERANCE = 0.15


@dataclass(frozen=True)
class Metrics:
    mean_wait_days: dict[str, float]  # children placed in the measured years, by group
    # Of the mean wait of all children placed: the days from the order to the start of family
    # finding, and the mean wait of those placed with another agency's household.
    mean_days_before_family_finding: float
    mean_wait_across_agencies_days: float
    waiting_curve: dict[str, np.ndarray]  # Kaplan-Meier: share still waiting at KM_DAYS, by group
    waiting_18_months: float  # children, at each measured year end, scaled to England
    waiting_children: float  # mean stock, scaled
    waiting_households: float
    stock: np.ndarray  # waiting children per measured week, scaled
    stock_trend_percent_per_year: float  # slope of the stock, as a share of its mean
    stock_share_sibling_groups: float  # % of the children waiting at the end
    stock_share_five_plus: float
    children_entered_per_year: float
    households_approved_per_year: float
    children_placed_per_year: float
    plan_changes_per_year: float  # children
    household_withdrawals_per_year: float
    cross_region_percent: float
    cross_agency_percent: float
    fees_to_raa_pounds_per_year: float  # paid by the child's local authority (through its RAA)
    fees_to_vaa_pounds_per_year: float
    acceptance_percent: float  # children considered by a household that it took on


def kaplan_meier(durations: np.ndarray, placed: np.ndarray, weights: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The weighted product-limit estimate of the share still waiting at each of `at`.
    Children still waiting, or whose plan changed, are censored: they count as at risk until
    they leave, and never as placed."""
    if not len(durations):
        return np.full(len(at), np.nan)
    times = np.unique(durations[placed])
    if not len(times):
        return np.ones(len(at))
    order = np.argsort(durations)
    d_sorted, w_sorted = durations[order], weights[order]
    at_risk = w_sorted.sum() - np.concatenate([[0.0], np.cumsum(w_sorted)])[np.searchsorted(d_sorted, times)]
    events = np.array([weights[placed & (durations == t)].sum() for t in times])
    survival = np.cumprod(1.0 - events / at_risk)
    index = np.searchsorted(times, at, side="right") - 1
    return np.where(index >= 0, survival[np.maximum(index, 0)], 1.0)


def metrics(pop: Population, a: Assumptions, o: Outcome) -> Metrics:
    w0, scale, years = a.warmup_weeks, a.scale, a.years
    sizes = pop.units.size.astype(float)
    placed = (o.unit_state == PLACED) & (o.placed_week >= w0)
    waits = (o.placed_week[placed] - pop.unit_arrival[placed]) * DAYS_PER_WEEK
    # Aged 5+ when placed, as the published figure counts them (a long wait makes a child older).
    five_plus = pop.units.age_max_months[placed] + waits / DAYS_PER_MONTH >= 60
    groups = _groups(pop, placed)
    groups["aged 5+"] = five_plus
    weight = sizes[placed]
    means = {g: float((waits * weight * m).sum() / max((weight * m).sum(), 1)) for g, m in groups.items()}

    started = pop.unit_arrival >= w0  # the waits that begin in the measured years, followed to the end
    end = np.where(o.placed_week >= 0, o.placed_week, np.where(o.withdrawn_week >= 0, o.withdrawn_week, a.weeks))
    durations = ((end - pop.unit_arrival) * DAYS_PER_WEEK)[started]
    was_placed = (o.unit_state == PLACED)[started]
    curves = {
        g: kaplan_meier(durations[m], was_placed[m], sizes[started][m], KM_DAYS)
        for g, m in _groups(pop, started).items()
    }

    household = o.placed_household[placed]
    cross_region = pop.households.region[household] != pop.unit_region[placed]
    cross_agency = pop.household_agency[household] != pop.unit_agency[placed]
    vaa = pop.household_is_vaa[household]
    fee = np.where(vaa, a.fee_vaa_pence, a.fee_la_pence) * weight * cross_agency / 100 / years / scale
    stock = np.array(o.waiting_children[w0:], dtype=float) / scale
    trend = np.polyfit(np.arange(len(stock)) / 52, stock, 1)[0] / max(stock.mean(), 1) * 100 if len(stock) > 1 else 0
    year_ends = [w0 + 52 * y - 1 for y in range(1, years + 1)]
    waiting_now = (o.unit_state != PLACED) & (o.unit_state != WITHDRAWN) & (pop.unit_arrival < a.weeks)
    age_now = pop.units.age_max_months + (a.weeks - pop.unit_arrival) * DAYS_PER_WEEK / DAYS_PER_MONTH
    now = sizes * waiting_now
    in_window = (pop.household_arrival >= w0) & (pop.household_arrival < a.weeks)
    before = np.maximum(o.started_week[placed] - pop.unit_arrival[placed], 0) * DAYS_PER_WEEK
    return Metrics(
        mean_wait_days=means,
        mean_days_before_family_finding=float((before * weight).sum() / max(weight.sum(), 1)),
        mean_wait_across_agencies_days=float(
            (waits * weight * cross_agency).sum() / max((weight * cross_agency).sum(), 1)
        ),
        waiting_curve=curves,
        waiting_18_months=float(np.mean([o.long_waiting_children[w] for w in year_ends])) / scale,
        waiting_children=float(stock.mean()),
        waiting_households=float(np.mean(o.waiting_households[w0:])) / scale,
        stock=stock,
        stock_trend_percent_per_year=float(trend),
        stock_share_sibling_groups=float(100 * (now * (pop.units.size > 1)).sum() / max(now.sum(), 1)),
        stock_share_five_plus=float(100 * (now * (age_now >= 60)).sum() / max(now.sum(), 1)),
        children_entered_per_year=float(sizes[started].sum()) / years / scale,
        households_approved_per_year=float(in_window.sum()) / years / scale,
        children_placed_per_year=float(weight.sum()) / years / scale,
        plan_changes_per_year=float(sizes[o.withdrawn_week >= w0].sum()) / years / scale,
        household_withdrawals_per_year=float((o.household_withdrawn_week >= w0).sum()) / years / scale,
        cross_region_percent=float(100 * (weight * cross_region).sum() / max(weight.sum(), 1)),
        cross_agency_percent=float(100 * (weight * cross_agency).sum() / max(weight.sum(), 1)),
        fees_to_raa_pounds_per_year=float(fee[~vaa].sum()),
        fees_to_vaa_pounds_per_year=float(fee[vaa].sum()),
        acceptance_percent=100.0 * o.accepted / max(o.proposals, 1),
    )


def _groups(pop: Population, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Group membership of the units selected by `rows`, as at the placement order."""
    u = pop.units
    return {
        "all": np.ones(int(rows.sum()), dtype=bool),
        "aged 5+": u.age_max_months[rows] >= 60,
        "sibling groups": u.size[rows] > 1,
        "disabled": u.disabled[rows],
        "minority ethnic": u.minority_ethnic[rows],
    }


# --- intervals --------------------------------------------------------------------------------


def mean_interval(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval over replications (0 with one value)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(x.mean()), 0.0
    return float(x.mean()), float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


def paired_difference(
    first: list[Metrics], second: list[Metrics], get: Callable[[Metrics], float]
) -> tuple[float, float]:
    """second minus first, replication by replication (common random numbers), with its interval."""
    return mean_interval([get(b) - get(a) for a, b in zip(first, second, strict=True)])


def _fmt(mean: float, half: float, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{mean:{sign},.0f} ± {half:,.0f}"


def _published(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _fmt_range(mean: float, half: float) -> str:
    return f"{mean:+,.0f} ({mean - half:+,.0f} to {mean + half:+,.0f})"


# --- calibration --------------------------------------------------------------------------------

COOKED = "estimate (see Assumptions)"
CORAM = "Coram-i / ASGLB, 2024/25"


@dataclass(frozen=True)
class Target:
    figure: str
    target: float
    source: str
    get: Callable[[Metrics], float]


def calibration_targets(history: tuple[float, float]) -> list[Target]:
    cross_region, cross_agency = history
    return [
        Target("children entering with a placement order / year", 3_500, COOKED, lambda m: m.children_entered_per_year),
        Target("households approved / year", 2_700, COOKED, lambda m: m.households_approved_per_year),
        Target(
            "children placed / year", 3_040, "DfE, adopted in 2024/25 (SSDA903)", lambda m: m.children_placed_per_year
        ),
        Target("plan changes / year (children)", 460, COOKED, lambda m: m.plan_changes_per_year),
        Target("household withdrawals / year", 400, COOKED, lambda m: m.household_withdrawals_per_year),
        Target("mean days, placement order to placement", 292, CORAM, lambda m: m.mean_wait_days["all"]),
        Target("mean days, children aged 5+", 508, CORAM, lambda m: m.mean_wait_days["aged 5+"]),
        Target("mean days, disabled children", 444, CORAM, lambda m: m.mean_wait_days["disabled"]),
        Target("children waiting 18 months or more", 410, CORAM, lambda m: m.waiting_18_months),
        Target("children waiting (stock)", 2_940, CORAM, lambda m: m.waiting_children),
        Target("households waiting (stock)", 1_420, CORAM, lambda m: m.waiting_households),
        Target("% of waiting children in sibling groups", 57, "ASGLB Dec 2018", lambda m: m.stock_share_sibling_groups),
        Target("% of waiting children aged 5+", 28, "ASGLB Dec 2018", lambda m: m.stock_share_five_plus),
        Target(
            "% of placements across regions",
            round(cross_region),
            "the synthetic register's past placements",
            lambda m: m.cross_region_percent,
        ),
        Target(
            "% of placements across agencies",
            round(cross_agency),
            "the synthetic register's past placements",
            lambda m: m.cross_agency_percent,
        ),
    ]


def register_history_shares(seed: int, today: date = date(2025, 6, 30)) -> tuple[float, float]:
    """% of the synthetic register's past placements (one year, children-weighted) across
    regions and across agencies: what the status quo's placements should look like."""
    from services.register.seed.generate import RegisterGenerator

    generator = RegisterGenerator(seed, today)
    region = {x.ref: x.region for x in generator.agencies}
    rows = generator.history(1)
    children = np.array([len(r["group"]["children"]) for r in rows], dtype=float)
    across_regions = np.array(
        [region[r["household"]["approving_agency_ref"]] != r["group"]["children"][0]["region"] for r in rows]
    )
    across_agencies = np.array(
        [r["household"]["approving_agency_ref"] != generator.raa_of[r["group"]["la_ref"]] for r in rows]
    )
    total = children.sum()
    return float(100 * (children * across_regions).sum() / total), float(
        100 * (children * across_agencies).sum() / total
    )


def calibration(status_quo: list[Metrics], history: tuple[float, float]) -> list[tuple[Target, float, float, bool]]:
    """(target, achieved mean, half-width, within 15%) for every target."""
    rows = []
    for t in calibration_targets(history):
        mean, half = mean_interval([t.get(m) for m in status_quo])
        rows.append((t, mean, half, abs(mean - t.target) <= TOLERANCE * t.target))
    return rows


# --- the report ---------------------------------------------------------------------------------

RESULT_ROWS: tuple[tuple[str, Callable[[Metrics], float]], ...] = (
    *((f"mean days waited: {g}", (lambda m, g=g: m.mean_wait_days[g])) for g in GROUPS),
    ("children waiting 18+ months", lambda m: m.waiting_18_months),
    ("children waiting (mean stock)", lambda m: m.waiting_children),
    ("children placed / year", lambda m: m.children_placed_per_year),
    ("plan changes / year", lambda m: m.plan_changes_per_year),
    ("% placed across regions", lambda m: m.cross_region_percent),
    ("% placed across agencies", lambda m: m.cross_agency_percent),
    ("fees paid to RAAs / year (£)", lambda m: m.fees_to_raa_pounds_per_year),
    ("fees paid to VAAs / year (£)", lambda m: m.fees_to_vaa_pounds_per_year),
    ("% of children considered that were taken on", lambda m: m.acceptance_percent),
)
HEADLINE_METRIC: tuple[str, Callable[[Metrics], float]] = (
    "children waiting 18+ months",
    lambda m: m.waiting_18_months,
)
# Each cause is the step from one arm to the next.
CAUSES = (
    ("national pooling (the same browsing, every profile shown nationally)", "status_quo", "pooled_browsing"),
    (
        "the solver (engine proposals, no priority points, instead of browsing)",
        "pooled_browsing",
        "optimal_no_priority",
    ),
    ("the priority weights", "optimal_no_priority", "optimal"),
    ("the 18-month lexicographic priority", "optimal", "lexicographic"),
)


def write_report(result: "Experiment", out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    a, arms = result.assumptions, result.arms
    names = list(arms)
    base = "status_quo"
    replications = len(arms[names[0]])
    history = register_history_shares(result.seed)
    labels = [LABELS.get(p, p) for p in names]
    colours = plt.get_cmap("tab10")

    # Kaplan-Meier curves by group.
    fig, axes = plt.subplots(1, len(GROUPS), figsize=(16, 3.6), sharey=True)
    for ax, group in zip(axes, GROUPS, strict=True):
        for k, p in enumerate(names):
            curve = np.nanmean([m.waiting_curve[group] for m in arms[p]], axis=0)
            ax.step(KM_DAYS, curve, where="post", color=colours(k), label=LABELS.get(p, p))
        ax.axvline(548, color="grey", lw=0.6, ls=":")
        ax.set_title(group)
        ax.set_xlabel("days since the placement order")
    axes[0].set_ylabel("share still waiting")
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "waiting_curves.png", dpi=100)

    # Mean waits of the children placed, by group, with intervals.
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(names)
    for k, p in enumerate(names):
        pairs = [mean_interval([m.mean_wait_days[g] for m in arms[p]]) for g in GROUPS]
        ax.bar(
            np.arange(len(GROUPS)) + k * width,
            [x[0] for x in pairs],
            width,
            yerr=[x[1] for x in pairs],
            capsize=2,
            color=colours(k),
            label=LABELS.get(p, p),
        )
    ax.set_xticks(np.arange(len(GROUPS)) + width * (len(names) - 1) / 2, GROUPS)
    ax.set_ylabel("mean days, order to placement")
    ax.set_title("Children placed: mean wait by group (bars: 95% intervals)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "groups.png", dpi=100)

    # The headline, and fees by who receives them, per arm with intervals.
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    values = [mean_interval([HEADLINE_METRIC[1](m) for m in arms[p]]) for p in names]
    left.barh(labels, [v[0] for v in values], xerr=[v[1] for v in values], capsize=3, color="#4c72b0")
    left.set_xlabel(HEADLINE_METRIC[0] + " (England)")
    left.invert_yaxis()
    raa = [mean_interval([m.fees_to_raa_pounds_per_year / 1e6 for m in arms[p]]) for p in names]
    vaa = [mean_interval([m.fees_to_vaa_pounds_per_year / 1e6 for m in arms[p]]) for p in names]
    right.barh(labels, [x[0] for x in raa], xerr=[x[1] for x in raa], capsize=3, label="to RAAs")
    right.barh(
        labels, [x[0] for x in vaa], left=[x[0] for x in raa], xerr=[x[1] for x in vaa], capsize=3, label="to VAAs"
    )
    right.set_xlabel("interagency fees, £ million a year (paid by the child's LA)")
    right.set_yticks([])
    right.invert_yaxis()
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "headline_and_fees.png", dpi=100)

    # The waiting stock over the measured years.
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for k, p in enumerate(names):
        ax.plot(np.mean([m.stock for m in arms[p]], axis=0), color=colours(k), label=LABELS.get(p, p))
    ax.set_xlabel("week after the warm-up")
    ax.set_ylabel("children waiting (England)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "stock.png", dpi=100)

    lines = [
        f"# What matching policies do to waiting times (simulation, seed {result.seed})",
        "",
        f"{replications} replications of {a.years} measured years after {a.warmup_years} years of warm-up, at "
        f"{a.scale:.0%} of England's scale; stocks and flows are scaled back to England. Every arm sees the same "
        "children, households and random draws (common random numbers), and every household behaves by the same "
        "preference model in every arm: arms differ only in who is shown to whom and how pairs are chosen. Figures "
        "are means over replications ± the half-width of a 95% t-interval; differences are paired by replication.",
        "",
        "## Summary",
        "",
    ]
    lines += _summary(result)
    lines += [
        "",
        "## Calibration of the status quo (2024/25)",
        "",
        "Flows are per year in England. An *estimate* is a figure not found in the stored public sources: "
        "how it is made is in Assumptions.",
        "",
        "| figure | target | source | simulated | within 15% |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for t, mean, half, ok in calibration(arms[base], history):
        lines.append(f"| {t.figure} | {t.target:,} | {t.source} | {_fmt(mean, half)} | {'yes' if ok else 'NO'} |")
    trend = mean_interval([m.stock_trend_percent_per_year for m in arms[base]])
    lines += [
        "",
        f"Steady state: after the warm-up the status-quo stock moves by {_fmt(*trend, signed=True)}% a year "
        f"(one replication's trend over {a.years} years is noisy; the tests hold the mean trend of two six-year "
        "runs at 20% of England, on other seeds, within ±2% a year).",
    ]
    if result.out_of_sample and result.out_of_sample_assumptions is not None:
        past = result.out_of_sample
        lines += [
            "",
            "## Out-of-sample check: the 2022 balance",
            "",
            "The model calibrated on 2024/25, re-run with the 2022 balance of households: approvals raised "
            f"to {result.out_of_sample_assumptions.households_per_year:,.0f} a year, found by trial to hold about "
            "2,480 households waiting (2022, against 1,420 in 2025, Coram-i / ASGLB); children's arrivals and "
            "everything else unchanged: the model must produce the 2022 children's stock (2,020) and the 2022/23 "
            "mean wait (187 days) by itself. Both means are of the same interval, as published: days from the "
            "placement order to the placement (moving in), over the children placed in the year. The values "
            "moved in this calibration were chosen on the 2024/25 figures alone (a search whose objective is the "
            "calibration table above, `benchmarks/simulation_calibration.py`, which never runs the 2022 balance); "
            "the 2022 approvals were then found by trial on the households' stock alone (the same script prints "
            "nothing else for them), and this check was run once, after both: the 2022 wait and children's stock "
            "below were not looked at while choosing them. The values kept from an earlier calibration (the "
            "preference sizes other than age, two arrival weights, the link success, the withdrawal hazard, the "
            "listing and introduction weeks: see Assumptions) were chosen by a search whose objective included "
            "this wait; the last paragraph of this section is the check with those chosen again without it.",
            "",
            "| figure | 2022/23 published | simulated | 2024/25 published | simulated |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        rows_2022: tuple[tuple[str, int | str, int | str, Callable[[Metrics], float]], ...] = (
            ("mean days, order to placement", 187, 292, lambda m: m.mean_wait_days["all"]),
            ("of which: order to the start of family finding", "-", "-", lambda m: m.mean_days_before_family_finding),
            ("% placed in house (the child's own agency)", "-", "-", lambda m: 100 - m.cross_agency_percent),
            ("mean days, placed with another agency's household", "-", "-", lambda m: m.mean_wait_across_agencies_days),
            ("children waiting", 2_020, 2_940, lambda m: m.waiting_children),
            ("households waiting", 2_480, 1_420, lambda m: m.waiting_households),
        )
        for label, then, now, get in rows_2022:
            lines.append(
                f"| {label} | {_published(then)} | {_fmt(*mean_interval([get(m) for m in past]))} | "
                f"{_published(now)} | {_fmt(*mean_interval([get(m) for m in arms[base]]))} |"
            )
        clean = result.out_of_sample_without_2022
        if clean:
            lines += [
                "",
                "With no value chosen in view of 2022: the values kept from the earlier calibration chosen again "
                "on the 2024/25 table alone, by a coordinate search from the middle of each range "
                "(`experiment.without_2022`; they fit 2024/25 as well as these, which are kept), and the 2022 "
                "approvals found again for them on the households' stock alone, the same check gives a mean wait "
                f"of {_fmt(*mean_interval([m.mean_wait_days['all'] for m in clean]))} days against the published "
                f"187, with {_fmt(*mean_interval([m.waiting_children for m in clean]))} children and "
                f"{_fmt(*mean_interval([m.waiting_households for m in clean]))} households waiting (2022: 2,020 "
                "and 2,480).",
            ]
        lines += [
            "",
            "What moves the wait: family finders have a fixed number of places (1,460 units in England, the "
            "published count in active family finding in 2025; a unit holds its place until the match "
            "decision), and a child referred while its agency's places are full waits for one; agencies propose "
            "a child to their own households first and widen the search only when they have no suitable "
            "household left. With more households waiting, children are placed sooner, places free up, the time "
            "before family finding shrinks, and more children are placed in house: the rows above show each part "
            "in both balances.",
        ]
    lines += [
        "",
        "## Arms",
        "",
        "| figure | " + " | ".join(labels) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for label, get in RESULT_ROWS:
        lines.append(
            f"| {label} | " + " | ".join(_fmt(*mean_interval([get(m) for m in arms[p]])) for p in names) + " |"
        )
    lines += [
        "",
        "Differences from the status quo (paired; 95% interval in brackets; an interval that contains 0 is no "
        "evidence of a difference):",
        "",
        "| figure | " + " | ".join(labels[1:]) + " |",
        "| --- |" + " ---: |" * (len(names) - 1),
    ]
    for label, get in RESULT_ROWS:
        cells = [_fmt_range(*paired_difference(arms[base], arms[p], get)) for p in names[1:]]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "![waiting curves](waiting_curves.png)",
        "",
        "Kaplan-Meier curves: of the children whose wait began in the measured years, the share still waiting "
        "after so many days; a child still waiting at the end, or whose plan changed, is censored (counted until "
        "then, never as placed), so the longest waits are not hidden. Groups as at the placement order.",
        "",
        "![groups](groups.png)",
        "",
        "![headline and fees](headline_and_fees.png)",
        "",
        "Fees: the child's local authority (through its RAA) pays whenever the household was approved by another "
        "agency: £27,000 a child to an RAA, £39,245 to a VAA (2025/26). A policy that places more children across "
        "agencies moves cost onto the children's local authorities; the DfE subsidy for harder-to-place children "
        "is not modelled.",
        "",
        "![stock](stock.png)",
        "",
    ]
    if result.sensitivity:
        lines += _sensitivity(result, out, plt)
    lines += ["## Assumptions", ""]
    for f in fields(a):
        value = getattr(a, f.name)
        if f.name == "preferences":
            lines += [f"- `preferences.{g.name}` = {getattr(value, g.name)}" for g in fields(value)]
        else:
            lines.append(f"- `{f.name}` = {value}")
    lines += [
        "",
        "Sources and reasons are beside each field in `services/matching/simulation/model.py`. Calibration: "
        "the values moved in issue 19's second round (households approved, attention, profiles read, own-region "
        "weight, in-house review, matching weeks, lead before the order, the five-plus and group arrival weights, "
        "the plan-change hazard, the taste for age) were chosen by `benchmarks/simulation_calibration.py` on the "
        "2024/25 figures only: the 2022 figures were not used; the other values were kept from the first round, "
        "whose search had the 2022 wait in its objective. Published figures "
        "used: children adopted in England in the year to 31 March 2025: 3,040 (DfE, Children looked after in "
        "England including adoptions, 2025, table of children who ceased to be looked after by adoption); waiting "
        "stocks and mean waits from Coram-i / ASGLB (shared/design/domain.md). The waits (292 days in 2024/25, "
        "187 in 2022/23) are means of the days from the placement order to the placement, over the children placed "
        "in the year; the model measures the same interval over the children it places, and family finding may "
        "start before the order (it begins at the agency's decision that the child should be placed for adoption; "
        "DfE 2019 put that decision 8 months before the match on average, Family Law Week, 2019 release). Searched "
        "for and not found in the stored sources: the placement orders granted and adopter households approved in "
        "2024/25, plan changes and household withdrawals (the only count of orders found is a 2013-14 quarterly "
        "one, before the fall that followed Re B-S). Those targets are estimates: children entering = 3,040 "
        "adoptions + ~460 plan changes (the stock grew from 2,020 in 2022 to 2,940 in 2025, so entries at least "
        "match exits); households approved ~2,700 = ~2,300 adopting households (3,040 children at ~1.3 a "
        "household) + ~400 withdrawals. Plan changes are censored in the waiting curves (the curves estimate the "
        "wait had the plan not changed).",
        "",
        "Arms: " + "; ".join(f"**{LABELS[p]}**" for p in names if p in LABELS) + ". In every arm a waiting "
        "household pays attention in a week with the same probability; when it does, in the browsing arms it "
        "reads a share of the profiles it may see and enquires about the child it wants most (in the status quo "
        "its agency first proposes it one of the agency's own children not yet listed nationally), and in the "
        "engine arms it is proposed one child; it takes the child on with the probability its preferences give (the "
        "same model everywhere); a declined pair is never shown again.",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    (out / "report.html").write_text(to_html(lines, out))
    plt.close("all")
    return report


def _summary(result: "Experiment") -> list[str]:
    arms, base = result.arms, "status_quo"
    label, get = HEADLINE_METRIC
    lines = []
    if "optimal" in arms:
        mean, half = paired_difference(arms[base], arms["optimal"], get)
        before = mean_interval([get(m) for m in arms[base]])[0]
        lines.append(
            f"- Headline: the national optimal policy with priority points changes the number of {label} by "
            f"{_fmt_range(mean, half)} from {before:,.0f} in the status quo ({100 * mean / max(before, 1):+.0f}%)."
        )
        five = paired_difference(arms[base], arms["optimal"], lambda m: m.mean_wait_days["aged 5+"])
        every = paired_difference(arms[base], arms["optimal"], lambda m: m.mean_wait_days["all"])
        lines.append(
            f"- The mean wait of the children placed changes by {_fmt_range(*every)} days (a policy that places "
            "the longest waiters first can lengthen the mean of those placed while it shortens the queue); that of "
            f"children aged 5+ by {_fmt_range(*five)} days."
        )
    for cause, first, second in CAUSES:
        if first in arms and second in arms:
            diff = paired_difference(arms[first], arms[second], get)
            verdict = "no evidence of an effect" if abs(diff[0]) <= diff[1] else ("helps" if diff[0] < 0 else "hurts")
            lines.append(f"- {cause}: {label} {_fmt_range(*diff)} ({verdict}).")
    if "national_greedy" in arms and "optimal" in arms:
        diff = paired_difference(arms["national_greedy"], arms["optimal"], get)
        lines.append(f"- National optimal against national greedy (same proposals, another rule): {_fmt_range(*diff)}.")
    if "optimal" in arms:
        taken = {p: mean_interval([m.acceptance_percent for m in arms[p]])[0] for p in ("status_quo", "optimal")}
        lines.append(
            f"- Why: a household takes on {taken['status_quo']:.0f}% of the children it considers when it "
            f"browses, {taken['optimal']:.0f}% of those the national optimal policy proposes. Every arm uses the "
            "same preferences, so a proposal the household would not have chosen is often declined, and the week "
            "of attention it took is lost to every other child."
        )
        raa = paired_difference(arms[base], arms["optimal"], lambda m: m.fees_to_raa_pounds_per_year / 1e6)
        vaa = paired_difference(arms[base], arms["optimal"], lambda m: m.fees_to_vaa_pounds_per_year / 1e6)
        lines.append(
            f"- Interagency fees under the national optimal policy change by £{raa[0]:+.1f}m (±{raa[1]:.1f}m) a "
            f"year paid to RAAs and £{vaa[0]:+.1f}m (±{vaa[1]:.1f}m) paid to VAAs; the children's local "
            "authorities pay them."
        )
    if result.out_of_sample:
        then = mean_interval([m.mean_wait_days["all"] for m in result.out_of_sample])
        now = mean_interval([m.mean_wait_days["all"] for m in arms[base]])[0]
        verdict = (
            "within 15%"
            if abs(then[0] - 187) <= TOLERANCE * 187
            else f"{100 * (then[0] - 187) / 187:+.0f}% from it, outside 15%"
        )
        lines.append(
            f"- 2022 check (no 2022 figure was used by this calibration; some values kept from an earlier one "
            "were, and the check without them is in the out-of-sample section): calibrated on 2024/25 "
            f"({now:,.0f} days against 292) and re-run with the 2022 balance "
            f"of households, the model gives a mean wait of {_fmt(*then)} days against the published 187 "
            f"(2022/23): {verdict}. The same interval is measured in both: days from the placement order to the "
            "placement."
            + (
                " With those values chosen again without 2022: "
                f"{_fmt(*mean_interval([m.mean_wait_days['all'] for m in result.out_of_sample_without_2022]))} days."
                if result.out_of_sample_without_2022
                else ""
            )
        )
    lines.append(
        "- Sibling groups are never split in any arm: a group is one unit of matching, so that is a rule of the "
        "model, not a result."
    )
    return lines


def _sensitivity(result: "Experiment", out: Path, plt: object) -> list[str]:
    label, get = HEADLINE_METRIC
    first, second = "status_quo", "optimal"
    n = len(next(iter(result.sensitivity.values()))[first])
    base = paired_difference(result.arms[first][:n], result.arms[second][:n], get)[0]
    names = sorted({name for name, _ in result.sensitivity})

    def moved(name: str, factor: float) -> float:
        arms = result.sensitivity[(name, factor)]
        return paired_difference(arms[first], arms[second], get)[0]

    low = [moved(x, 0.75) for x in names]
    high = [moved(x, 1.25) for x in names]
    fig, ax = plt.subplots(figsize=(8, 3.5))  # type: ignore[attr-defined]
    y = np.arange(len(names))
    ax.barh(y - 0.2, np.array(low) - base, 0.4, left=base, label="assumption -25%")
    ax.barh(y + 0.2, np.array(high) - base, 0.4, left=base, label="assumption +25%")
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(y, names)
    ax.set_xlabel(f"optimal minus status quo: {label}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "sensitivity.png", dpi=100)
    lines = [
        "## Sensitivity",
        "",
        f"The headline difference (national optimal minus status quo, {label}) when one assumption moves by "
        f"±25%, the others held, over the first {n} replications (the same populations: {base:+,.0f} at the "
        "assumptions as set).",
        "",
        "![sensitivity](sensitivity.png)",
        "",
        "| assumption | -25% | +25% |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| `{x}` | {lo:+,.0f} | {hi:+,.0f} |" for x, lo, hi in zip(names, low, high, strict=True)]
    return [*lines, ""]


def to_html(lines: list[str], folder: Path) -> str:
    """The Markdown above as one HTML page with its charts inlined (only the Markdown this
    module writes: headings, paragraphs, lists, tables, images, `code` and **bold**)."""

    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
        return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)

    body: list[str] = []
    table: list[list[str]] = []
    in_list = False
    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                table.append(cells)
            continue
        if table:
            head, *rows = table
            body.append("<table><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>")
            body += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in rows]
            body.append("</table>")
            table = []
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{inline(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        image = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", line)
        if image:
            data = base64.b64encode((folder / image.group(2)).read_bytes()).decode()
            body.append(f'<p><img alt="{html.escape(image.group(1))}" src="data:image/png;base64,{data}"></p>')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line:
            body.append(f"<p>{inline(line)}</p>")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
        "td{text-align:right}td:first-child{text-align:left}img{max-width:100%}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Simulation of matching policies</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
