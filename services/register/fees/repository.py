"""All SQL for interagency fees."""

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.database import DriverStatement, Queryable, driver_statement, fetch
from services.core.errors import NotFound
from services.register.fees.models import (
    CpihRate,
    FeeDispute,
    FeeLine,
    FeePayment,
    FeeSchedule,
    FeeWaiver,
    IffRule,
    Reconciliation,
    ReconciliationLine,
)
from services.register.models import Agency, Child, Placement
from services.register.vocabulary import FeeEvent, FeeKind, ReconciliationStatus

Payer = aliased(Agency, name="payer")
Payee = aliased(Agency, name="payee")


async def schedule_for(session: AsyncSession, kind: FeeKind, year: int, on: date) -> FeeSchedule | None:
    """The schedule in force on a day: the latest version effective by then in its year."""
    return await session.scalar(
        select(FeeSchedule)
        .where(FeeSchedule.kind == kind, FeeSchedule.financial_year == year, FeeSchedule.effective_from <= on)
        .order_by(FeeSchedule.effective_from.desc())
        .limit(1)
    )


async def schedules_of_year(session: AsyncSession, year: int) -> list[FeeSchedule]:
    return list(
        await session.scalars(
            select(FeeSchedule)
            .where(FeeSchedule.financial_year == year)
            .order_by(FeeSchedule.kind, FeeSchedule.effective_from)
        )
    )


async def schedule_has_lines(session: AsyncSession, schedule_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(FeeLine.schedule_id == schedule_id))))


