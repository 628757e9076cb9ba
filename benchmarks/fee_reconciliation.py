"""Raising and reconciling a year of interagency fees on the synthetic national register.

Loads the synthetic register (whose past placements raised their fee lines through the live
code path) into a scratch database, then:

1. prints the fee coverage of every financial year the seed covers (every cross-agency
   placement has lines or a reason; `unaccounted` must be 0);
2. raises every fee due for the whole register from scratch, twice, each time inside a
   transaction that is rolled back: placement by placement (the baseline: the nightly job as
   it was) and batched (the nightly job now), checks they raise the same lines, and prints
   both times;
3. nets the lines due in the last twelve months with the same netting the API's
   reconciliation uses, and prints lines, transfers and cash invoice by invoice, after
   bilateral netting (the baseline, in the same run) and after multilateral netting.

Figures, not a pass/fail test.

    python -m benchmarks.fee_reconciliation
"""

import asyncio
import time
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.fee_netting import bilateral_netting
from benchmarks.seeded_database import seeded_database
from services.core.database import create_sessionmaker
from services.register.fees import repository
from services.register.fees.calculation import financial_year
from services.register.fees.netting import InvoiceLine, settle
from services.register.fees.service import coverage_of, raise_all_due, raise_all_due_one_by_one


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def cut(before: int, after: int) -> str:
    return f"{100 * (before - after) / before:.1f}% less" if before else "-"


async def print_coverage(engine: AsyncEngine, today: date) -> None:
    print("fee coverage by financial year (placements made in the year):")
    print(
        f"{'year':<9}{'placed':>8}{'cross-agency':>14}{'with lines':>12}{'reasons':>30}"
        f"{'unaccounted':>13}{'lines':>8}{'raised':>15}"
    )
    async with create_sessionmaker(engine)() as session:
        for year in range(financial_year(today) - 3, financial_year(today) + 1):
            r = await coverage_of(session, year, today)
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(r.with_reason.items())) or "-"
            print(
                f"{year}/{(year + 1) % 100:02d}  {r.placements:>8,}{r.cross_agency:>14,}{r.with_lines:>12,}"
                f"{reasons:>30}{r.unaccounted:>13,}{r.lines:>8,}{pounds(r.amount_pence):>15}"
            )


async def raise_from_scratch(engine: AsyncEngine, today: date, job) -> tuple[float, int, int, int]:
    """Every fee due today for the whole register, as if none had been raised: the lines
    are set aside inside a transaction that is rolled back (the database refuses DELETE
    from fee_lines otherwise: its trigger is disabled only in this transaction)."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text("ALTER TABLE fee_lines DISABLE TRIGGER forbid_change"))
        await conn.execute(text("DELETE FROM fee_disputes"))
        await conn.execute(text("DELETE FROM reconciliation_lines"))
        await conn.execute(text("DELETE FROM fee_lines"))
        async with AsyncSession(bind=conn, expire_on_commit=False) as session:
            started = time.perf_counter()
            checked, raised, _ = await job(session, as_of=today, today=today, raised_by="benchmark")
            await session.flush()
            seconds = time.perf_counter() - started
            total = int((await conn.execute(text("SELECT coalesce(sum(amount_pence), 0) FROM fee_lines"))).scalar_one())
        await transaction.rollback()
    return seconds, checked, raised, total


async def main() -> None:
    _, engine = await seeded_database()
    today = date.today()
    await print_coverage(engine, today)
    base_s, checked, base_lines, base_total = await raise_from_scratch(engine, today, raise_all_due_one_by_one)
    new_s, _, new_lines, new_total = await raise_from_scratch(engine, today, raise_all_due)
    same = "the same lines and amounts" if (base_lines, base_total) == (new_lines, new_total) else "DIFFERENT results"
    print(
        f"raising every fee due for the whole register from scratch ({checked:,} current cross-agency "
        f"placements, {new_lines:,} lines, {pounds(new_total)}):\n"
        f"  placement by placement (baseline) {base_s:.2f} s; batched {new_s:.2f} s "
        f"(x{base_s / new_s:.1f}); {same}"
    )
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
