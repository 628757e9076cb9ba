"""Reconciling a year of interagency fees on the synthetic national register.

Loads the synthetic register (whose past placements raised their fee lines through the live
code path) into a scratch database, then nets the lines due in the last twelve months with
the same netting the API's reconciliation uses, and prints: lines, transfers and cash invoice by invoice, after
bilateral netting (the baseline, in the same run) and after multilateral netting, with the
reductions and timings. Figures, not a pass/fail test.

    python -m benchmarks.fee_reconciliation
"""

import asyncio
import time
from datetime import date, timedelta

from benchmarks.fee_netting import bilateral_netting
from benchmarks.seeded_database import seeded_database
from services.core.database import create_sessionmaker
from services.register.fees import repository
from services.register.fees.netting import InvoiceLine, settle


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def cut(before: int, after: int) -> str:
    return f"{100 * (before - after) / before:.1f}% less" if before else "-"


async def main() -> None:
    _, engine = await seeded_database()
    today = date.today()
    async with create_sessionmaker(engine)() as session:
        started = time.perf_counter()
        rows = await repository.lines_to_settle(session, today)
        year_ago = today - timedelta(days=365)
        lines = [
            InvoiceLine(id=line.ref, payer=payer, payee=payee, amount_pence=line.amount_pence, credits=credit)
            for line, payer, payee, _, _, _, credit in rows
            if line.due_on > year_ago
        ]
        query_seconds = time.perf_counter() - started
    started = time.perf_counter()
    settlement = settle(lines)
    netting_seconds = time.perf_counter() - started
    bilateral = bilateral_netting(lines, frozenset())
    totals = settlement.totals
    print(
        f"the fee lines due in the year to {today}: {len(lines):,} lines between "
        f"{len(settlement.positions):,} agencies (read in {query_seconds * 1000:.0f} ms)"
    )
    print(f"{'':<28}{'transfers':>10}{'cash':>16}")
    print(
        f"{'invoice by invoice':<28}{totals.invoice_by_invoice_transfers:>10,}"
        f"{pounds(totals.invoice_by_invoice_pence):>16}"
    )
    print(
        f"{'bilateral netting':<28}{bilateral.transfers:>10,}{pounds(bilateral.pence):>16}"
        f"   {cut(totals.invoice_by_invoice_transfers, bilateral.transfers)} transfers, "
        f"{cut(totals.invoice_by_invoice_pence, bilateral.pence)} cash"
    )
    print(
        f"{'multilateral netting':<28}{totals.netted_transfers:>10,}{pounds(totals.netted_pence):>16}"
        f"   {cut(totals.invoice_by_invoice_transfers, totals.netted_transfers)} transfers, "
        f"{cut(totals.invoice_by_invoice_pence, totals.netted_pence)} cash; settled in "
        f"{netting_seconds * 1000:.1f} ms"
    )
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
