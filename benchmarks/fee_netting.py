"""Benchmark: one synthetic year of interagency fees, settled by multilateral netting.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python -m benchmarks.fee_netting [--seed N]

The year is calibrated on /work/shared/design/domain.md: 33 RAAs and 20 VAAs, about 2,900
children placed, over half with adopters approved by another agency, LA/RAA -> LA/RAA fee
GBP 27,000 and LA/RAA -> VAA fee GBP 39,245 (April 2025) per child, siblings paying per
child. Shares that the domain notes do not give are marked as assumptions below.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

# Run as a script from the repo root, where the services package is not installed.
from services.register.fees.netting import InvoiceLine, Settlement, settle

RAAS = 33
VAAS = 20
CHILDREN_PLACED = 2_900
FEE_LA_TO_LA_PENCE = 2_700_000  # domain.md: GBP 27,000 flat since 2011
FEE_LA_TO_VAA_PENCE = 3_924_500  # domain.md: GBP 39,245 from April 2025
ACROSS_AGENCIES = 0.55  # domain.md: "over half"
# Assumptions (not in domain.md): how placements split and how often lines are amended.
VAA_SHARE_OF_ACROSS = 0.35
SIBLING_GROUP_SIZES = ((1, 0.70), (2, 0.22), (3, 0.08))
NEIGHBOUR_WEIGHT = 3.0  # RAAs place more often with adopters of nearby RAAs
CREDIT_NOTE_RATE = 0.02  # e.g. the second LA->LA instalment of GBP 9,000 not falling due
CREDIT_NOTE_PENCE = 900_000
HELD_RATE = 0.01  # lines in dispute this period
REPEATS = 3

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BilateralResult:
    transfers: int
    pence: int


def synthesise_year(rng: random.Random) -> tuple[list[InvoiceLine], frozenset[str]]:
    raas = [f"RAA-{i:02d}" for i in range(1, RAAS + 1)]
    vaas = [f"VAA-{i:02d}" for i in range(1, VAAS + 1)]
    size = {agency: rng.lognormvariate(0.0, 0.5) for agency in raas + vaas}
    sizes = [size for size, _ in SIBLING_GROUP_SIZES]
    size_weights = [weight for _, weight in SIBLING_GROUP_SIZES]

    lines: list[InvoiceLine] = []
    children = 0
    placement = 0
    while children < CHILDREN_PLACED:
        placement += 1
        group = rng.choices(sizes, size_weights)[0]
        children += group
        payer = rng.choices(raas, [size[a] for a in raas])[0]
        if rng.random() >= ACROSS_AGENCIES:
            continue  # placed with the agency's own adopters: no fee
        if rng.random() < VAA_SHARE_OF_ACROSS:
            payee = rng.choices(vaas, [size[a] for a in vaas])[0]
            fee = FEE_LA_TO_VAA_PENCE
        else:
            others = [a for a in raas if a != payer]
            here = raas.index(payer)
            weights = [
                size[a]
                * (NEIGHBOUR_WEIGHT if min(abs(raas.index(a) - here), RAAS - abs(raas.index(a) - here)) <= 3 else 1.0)
                for a in others
            ]
            payee = rng.choices(others, weights)[0]
            fee = FEE_LA_TO_LA_PENCE
        for child in range(group):
            lines.append(InvoiceLine(f"P{placement:05d}-{child}", payer, payee, fee))

    credits = [
        InvoiceLine(f"{line.id}-CN", line.payer, line.payee, -CREDIT_NOTE_PENCE, credits=line.id)
        for line in lines
        if rng.random() < CREDIT_NOTE_RATE
    ]
    held = frozenset(line.id for line in lines if rng.random() < HELD_RATE)
    return lines + credits, held


def bilateral_netting(lines: Iterable[InvoiceLine], held: frozenset[str]) -> BilateralResult:
    """The naive baseline: each pair of agencies sets off what they owe each other, nothing more."""
    held_ids = {line.id for line in lines if line.id in held}
    owed: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        if line.id in held_ids or line.credits in held_ids:
            continue
        a, b = sorted((line.payer, line.payee))
        owed[(a, b)] += line.amount_pence if line.payer == a else -line.amount_pence
    moving = [abs(pence) for pence in owed.values() if pence != 0]
    return BilateralResult(transfers=len(moving), pence=sum(moving))


def best_of(repeats: int, run: Callable[[], T]) -> tuple[T, float]:
    best = float("inf")
    result: T | None = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return result, best


def reduction(before: int, after: int) -> str:
    return f"{100 * (before - after) / before:.1f}%" if before else "n/a"


def pounds(pence: int) -> str:
    return f"GBP {pence / 100:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    lines, held = synthesise_year(random.Random(args.seed))
    settlement: Settlement
    settlement, settle_seconds = best_of(REPEATS, lambda: settle(lines, held))
    bilateral, bilateral_seconds = best_of(REPEATS, lambda: bilateral_netting(lines, held))
    totals = settlement.totals
    nonzero = sum(1 for p in settlement.positions.values() if p.net_pence != 0)

    print(f"seed {args.seed}: {RAAS} RAAs + {VAAS} VAAs, {CHILDREN_PLACED:,}+ children placed")
    print(f"invoice lines: {len(lines):,} ({len(settlement.settled):,} settled, {len(settlement.held):,} held)")
    print(f"agencies with a non-zero net: {nonzero} (so at most {max(nonzero - 1, 0)} netted transfers)")
    print()
    print(f"{'':28}{'transfers':>10}{'cut':>8}{'cash':>18}{'cut':>8}{'time':>12}")
    print(
        f"{'invoice by invoice':28}{totals.invoice_by_invoice_transfers:>10,}{'':>8}"
        f"{pounds(totals.invoice_by_invoice_pence):>18}{'':>8}{'':>12}"
    )
    print(
        f"{'bilateral netting (naive)':28}{bilateral.transfers:>10,}"
        f"{reduction(totals.invoice_by_invoice_transfers, bilateral.transfers):>8}"
        f"{pounds(bilateral.pence):>18}{reduction(totals.invoice_by_invoice_pence, bilateral.pence):>8}"
        f"{bilateral_seconds * 1000:>9.2f} ms"
    )
    print(
        f"{'multilateral netting':28}{totals.netted_transfers:>10,}"
        f"{reduction(totals.invoice_by_invoice_transfers, totals.netted_transfers):>8}"
        f"{pounds(totals.netted_pence):>18}{reduction(totals.invoice_by_invoice_pence, totals.netted_pence):>8}"
        f"{settle_seconds * 1000:>9.2f} ms"
    )
    print()
    print(
        "multilateral vs bilateral: "
        f"transfers x{totals.netted_transfers / bilateral.transfers:.3f}, "
        f"cash x{totals.netted_pence / bilateral.pence:.3f}, "
        f"time x{settle_seconds / bilateral_seconds:.1f} "
        "(settle also validates and traces every line; the baseline does neither)"
    )
    traced = sum(len(t.payer_allocations) + len(t.payee_allocations) for t in settlement.transfers)
    print(f"traceability: {traced:,} allocations over {len(settlement.transfers)} transfers; time best of {REPEATS}")


if __name__ == "__main__":
    main()