async def insert_line_once(session: AsyncSession, values: dict) -> bool:
    """Insert unless the same (placement, event, month) exists: exactly once, even when two
    processes raise the same fee at the same moment. True when this call inserted it."""
    statement = (
        insert(FeeLine)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["placement_id", "event", "month"], index_where=text("event <> 'credit'")
        )
        .returning(FeeLine.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def cross_agency_placements(session: AsyncSession, placed_on_or_before: date) -> list[Placement]:
    return list(
        await session.scalars(
            select(Placement)
            .where(
                Placement.child_agency_id != Placement.household_agency_id,
                Placement.ended_on.is_(None),
                Placement.placed_on <= placed_on_or_before,
            )
            .order_by(Placement.id)
        )
    )


def lines_query(*line: Any) -> Select:
    """Lines with their parties, placement, dispute and settlement; `line` is what is selected
    of the line itself (the entity by default, or LINE_FIELDS' columns for a list)."""
    open_dispute = exists().where(FeeDispute.line_id == FeeLine.id, FeeDispute.resolved_at.is_(None))
    settled_by = (
        select(Reconciliation.ref)
        .join(ReconciliationLine, ReconciliationLine.reconciliation_id == Reconciliation.id)
        .where(ReconciliationLine.line_id == FeeLine.id)
        .scalar_subquery()
    )
    credited = aliased(FeeLine, name="credited")
    return (
        select(
            *(line or (FeeLine,)),
            Payer.ref,
            Payee.ref,
            Placement.ref,
            open_dispute.label("disputed"),
            settled_by.label("settled_by"),
            credited.ref.label("credits_ref"),
        )
        .select_from(FeeLine)
        .join(Payer, FeeLine.payer_agency_id == Payer.id)
        .join(Payee, FeeLine.payee_agency_id == Payee.id)
        .join(Placement, FeeLine.placement_id == Placement.id)
        .outerjoin(credited, FeeLine.credits_line_id == credited.id)
    )


# The fields of a listed line (LineRead's), standing where the entity stands in
# `lines_query()` rows: a list row is flat, these then the parties' refs and the rest
# (`service.line_item` reads it).
LINE_FIELDS = (
    FeeLine.id,
    FeeLine.ref,
    FeeLine.event,
    FeeLine.month,
    FeeLine.amount_pence,
    FeeLine.due_on,
    FeeLine.reason,
    FeeLine.raised_at,
)


@lru_cache(maxsize=64)
def _lines_statement(present: tuple[str, ...]) -> DriverStatement:
    """The list query for one combination of filters, compiled once and run by the driver
    (`core.database.fetch`); values are parameters."""
    open_dispute = exists().where(FeeDispute.line_id == FeeLine.id, FeeDispute.resolved_at.is_(None))
    settled = exists().where(ReconciliationLine.line_id == FeeLine.id)
    query = lines_query(*LINE_FIELDS)
    conditions = {
        "agency_id": lambda: or_(
            FeeLine.payer_agency_id == bindparam("agency_id"), FeeLine.payee_agency_id == bindparam("agency_id")
        ),
        "counterparty_ref": lambda: or_(
            Payer.ref == bindparam("counterparty_ref"), Payee.ref == bindparam("counterparty_ref")
        ),
        "due_from": lambda: FeeLine.due_on >= bindparam("due_from"),
        "due_to": lambda: FeeLine.due_on <= bindparam("due_to"),
        "placement_ref": lambda: Placement.ref == bindparam("placement_ref"),
        "settled": lambda: settled,
        "disputed": lambda: and_(open_dispute, ~settled),
        "open": lambda: and_(~open_dispute, ~settled),
        "after_id": lambda: FeeLine.id > bindparam("after_id"),
    }
    for name in present:
        query = query.where(conditions[name]())
    return driver_statement(query.order_by(FeeLine.id).limit(bindparam("limit")))


async def list_lines(
    db: Queryable,
    *,
    agency_id: int | None,
    counterparty_ref: str | None,
    due_from: date | None,
    due_to: date | None,
    status: str | None,
    placement_ref: str | None,
    after_id: int | None,
    limit: int | None,
) -> list:
    """Flat rows (asyncpg Records): LINE_FIELDS, then the rest of `lines_query()`'s columns."""
    values: dict[str, Any] = {
        "agency_id": agency_id,
        "counterparty_ref": counterparty_ref,
        "due_from": due_from,
        "due_to": due_to,
        "placement_ref": placement_ref,
        "after_id": after_id,
    }
    params = {name: value for name, value in values.items() if value is not None and value != ""}
    present = tuple(params) + ((status,) if status in ("settled", "disputed", "open") else ())
    params["limit"] = limit
    return await fetch(db, _lines_statement(present), params)


async def get_line(session: AsyncSession, ref: str, *, for_update: bool = False):
    query = lines_query().where(FeeLine.ref == ref)
    if for_update:
        query = query.with_for_update(of=FeeLine)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No invoice line {ref}.")
    return row


async def get_line_by_id(session: AsyncSession, line_id: int, *, for_update: bool = False):
    query = lines_query().where(FeeLine.id == line_id)
    if for_update:
        query = query.with_for_update(of=FeeLine)
    return (await session.execute(query)).one()


async def credited_so_far(session: AsyncSession, line_id: int) -> int:
    """The (negative) sum of a line's credit notes, as an int: PostgreSQL's sum of BIGINT is
    NUMERIC, which would reach the client as a Decimal."""
    query = select(func.coalesce(func.sum(FeeLine.amount_pence), 0)).where(FeeLine.credits_line_id == line_id)
    return int((await session.execute(query)).scalar_one())


async def open_dispute_of(session: AsyncSession, line_id: int) -> FeeDispute | None:
    return await session.scalar(
        select(FeeDispute).where(FeeDispute.line_id == line_id, FeeDispute.resolved_at.is_(None)).with_for_update()
    )


async def get_dispute(session: AsyncSession, ref: str) -> FeeDispute:
    dispute = await session.scalar(select(FeeDispute).where(FeeDispute.ref == ref).with_for_update())
    if dispute is None:
        raise NotFound(f"No dispute {ref}.")
    return dispute


async def lines_to_settle(session: AsyncSession, period_end: date) -> list:
    """Unsettled lines due by the end of the period, with whether each is disputed: a
    line due in an earlier, already finalised period but raised late falls in here."""
    query = lines_query().where(FeeLine.due_on <= period_end, ~exists().where(ReconciliationLine.line_id == FeeLine.id))
    return list((await session.execute(query.order_by(FeeLine.id))).all())


async def overlapping_finalised(session: AsyncSession, start: date, end: date) -> Reconciliation | None:
    return await session.scalar(
        select(Reconciliation)
        .where(
            Reconciliation.status == ReconciliationStatus.FINALISED,
            and_(Reconciliation.period_start <= end, Reconciliation.period_end >= start),
        )
        .limit(1)
    )


async def reconciliation_by_key(session: AsyncSession, key: str) -> Reconciliation | None:
    return await session.scalar(select(Reconciliation).where(Reconciliation.idempotency_key == key))


async def get_reconciliation(session: AsyncSession, ref: str, *, for_update: bool = False) -> Reconciliation:
    query = select(Reconciliation).where(Reconciliation.ref == ref)
    if for_update:
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"No reconciliation {ref}.")
    return found


async def line_ids_by_ref(session: AsyncSession, refs: list[str]) -> dict[str, int]:
    return dict((await session.execute(select(FeeLine.ref, FeeLine.id).where(FeeLine.ref.in_(refs)))).all())


async def get_placement(session: AsyncSession, ref: str) -> Placement:
    placement = await session.scalar(select(Placement).where(Placement.ref == ref))
    if placement is None:
        raise NotFound(f"No placement {ref}.")
    return placement


# --- waivers, coverage ------------------------------------------------------------------


async def waiver_of(session: AsyncSession, placement_id: int) -> FeeWaiver | None:
    return await session.scalar(select(FeeWaiver).where(FeeWaiver.placement_id == placement_id))


async def placements_of_year(session: AsyncSession, start: date, end: date, after_id: int | None, limit: int | None):
    """Placements made between two days (a financial year), with their agencies' refs."""
    ChildAgency = aliased(Agency, name="child_agency")
    HouseholdAgency = aliased(Agency, name="household_agency")
    query = (
        select(Placement, ChildAgency.ref, HouseholdAgency.ref)
        .join(ChildAgency, Placement.child_agency_id == ChildAgency.id)
        .join(HouseholdAgency, Placement.household_agency_id == HouseholdAgency.id)
        .where(Placement.placed_on >= start, Placement.placed_on <= end)
    )
    if after_id is not None:
        query = query.where(Placement.id > after_id)
    return list((await session.execute(query.order_by(Placement.id).limit(limit))).all())


async def lines_of_placements(session: AsyncSession, placement_ids: list[int]) -> list:
    return list(
        (
            await session.execute(
                lines_query().where(FeeLine.placement_id.in_(placement_ids)).order_by(FeeLine.placement_id, FeeLine.id)
            )
        ).all()
    )


# --- idempotency, reconciliations and payments -------------------------------------------


async def lock_idempotency_key(session: AsyncSession, key: str) -> None:
    """Serialise requests carrying one Idempotency-Key until this transaction ends, so a
    concurrent retry waits and then finds the first request's result."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("reconciliation:" + key, 0))))


async def list_reconciliations(
    session: AsyncSession, *, status: str | None, after_id: int | None, limit: int
) -> list[Reconciliation]:
    query = select(Reconciliation)
    if status == "draft":
        query = query.where(Reconciliation.status == ReconciliationStatus.DRAFT)
    elif status == "finalised":
        query = query.where(
            Reconciliation.status == ReconciliationStatus.FINALISED, Reconciliation.settled_at.is_(None)
        )
    elif status == "settled":
        query = query.where(Reconciliation.settled_at.is_not(None))
    if after_id is not None:
        query = query.where(Reconciliation.id < after_id)
    return list(await session.scalars(query.order_by(Reconciliation.id.desc()).limit(limit)))


async def payments_of(session: AsyncSession, reconciliation_id: int) -> list[FeePayment]:
    return list(
        await session.scalars(
            select(FeePayment).where(FeePayment.reconciliation_id == reconciliation_id).order_by(FeePayment.id)
        )
    )


async def payments_by_reconciliation(session: AsyncSession, ids: list[int]) -> dict[int, list[FeePayment]]:
    found: dict[int, list[FeePayment]] = {i: [] for i in ids}
    for payment in await session.scalars(
        select(FeePayment).where(FeePayment.reconciliation_id.in_(ids)).order_by(FeePayment.id)
    ):
        found[payment.reconciliation_id].append(payment)
    return found


# --- exports ----------------------------------------------------------------------------


async def unsettled_lines_due_by(session: AsyncSession, day: date, agency_id: int | None) -> list:
    """Lines due by `day` and not yet paid: not in a reconciliation whose transfers are all
    paid (a finalised one still waiting for its payments leaves its lines in the debt)."""
    paid = (
        exists()
        .where(ReconciliationLine.line_id == FeeLine.id)
        .where(Reconciliation.id == ReconciliationLine.reconciliation_id, Reconciliation.settled_at.is_not(None))
    )
    query = lines_query().where(FeeLine.due_on <= day, ~paid)
    if agency_id is not None:
        query = query.where(or_(FeeLine.payer_agency_id == agency_id, FeeLine.payee_agency_id == agency_id))
    return list((await session.execute(query.order_by(FeeLine.id))).all())


# --- the whole register at once (the nightly job) ---------------------------------------


async def all_schedules(session: AsyncSession) -> list[FeeSchedule]:
    return list(await session.scalars(select(FeeSchedule).order_by(FeeSchedule.effective_from)))


async def agencies_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Agency]:
    return {a.id: a for a in await session.scalars(select(Agency).where(Agency.id.in_(ids)))}


async def group_sizes(session: AsyncSession, group_ids: set[int]) -> dict[int, int]:
    query = (
        select(Child.sibling_group_id, func.count())
        .where(Child.sibling_group_id.in_(group_ids))
        .group_by(Child.sibling_group_id)
    )
    return {group: int(size) for group, size in (await session.execute(query)).all()}


async def waived_placement_ids(session: AsyncSession, placement_ids: list[int]) -> set[int]:
    return set(await session.scalars(select(FeeWaiver.placement_id).where(FeeWaiver.placement_id.in_(placement_ids))))


async def raised_line_keys(session: AsyncSession, placement_ids: list[int]) -> set[tuple[int, str, int]]:
    query = select(FeeLine.placement_id, FeeLine.event, FeeLine.month).where(
        FeeLine.placement_id.in_(placement_ids), FeeLine.event != FeeEvent.CREDIT
    )
    return {(p, str(e), m) for p, e, m in (await session.execute(query)).all()}


async def insert_lines_once(session: AsyncSession, rows: list[dict], chunk: int = 2_000) -> list[FeeLine]:
    """Many lines in few statements, each exactly once (as `insert_line_once`). Returns the
    lines this call inserted (ref, placement and payer only)."""
    inserted: list[FeeLine] = []
    for start in range(0, len(rows), chunk):
        statement = (
            insert(FeeLine)
            .values(rows[start : start + chunk])
            .on_conflict_do_nothing(
                index_elements=["placement_id", "event", "month"], index_where=text("event <> 'credit'")
            )
            .returning(FeeLine.ref, FeeLine.placement_id, FeeLine.payer_agency_id)
        )
        inserted += [
            FeeLine(ref=ref, placement_id=placement, payer_agency_id=payer)
            for ref, placement, payer in (await session.execute(statement)).all()
        ]
    return inserted


# --- Inter-agency Fee Fund ---------------------------------------------------------------


async def iff_rule(session: AsyncSession, year: int) -> IffRule | None:
    return await session.get(IffRule, year)


async def children_of_groups(session: AsyncSession, group_ids: set[int]) -> list[Child]:
    return list(await session.scalars(select(Child).where(Child.sibling_group_id.in_(group_ids)).order_by(Child.id)))


async def cpih_rates(session: AsyncSession) -> list[CpihRate]:
    return list(await session.scalars(select(CpihRate).order_by(CpihRate.calendar_year)))
