"""Business rules of interagency fees.

- A fee is owed only across agencies: the payer is the child's accountable agency, the
  payee the household's (see `placements.repository.accountable_agency`).
- The schedule in force on the placement day fixes the terms of all that placement's fees.
- Lines are raised exactly once per event (database-unique) and never changed: a
  correction is a credit note; a dispute holds a line out of settlement until resolved.
- A reconciliation nets every unsettled, undisputed line due by the end of its period
  (`netting.settle`); finalising it settles those lines for good.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from services.core.audit import AuditAction
from services.core.auth import Principal
from services.core.context import RequestContext
from services.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from services.core.http import Page, Paging, encode_cursor
from services.core.refs import new_ref
from services.register.access import principal_agency_id
from services.register.agencies import repository as agencies
from services.register.audit.resources import AuditResource
from services.register.children import repository as children
from services.register.events import service as events
from services.register.events.vocabulary import EventKind
from services.register.fees import repository
from services.register.fees.calculation import (
    ChildAtPlacement,
    DueFee,
    IffTerms,
    ScheduleTerms,
    due_fees,
    fee_kind,
    financial_year,
    harder_to_place,
    iff_claim,
    quarter_of,
)
from services.register.fees.metrics import FEE_LINES_RAISED
from services.register.fees.models import (
    FeeDispute,
    FeeLine,
    FeePayment,
    FeeSchedule,
    FeeWaiver,
    Reconciliation,
    ReconciliationLine,
)
from services.register.fees.netting import InvoiceLine, Settlement, settle
from services.register.fees.schemas import (
    AgedDebt,
    CoverageLine,
    CoveragePlacement,
    CoverageReport,
    CreditCreate,
    DisputeCreate,
    DisputeRead,
    DisputeResolve,
    IffClaim,
    IffClaimLine,
    IffClaims,
    LineRead,
    MissingFee,
    PaymentCreate,
    PaymentRead,
    PlacementFees,
    PositionRead,
    ReconciliationRead,
    ReconciliationSummary,
    ScheduleRead,
    ScheduleWrite,
    Totals,
    TransferRead,
)
from services.register.models import Agency, Placement, need_column_name
from services.register.vocabulary import (
    DISABILITY_NEEDS,
    DISABILITY_THRESHOLD,
    FeeEvent,
    FeeKind,
    ReconciliationStatus,
    Region,
)

AMOUNT_FIELDS = (
    "one_child_pence",
    "two_children_pence",
    "three_children_pence",
    "four_or_more_children_pence",
    "monthly_pence",
)


@dataclass(frozen=True)
class LineFilters:
    agency_ref: str | None = None
    counterparty_ref: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    status: str | None = None
    placement_ref: str | None = None


async def list_lines(ctx: RequestContext, filters: LineFilters, paging: Paging) -> list:
    """Lines an officer's agency pays or is paid; a national officer sees all, or one agency's."""
    for name, ref in (("agency_ref", filters.agency_ref), ("counterparty_ref", filters.counterparty_ref)):
        if ref and await agencies.id_of(ctx.session, ref) is None:
            raise InvalidInput(
                f"{ref} is not a known agency.",
                extra={
                    "errors": [{"field": f"query.{name}", "message": "unknown agency", "code": "unknown_reference"}]
                },
            )
    agency_id = await principal_agency_id(ctx)
    if agency_id is None and filters.agency_ref:
        agency_id = await agencies.id_of(ctx.session, filters.agency_ref)
    after = paging.after(int)
    async with ctx.connection() as connection:
        return await repository.list_lines(
            connection,
            agency_id=agency_id,
            counterparty_ref=filters.counterparty_ref,
            due_from=filters.due_from,
            due_to=filters.due_to,
            status=filters.status,
            placement_ref=filters.placement_ref,
            after_id=after[0] if after else None,
            limit=paging.fetch,
        )


async def placement_fees(ctx: RequestContext, ref: str, today: date) -> PlacementFees:
    placement = await repository.get_placement(ctx.session, ref)
    agency_id = await principal_agency_id(ctx)
    if agency_id is not None and agency_id not in (placement.child_agency_id, placement.household_agency_id):
        raise Forbidden("Your agency is not a party to this placement's fees.")
    outcome = await fees_due(ctx.session, placement, as_of=today)  # reads only
    rows = await repository.list_lines(
        ctx.session,
        agency_id=None,
        counterparty_ref=None,
        due_from=None,
        due_to=None,
        status=None,
        placement_ref=ref,
        after_id=None,
        limit=None,
    )
    return PlacementFees(
        placement_ref=ref,
        cross_agency=outcome.cross_agency,
        lines=[listed_line_read(r) for r in rows],
        not_raised=outcome.missing,
    )


# --- schedules ------------------------------------------------------------------------


def terms_of(schedule: FeeSchedule) -> ScheduleTerms:
    return ScheduleTerms(
        by_group_size=(
            schedule.one_child_pence,
            schedule.two_children_pence,
            schedule.three_children_pence,
            schedule.four_or_more_children_pence,
        ),
        placement_share=(schedule.placement_share_num, schedule.placement_share_den),
        monthly_pence=schedule.monthly_pence,
        charges_monthly=schedule.charges_monthly,
        london_weighting_percent=schedule.london_weighting_percent,
    )


async def schedule_read(ctx: RequestContext, schedule: FeeSchedule) -> ScheduleRead:
    return ScheduleRead(
        ref=schedule.ref,
        financial_year=schedule.financial_year,
        kind=schedule.kind,
        effective_from=schedule.effective_from,
        placement_share_num=schedule.placement_share_num,
        placement_share_den=schedule.placement_share_den,
        charges_monthly=schedule.charges_monthly,
        london_weighting_percent=schedule.london_weighting_percent,
        defaulted=list(schedule.defaulted),
        source=schedule.source,
        version=schedule.version,
        not_set=[f for f in AMOUNT_FIELDS if getattr(schedule, f) is None],
        has_invoices=await repository.schedule_has_lines(ctx.session, schedule.id),
        **{f: getattr(schedule, f) for f in AMOUNT_FIELDS},
    )


async def put_schedule(ctx: RequestContext, year: int, body: ScheduleWrite) -> tuple[ScheduleRead, bool]:
    """Create or change the schedule effective from a date. One with invoices against it is
    never changed: it can only be superseded from a later date. Returns (schedule, created)."""
    effective_from = body.effective_from or date(year, 4, 1)
    if financial_year(effective_from) != year:
        raise InvalidInput(
            f"effective_from must fall in financial year {year} (1 April {year} to 31 March {year + 1})."
        )
    if body.placement_share_num > body.placement_share_den:
        raise InvalidInput("placement_share_num cannot exceed placement_share_den.")
    values = body.model_dump(exclude={"kind", "effective_from"})
    if values["charges_monthly"] is None:  # the monthly fee compensates voluntary agencies
        values["charges_monthly"] = body.kind is FeeKind.LA_TO_VAA
    values["defaulted"] = []  # an operator's figures are the published ones
    current = await repository.schedule_for(ctx.session, body.kind, year, effective_from)
    if current is not None and current.effective_from == effective_from:
        if await repository.schedule_has_lines(ctx.session, current.id):
            raise Conflict(
                "Invoices were raised against this schedule: it cannot change. Supersede it with a "
                "later effective_from; placements from that day use the new amounts."
            )
        for name, value in values.items():
            setattr(current, name, value)
        await ctx.session.flush()
        ctx.audit(AuditAction.UPDATE, AuditResource.FEE_SCHEDULE, current.ref)
        return await schedule_read(ctx, current), False
    schedule = FeeSchedule(
        ref=new_ref("FS"), financial_year=year, kind=body.kind, effective_from=effective_from, **values
    )
    ctx.session.add(schedule)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.FEE_SCHEDULE, schedule.ref)
    return await schedule_read(ctx, schedule), True


# --- raising lines ----------------------------------------------------------------------


@dataclass
class FeeOutcome:
    cross_agency: bool
    raised: int = 0
    missing: list[MissingFee] = field(default_factory=list)


@dataclass
class DueFees:
    """What one placement owes by a day: the fees with an amount, and those without one."""

    cross_agency: bool
    schedule: FeeSchedule | None = None
    due: list[DueFee] = field(default_factory=list)
    missing: list[MissingFee] = field(default_factory=list)
    waived: str = ""


async def fees_due(session, placement: Placement, *, as_of: date) -> DueFees:
    """Reads only: which fees of this placement are due by `as_of`, under the schedule in
    force on the placement day."""
    if placement.child_agency_id == placement.household_agency_id:
        return DueFees(cross_agency=False)
    waiver = await repository.waiver_of(session, placement.id)
    if waiver is not None:
        return DueFees(
            cross_agency=True, waived=f"waived by decision {waiver.ref} of {waiver.decided_on}: {waiver.decision}"
        )
    payee = await session.get(Agency, placement.household_agency_id)
    kind = fee_kind(payee.kind)
    year = financial_year(placement.placed_on)
    schedule = await repository.schedule_for(session, kind, year, placement.placed_on)
    if schedule is None:
        return DueFees(
            cross_agency=True,
            missing=[
                MissingFee(
                    event=FeeEvent.PLACEMENT,
                    month=0,
                    due_on=placement.placed_on,
                    reason=f"no {kind.value} fee schedule is set for {year}/{(year + 1) % 100:02d}",
                )
            ],
        )
    result = DueFees(cross_agency=True, schedule=schedule)
    size = await children.group_size(session, placement.sibling_group_id)
    for due in due_fees(
        terms_of(schedule),
        group_size=size,
        placed_on=placement.placed_on,
        adoption_order_on=placement.adoption_order_on,
        ended_on=placement.ended_on,
        as_of=as_of,
        in_london=payee.region is Region.LONDON,
    ):
        if due.amount_pence is None:
            result.missing.append(MissingFee(event=due.event, month=due.month, due_on=due.due_on, reason=due.missing))
        else:
            result.due.append(due)
    return result


async def raise_due_fees(session, placement: Placement, *, as_of: date, raised_by: str) -> FeeOutcome:
    """Raise every fee of one placement that is due by `as_of` and not yet raised; the paying
    agency is told of each line (an `invoice_raised` event)."""
    found = await fees_due(session, placement, as_of=as_of)
    outcome = FeeOutcome(cross_agency=found.cross_agency, missing=found.missing)
    schedule = found.schedule
    if schedule is None:  # same agency, waived, or no schedule (reported in `missing`)
        return outcome
    for due in found.due:
        row = _line_row(placement, schedule, due, raised_by)
        inserted = await repository.insert_line_once(session, row)
        outcome.raised += int(inserted)
        FEE_LINES_RAISED.inc(int(inserted))
        if inserted:
            await events.emit(session, **_invoice_event(row["ref"], placement.ref, placement.child_agency_id))
    return outcome


def _line_row(placement: Placement, schedule: FeeSchedule, due: DueFee, raised_by: str) -> dict[str, Any]:
    """A new fee line: the placement's paying agency owes the household's agency."""
    return {
        "ref": new_ref("IL"),
        "placement_id": placement.id,
        "schedule_id": schedule.id,
        "event": due.event,
        "month": due.month,
        "payer_agency_id": placement.child_agency_id,
        "payee_agency_id": placement.household_agency_id,
        "amount_pence": due.amount_pence,
        "due_on": due.due_on,
        "raised_by": raised_by,
    }


def _invoice_event(line_ref: str, placement_ref: str, payer_agency_id: int) -> dict[str, Any]:
    return {
        "agency_id": payer_agency_id,
        "kind": EventKind.INVOICE_RAISED,
        "subject_type": "fee_line",
        "subject_ref": line_ref,
        "data": {"placement_ref": placement_ref},
    }


EARLIEST_AS_OF = date(2000, 4, 1)  # the schedules' first possible year
# A reconciliation may cover a period still running (lines are never due after today), but
# not one more than a year away: such a date is a typing error.
PERIOD_END_AHEAD_DAYS = 366


def check_as_of(as_of: date, today: date) -> None:
    """Fees fall due only on days that have come: a later `as_of` would raise lines for
    months that have not begun (and 9999-12-31 would overflow counting them)."""
    if not EARLIEST_AS_OF <= as_of <= today:
        raise InvalidInput(
            f"as_of must be between {EARLIEST_AS_OF} and today ({today}).",
            extra={"errors": [{"field": "body.as_of", "message": "out of range", "code": "date_out_of_range"}]},
        )


async def raise_all_due(
    session, *, as_of: date, today: date, raised_by: str, announce: bool = True
) -> tuple[int, int, int]:
    """The nightly job: every cross-agency placement's fees due by `as_of` (today at the
    latest). Returns (placements checked, lines raised, fees due but not set in their schedule).

    The same rules as `raise_due_fees`, for the whole register in a few statements: the
    schedules, payees, group sizes, waivers and lines already raised are read in bulk, and
    the new lines inserted in batches (each still exactly once: the unique index decides)."""
    check_as_of(as_of, today)
    placements = await repository.cross_agency_placements(session, as_of)
    if not placements:
        return 0, 0, 0
    ids = [p.id for p in placements]
    schedules: dict[tuple[FeeKind, int], list[FeeSchedule]] = {}
    for schedule in await repository.all_schedules(session):  # by effective_from
        schedules.setdefault((schedule.kind, schedule.financial_year), []).append(schedule)
    payees = await repository.agencies_by_id(session, {p.household_agency_id for p in placements})
    sizes = await repository.group_sizes(session, {p.sibling_group_id for p in placements})
    waived = await repository.waived_placement_ids(session, ids)
    raised = await repository.raised_line_keys(session, ids)
    rows: list[dict] = []
    missing = 0
    for placement in placements:
        if placement.id in waived:
            continue
        payee = payees[placement.household_agency_id]
        kind, year = fee_kind(payee.kind), financial_year(placement.placed_on)
        in_force = [s for s in schedules.get((kind, year), []) if s.effective_from <= placement.placed_on]
        if not in_force:
            missing += 1
            continue
        schedule = in_force[-1]
        for due in due_fees(
            terms_of(schedule),
            group_size=sizes.get(placement.sibling_group_id, 0),
            placed_on=placement.placed_on,
            adoption_order_on=placement.adoption_order_on,
            ended_on=placement.ended_on,
            as_of=as_of,
            in_london=payee.region is Region.LONDON,
        ):
            if due.amount_pence is None:
                missing += 1
            elif (placement.id, due.event.value, due.month) not in raised:
                rows.append(_line_row(placement, schedule, due, raised_by))
    inserted = await repository.insert_lines_once(session, rows)
    FEE_LINES_RAISED.inc(len(inserted))
    if announce:  # each paying agency is told of its new lines (not for a register's history)
        refs = {p.id: p.ref for p in placements}
        await events.emit_many(
            session,
            [
                events.NewEvent(**_invoice_event(line.ref, refs[line.placement_id], line.payer_agency_id))
                for line in inserted
            ],
        )
    return len(placements), len(inserted), missing


async def raise_all_due_one_by_one(session, *, as_of: date, today: date, raised_by: str) -> tuple[int, int, int]:
    """The nightly job as it was: placement by placement, a few queries each. Kept as the
    benchmark's baseline and as the reference the batched job is tested against."""
    check_as_of(as_of, today)
    raised = missing = 0
    placements = await repository.cross_agency_placements(session, as_of)
    for placement in placements:
        outcome = await raise_due_fees(session, placement, as_of=as_of, raised_by=raised_by)
        raised, missing = raised + outcome.raised, missing + len(outcome.missing)
    return len(placements), raised, missing


def line_item(row) -> dict[str, Any]:
    """LineRead's fields as plain values from a list row (`repository.list_lines`: flat), for
    the invoice list to send as JSON at once."""
    (
        _,
        ref,
        event,
        month,
        amount_pence,
        due_on,
        reason,
        raised_at,
        payer_ref,
        payee_ref,
        placement_ref,
        disputed,
        settled_by,
        credits_ref,
    ) = row
    return {
        "ref": ref,
        "placement_ref": placement_ref,
        "event": event,
        "month": month,
        "payer_ref": payer_ref,
        "payee_ref": payee_ref,
        "amount_pence": amount_pence,
        "due_on": due_on,
        "credits_ref": credits_ref,
        "reason": reason,
        "status": "settled" if settled_by else "disputed" if disputed else "open",
        "settled_by": settled_by,
        "raised_at": raised_at,
    }


def listed_line_read(row) -> LineRead:
    """LineRead of a list row (`repository.list_lines`)."""
    return LineRead(**line_item(row))


def line_read(row) -> LineRead:
    line, payer_ref, payee_ref, placement_ref, disputed, settled_by, credits_ref = row
    status = "settled" if settled_by else "disputed" if disputed else "open"
    return LineRead(
        ref=line.ref,
        placement_ref=placement_ref,
        event=line.event,
        month=line.month,
        payer_ref=payer_ref,
        payee_ref=payee_ref,
        amount_pence=line.amount_pence,
        due_on=line.due_on,
        credits_ref=credits_ref,
        reason=line.reason,
        status=status,
        settled_by=settled_by,
        raised_at=line.raised_at,
    )


def _ensure_party(principal: Principal, row, side: str) -> None:
    """Agency-bound officers act only on lines their agency is `side` of."""
    party_ref = row[1] if side == "payer" else row[2]
    if principal.agency_ref is not None and principal.agency_ref != party_ref:
        raise Forbidden(f"Only the {side} ({party_ref}) may do this.")


async def credit_line(ctx: RequestContext, ref: str, body: CreditCreate) -> LineRead:
    row = await repository.get_line(ctx.session, ref, for_update=True)
    _ensure_party(ctx.principal, row, "payee")
    return await _raise_credit(ctx, row, body.amount_pence, body.reason)


async def _raise_credit(ctx: RequestContext, row, amount: int, reason: str) -> LineRead:
    line: FeeLine = row[0]
    if line.event is FeeEvent.CREDIT:
        raise Conflict("A credit note cannot itself be credited.")
    remaining = line.amount_pence + await repository.credited_so_far(ctx.session, line.id)
    if amount > remaining:
        raise InvalidInput(
            f"Only {remaining} pence of this line remain to credit.", extra={"remaining_pence": remaining}
        )
    credit = FeeLine(
        ref=new_ref("IL"),
        placement_id=line.placement_id,
        schedule_id=line.schedule_id,
        event=FeeEvent.CREDIT,
        month=0,
        payer_agency_id=line.payer_agency_id,
        payee_agency_id=line.payee_agency_id,
        amount_pence=-amount,
        due_on=datetime.now(UTC).date(),
        credits_line_id=line.id,
        reason=reason,
        raised_by=ctx.principal.audit_name,
    )
    ctx.session.add(credit)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.FEE_LINE, credit.ref)
    return line_read(await repository.get_line(ctx.session, credit.ref))


async def dispute_line(ctx: RequestContext, ref: str, body: DisputeCreate) -> DisputeRead:
    row = await repository.get_line(ctx.session, ref, for_update=True)
    _ensure_party(ctx.principal, row, "payer")
    if row[5]:
        raise Conflict(f"The line was settled by {row[5]}; correct it with a credit note instead.")
    if await repository.open_dispute_of(ctx.session, row[0].id):
        raise Conflict("The line is already disputed.")
    dispute = FeeDispute(ref=new_ref("FD"), line_id=row[0].id, reason=body.reason, raised_by=ctx.principal.audit_name)
    ctx.session.add(dispute)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.FEE_DISPUTE, dispute.ref)
    return DisputeRead(
        ref=dispute.ref,
        line_ref=ref,
        reason=dispute.reason,
        raised_at=dispute.raised_at,
        resolved_at=None,
        resolution="",
    )


async def resolve_dispute(ctx: RequestContext, ref: str, body: DisputeResolve) -> DisputeRead:
    dispute = await repository.get_dispute(ctx.session, ref)
    if dispute.resolved_at is not None:
        raise Conflict("The dispute is already resolved.")
    row = await repository.get_line_by_id(ctx.session, dispute.line_id, for_update=True)
    line: FeeLine = row[0]
    _ensure_party(ctx.principal, row, "payee")
    if body.credit_pence:
        await _raise_credit(ctx, row, body.credit_pence, f"Resolution of dispute {dispute.ref}: {body.resolution}")
    dispute.resolved_at = datetime.now(UTC)
    dispute.resolution = body.resolution
    dispute.resolved_by = ctx.principal.audit_name
    await ctx.session.flush()
    ctx.audit(AuditAction.TRANSITION, AuditResource.FEE_DISPUTE, dispute.ref)
    return DisputeRead(
        ref=dispute.ref,
        line_ref=line.ref,
        reason=dispute.reason,
        raised_at=dispute.raised_at,
        resolved_at=dispute.resolved_at,
        resolution=dispute.resolution,
    )


# --- reconciliation ---------------------------------------------------------------------


def request_hash(period_start: date, period_end: date) -> str:
    return hashlib.sha256(json.dumps([period_start.isoformat(), period_end.isoformat()]).encode()).hexdigest()


def settlement_json(settlement: Settlement) -> dict:
    totals = settlement.totals
    return {
        "totals": {
            "gross_invoice_by_invoice_pence": totals.invoice_by_invoice_pence,
            "transfers_invoice_by_invoice": totals.invoice_by_invoice_transfers,
            "netted_pence": totals.netted_pence,
            "transfers_netted": totals.netted_transfers,
        },
        "positions": [
            {
                "agency_ref": agency,
                "receivable_pence": p.receivable_pence,
                "payable_pence": p.payable_pence,
                "net_pence": p.net_pence,
            }
            for agency, p in settlement.positions.items()
        ],
        "transfers": [
            {
                "payer_ref": t.payer,
                "payee_ref": t.payee,
                "amount_pence": t.amount_pence,
                "line_refs": list(t.line_ids),
                "payer_allocations": [[a.line_id, a.pence] for a in t.payer_allocations],
                "payee_allocations": [[a.line_id, a.pence] for a in t.payee_allocations],
            }
            for t in settlement.transfers
        ],
        "settled_line_refs": [line.id for line in settlement.settled],
        "held_line_refs": [line.id for line in settlement.held],
    }


async def _settlement_of(ctx: RequestContext, period_end: date) -> Settlement:
    rows = await repository.lines_to_settle(ctx.session, period_end)
    lines = [
        InvoiceLine(id=line.ref, payer=payer, payee=payee, amount_pence=line.amount_pence, credits=credits_ref)
        for line, payer, payee, _, _, _, credits_ref in rows
    ]
    held = frozenset(line.ref for line, _, _, _, disputed, _, _ in rows if disputed)
    return settle(lines, held)


async def create_reconciliation(
    ctx: RequestContext, start: date, end: date, key: str, *, today: date
) -> Reconciliation:
    """A draft for the period. Every retry with the same Idempotency-Key, one after another
    or at the same moment, gets the first request's reconciliation; the key with another
    body is refused."""
    if not 8 <= len(key) <= 200:
        raise InvalidInput("The Idempotency-Key header must be 8 to 200 characters.")
    if start > end:
        raise InvalidInput("period_start must not be after period_end.")
    latest = today + timedelta(days=PERIOD_END_AHEAD_DAYS)
    if start < EARLIEST_AS_OF or end > latest:
        raise InvalidInput(f"The period must fall between {EARLIEST_AS_OF} and {latest}.")
    fingerprint = request_hash(start, end)
    # A concurrent request with this key waits here until the first commits, then finds it.
    await repository.lock_idempotency_key(ctx.session, key)
    existing = await repository.reconciliation_by_key(ctx.session, key)
    if existing is not None:
        if existing.request_hash != fingerprint:
            raise InvalidInput(
                "This Idempotency-Key was used with a different request body.",
                extra={"reconciliation_ref": existing.ref},
            )
        return existing
    overlap = await repository.overlapping_finalised(ctx.session, start, end)
    if overlap is not None:
        raise Conflict(
            f"The period overlaps {overlap.ref} ({overlap.period_start} to {overlap.period_end}), "
            "which is finalised; late lines fall into the next period."
        )
    reconciliation = Reconciliation(
        ref=new_ref("RC"),
        period_start=start,
        period_end=end,
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=ctx.principal.audit_name,
        result=settlement_json(await _settlement_of(ctx, end)),
    )
    ctx.session.add(reconciliation)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.RECONCILIATION, reconciliation.ref)
    return reconciliation


async def finalise(ctx: RequestContext, ref: str, expected_version: int) -> Reconciliation:
    reconciliation = await repository.get_reconciliation(ctx.session, ref, for_update=True)
    if reconciliation.version != expected_version:
        raise PreconditionFailed(f"The reconciliation is now at version {reconciliation.version}.")
    if reconciliation.status is ReconciliationStatus.FINALISED:
        raise Conflict("The reconciliation is already finalised; it cannot change.")
    overlap = await repository.overlapping_finalised(
        ctx.session, reconciliation.period_start, reconciliation.period_end
    )
    if overlap is not None:
        raise Conflict(f"{overlap.ref} was finalised for an overlapping period meanwhile.")
    now = settlement_json(await _settlement_of(ctx, reconciliation.period_end))
    draft = reconciliation.result
    if set(now["held_line_refs"]) & set(draft["settled_line_refs"]) or not set(draft["settled_line_refs"]) <= set(
        now["settled_line_refs"]
    ):
        raise Conflict("Lines of this draft were disputed or settled since it was made; make a new draft.")
    ids = await repository.line_ids_by_ref(ctx.session, draft["settled_line_refs"])
    ctx.session.add_all(
        [ReconciliationLine(line_id=ids[r], reconciliation_id=reconciliation.id) for r in draft["settled_line_refs"]]
    )
    reconciliation.status = ReconciliationStatus.FINALISED
    reconciliation.finalised_at = datetime.now(UTC)
    await ctx.session.flush()  # a concurrent finalisation of these lines or period fails here
    ctx.audit(AuditAction.TRANSITION, AuditResource.RECONCILIATION, reconciliation.ref)
    return reconciliation


def status_of(reconciliation: Reconciliation) -> Literal["draft", "finalised", "settled"]:
    if reconciliation.settled_at is not None:
        return "settled"
    return "finalised" if reconciliation.status is ReconciliationStatus.FINALISED else "draft"


def reconciliation_read(reconciliation: Reconciliation, principal: Principal) -> ReconciliationRead:
    result = reconciliation.result
    positions = result["positions"]
    transfers = [{"index": i, **t} for i, t in enumerate(result["transfers"])]
    settled, held = result["settled_line_refs"], result["held_line_refs"]
    if principal.agency_ref is not None:
        # An agency's officer sees the totals, its own position and its own transfers.
        mine = principal.agency_ref
        positions = [p for p in positions if p["agency_ref"] == mine]
        transfers = [t for t in transfers if mine in (t["payer_ref"], t["payee_ref"])]
        own_lines = {ref for t in transfers for ref in t["line_refs"]}
        settled, held = [r for r in settled if r in own_lines], []
    return ReconciliationRead(
        ref=reconciliation.ref,
        period_start=reconciliation.period_start,
        period_end=reconciliation.period_end,
        status=status_of(reconciliation),
        settled_at=reconciliation.settled_at,
        created_at=reconciliation.created_at,
        finalised_at=reconciliation.finalised_at,
        version=reconciliation.version,
        totals=Totals(**result["totals"]),
        positions=[PositionRead(**p) for p in positions],
        transfers=[TransferRead(**t) for t in transfers],
        settled_line_refs=settled,
        held_line_refs=held,
    )


def reconciliation_csv(read: ReconciliationRead) -> str:
    """One sheet: each agency's position, then each transfer, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "section",
            "agency",
            "counterparty",
            "receivable_pence",
            "payable_pence",
            "net_pence",
            "amount_pence",
            "invoice_lines",
        ]
    )
    for p in read.positions:
        writer.writerow(["position", p.agency_ref, "", p.receivable_pence, p.payable_pence, p.net_pence, "", ""])
    for t in read.transfers:
        writer.writerow(["transfer", t.payer_ref, t.payee_ref, "", "", "", t.amount_pence, " ".join(t.line_refs)])
    for name, value in read.totals.model_dump().items():
        writer.writerow(["total", name, "", "", "", "", value, ""])
    return out.getvalue()


# --- coverage: every cross-agency placement has lines or a reason ----------------------


async def waive(ctx: RequestContext, placement_ref: str, decision: str, decided_on: date, today: date) -> str:
    """Record a decision that no further fee is due for a placement: nothing more is raised
    for it; lines already raised are corrected with credit notes, as any line is."""
    placement = await repository.get_placement(ctx.session, placement_ref)
    if placement.child_agency_id == placement.household_agency_id:
        raise Conflict("No fee is due within one agency: there is nothing to waive.")
    if not placement.placed_on <= decided_on <= today:
        raise InvalidInput(f"decided_on must fall between the placement ({placement.placed_on}) and today ({today}).")
    if await repository.waiver_of(ctx.session, placement.id) is not None:
        raise Conflict("The placement's fee is already waived.")
    waiver = FeeWaiver(
        ref=new_ref("FW"),
        placement_id=placement.id,
        decision=decision,
        decided_on=decided_on,
        decided_by=ctx.principal.audit_name,
    )
    ctx.session.add(waiver)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.FEE_LINE, waiver.ref)
    return waiver.ref


def reason_kind(reason: str) -> str:
    """The category a coverage reason is counted under."""
    if reason.startswith("same agency"):
        return "same_agency"
    if reason.startswith("waived"):
        return "waived"
    return "due_but_not_set"


async def coverage_of(session, year: int, today: date) -> CoverageReport:
    """Every placement made in a financial year: its lines, or why it has none. A placement
    with neither would be a fee silently not raised: `unaccounted` counts them (always 0).
    The whole year, unpaged (the route pages `items`)."""
    start, end = date(year, 4, 1), min(date(year + 1, 3, 31), today)
    rows = await repository.placements_of_year(session, start, end, None, None)
    by_placement: dict[int, list] = {}
    for row in await repository.lines_of_placements(session, [p.id for p, _, _ in rows]):
        by_placement.setdefault(row[0].placement_id, []).append(row[0])
    items: list[CoveragePlacement] = []
    reasons: dict[str, int] = {}
    cross = with_lines = unaccounted = line_count = amount = 0
    for placement, payer_ref, payee_ref in rows:
        lines = by_placement.get(placement.id, [])
        reason = ""
        if placement.child_agency_id == placement.household_agency_id:
            reason = "same agency: no interagency fee"
        else:
            cross += 1
            if lines:
                with_lines += 1
            else:
                found = await fees_due(session, placement, as_of=today)
                reason = found.waived or "; ".join(m.reason for m in found.missing)
                if not reason:
                    unaccounted += 1
        if reason:
            kind = reason_kind(reason)
            reasons[kind] = reasons.get(kind, 0) + 1
        line_count += len(lines)
        amount += sum(line.amount_pence for line in lines)
        items.append(
            CoveragePlacement(
                placement_ref=placement.ref,
                placed_on=placement.placed_on,
                payer_ref=payer_ref,
                payee_ref=payee_ref,
                reason=reason,
                lines=[
                    CoverageLine(
                        ref=line.ref,
                        event=line.event,
                        month=line.month,
                        amount_pence=line.amount_pence,
                        due_on=line.due_on,
                    )
                    for line in lines
                ],
            )
        )
    return CoverageReport(
        financial_year=year,
        placements=len(rows),
        cross_agency=cross,
        with_lines=with_lines,
        with_reason=reasons,
        unaccounted=unaccounted,
        lines=line_count,
        amount_pence=amount,
        items=items,
        next_cursor=None,
    )


async def coverage(ctx: RequestContext, year: int, today: date, paging: Paging) -> CoverageReport:
    """One page of the year's coverage; the counts are the whole year's. The cursor is the
    position in the year's placements (in placement order)."""
    report = await coverage_of(ctx.session, year, today)
    after = paging.after(int)
    first = after[0] if after else 0
    more = first + paging.limit < len(report.items)
    return report.model_copy(
        update={
            "items": report.items[first : first + paging.limit],
            "next_cursor": encode_cursor([first + paging.limit]) if more else None,
        }
    )


# --- settlement: payments of netted transfers ------------------------------------------


def _paid_by_transfer(payments: list[FeePayment]) -> dict[int, int]:
    paid: dict[int, int] = {}
    for payment in payments:
        paid[payment.transfer_index] = paid.get(payment.transfer_index, 0) + payment.amount_pence
    return paid


async def record_payment(ctx: RequestContext, ref: str, transfer: int, body: PaymentCreate, today: date) -> PaymentRead:
    """The paying agency records a payment (or part) of one transfer of a finalised
    reconciliation; more than is outstanding is refused. The reconciliation row is locked,
    so two concurrent payments cannot together overpay."""
    reconciliation = await repository.get_reconciliation(ctx.session, ref, for_update=True)
    if reconciliation.status is not ReconciliationStatus.FINALISED:
        raise Conflict("Only a finalised reconciliation's transfers can be paid.")
    transfers = reconciliation.result["transfers"]
    if not 0 <= transfer < len(transfers):
        raise NotFound(f"{ref} has no transfer {transfer} (it has {len(transfers)}).")
    payer, payee, owed = (
        transfers[transfer]["payer_ref"],
        transfers[transfer]["payee_ref"],
        transfers[transfer]["amount_pence"],
    )
    if ctx.principal.agency_ref != payer:
        raise Forbidden(f"Only the paying agency ({payer}) records payments of this transfer.")
    if not reconciliation.period_start <= body.paid_on <= today:
        raise InvalidInput(f"paid_on must fall between {reconciliation.period_start} and today ({today}).")
    payments = await repository.payments_of(ctx.session, reconciliation.id)
    paid = _paid_by_transfer(payments).get(transfer, 0)
    if body.amount_pence > owed - paid:
        raise InvalidInput(
            f"Only {owed - paid} pence of this transfer remain to pay.",
            extra={"outstanding_pence": owed - paid},
        )
    payment = FeePayment(
        ref=new_ref("PY"),
        reconciliation_id=reconciliation.id,
        transfer_index=transfer,
        paid_on=body.paid_on,
        amount_pence=body.amount_pence,
        payment_reference=body.payment_reference,
        recorded_by=ctx.principal.audit_name,
    )
    ctx.session.add(payment)
    paid_now = _paid_by_transfer([*payments, payment])
    if all(paid_now.get(i, 0) == t["amount_pence"] for i, t in enumerate(transfers)):
        reconciliation.settled_at = datetime.now(UTC)
    await ctx.session.flush()
    ctx.audit(AuditAction.CREATE, AuditResource.RECONCILIATION, payment.ref)
    return PaymentRead(
        ref=payment.ref,
        reconciliation_ref=reconciliation.ref,
        transfer=transfer,
        payer_ref=payer,
        payee_ref=payee,
        paid_on=payment.paid_on,
        amount_pence=payment.amount_pence,
        payment_reference=payment.payment_reference,
        transfer_amount_pence=owed,
        transfer_paid_pence=paid + body.amount_pence,
        transfer_outstanding_pence=owed - paid - body.amount_pence,
        reconciliation_status=status_of(reconciliation),
    )


async def list_reconciliations(ctx: RequestContext, status: str | None, paging: Paging) -> Page[ReconciliationSummary]:
    after = paging.after(int)
    rows = await repository.list_reconciliations(
        ctx.session, status=status, after_id=after[0] if after else None, limit=paging.fetch
    )
    payments = await repository.payments_by_reconciliation(ctx.session, [r.id for r in rows])

    def summary(r: Reconciliation) -> ReconciliationSummary:
        paid = _paid_by_transfer(payments[r.id])
        transfers = r.result["transfers"]
        return ReconciliationSummary(
            ref=r.ref,
            period_start=r.period_start,
            period_end=r.period_end,
            status=status_of(r),
            created_at=r.created_at,
            finalised_at=r.finalised_at,
            settled_at=r.settled_at,
            transfers=len(transfers),
            transfers_paid=sum(paid.get(i, 0) == t["amount_pence"] for i, t in enumerate(transfers)),
            netted_pence=r.result["totals"]["netted_pence"],
            paid_pence=sum(paid.values()),
        )

    return paging.page(rows, key=lambda r: [r.id], item=summary)


# --- exports: invoice lines for a finance system, aged debt -----------------------------

INVOICE_CSV_COLUMNS = [
    "invoice_number",
    "invoice_date",
    "due_date",
    "payer_agency",
    "payee_agency",
    "placement_ref",
    "event",
    "month",
    "credits_invoice",
    "net_amount_pence",
    "net_amount_gbp",
    "vat_status",
    "status",
]
# Interagency fees are paid between public bodies and charities for a statutory service:
# no VAT is charged on them (outside the scope of VAT), which the finance system must know.
VAT_STATUS = "outside the scope"


def invoices_csv(rows: list) -> str:
    """One row per line, the columns a council's finance system imports. The child's case
    reference is never in it: the placement reference stands for it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INVOICE_CSV_COLUMNS)
    for row in rows:
        line = listed_line_read(row)
        writer.writerow(
            [
                line.ref,
                line.raised_at.date().isoformat(),
                line.due_on.isoformat(),
                line.payer_ref,
                line.payee_ref,
                line.placement_ref,
                line.event.value,
                line.month or "",
                line.credits_ref or "",
                line.amount_pence,
                f"{line.amount_pence // 100}.{line.amount_pence % 100:02d}"
                if line.amount_pence >= 0
                else f"-{-line.amount_pence // 100}.{-line.amount_pence % 100:02d}",
                VAT_STATUS,
                line.status,
            ]
        )
    return out.getvalue()


AGE_BANDS = ((30, "days_0_30_pence"), (60, "days_31_60_pence"), (90, "days_61_90_pence"))


async def aged_debt(ctx: RequestContext, today: date) -> list[AgedDebt]:
    """What each agency owes and has not paid, by days since due: a payer's lines until the
    reconciliation that nets them is settled (every transfer paid); credit notes reduce them."""
    agency_id = await principal_agency_id(ctx)
    bands: dict[str, dict[str, int]] = {}
    for row in await repository.unsettled_lines_due_by(ctx.session, today, agency_id):
        line, payer_ref = row[0], row[1]
        age = (today - line.due_on).days
        band = next((name for limit, name in AGE_BANDS if age <= limit), "days_over_90_pence")
        agency = bands.setdefault(payer_ref, dict.fromkeys([n for _, n in AGE_BANDS] + ["days_over_90_pence"], 0))
        agency[band] += line.amount_pence
    if ctx.principal.agency_ref is not None:
        bands = {ref: v for ref, v in bands.items() if ref == ctx.principal.agency_ref}
    return [AgedDebt(agency_ref=ref, total_pence=sum(v.values()), **v) for ref, v in sorted(bands.items())]


async def year_totals(session, today: date) -> str:
    """One line for the demo: this financial year's fees and their coverage."""
    year = financial_year(today)
    r = await coverage_of(session, year, today)
    return (
        f"Interagency fees {year}/{(year + 1) % 100:02d} so far: {r.cross_agency:,} cross-agency placements, "
        f"{r.lines:,} invoice lines, £{r.amount_pence // 100:,}; {r.unaccounted:,} without a line or a reason "
        f"(GET /v1/fees/coverage?year={year})."
    )


# --- Inter-agency Fee Fund claims -------------------------------------------------------

IFF_FEE_EVENTS = (FeeEvent.PLACEMENT, FeeEvent.COMPLETION)


def _child_at_placement(child) -> ChildAtPlacement:
    return ChildAtPlacement(
        date_of_birth=child.date_of_birth,
        entered_care_on=child.entered_care_on,
        disabled=any(getattr(child, need_column_name(need)) >= int(DISABILITY_THRESHOLD) for need in DISABILITY_NEEDS),
        minority_ethnic=child.ethnicity.is_minority,
    )


async def iff_claims(ctx: RequestContext, year: int, quarter: int | None, today: date) -> IffClaims:
    """Claims to the DfE's Inter-agency Fee Fund for the year's cross-agency placements of
    harder-to-place children, per quarter and paying agency. Eligibility is computed from
    the register for the placement day (ages and waits at that day; disability and
    ethnicity as recorded). An agency's officer sees only its own claims."""
    rule = await repository.iff_rule(ctx.session, year)
    if rule is None:
        raise NotFound(f"No Inter-agency Fee Fund rules are set for {year}/{(year + 1) % 100:02d}.")
    terms = IffTerms(
        min_age_years=rule.min_age_years,
        min_wait_months=rule.min_wait_months,
        counts_disabled=rule.counts_disabled,
        counts_sibling_group=rule.counts_sibling_group,
        counts_minority_ethnic=rule.counts_minority_ethnic,
        share=(rule.share_num, rule.share_den),
        cap_per_child_pence=rule.cap_per_child_pence,
    )
    start, end = date(year, 4, 1), min(date(year + 1, 3, 31), today)
    rows = [
        r
        for r in await repository.placements_of_year(ctx.session, start, end, None, None)
        if r[0].child_agency_id != r[0].household_agency_id
        and (quarter is None or quarter_of(r[0].placed_on) == quarter)
    ]
    if ctx.principal.agency_ref is not None:
        rows = [r for r in rows if r[1] == ctx.principal.agency_ref]
    children: dict[int, list[ChildAtPlacement]] = {}
    for child in await repository.children_of_groups(ctx.session, {r[0].sibling_group_id for r in rows}):
        children.setdefault(child.sibling_group_id, []).append(_child_at_placement(child))
    fees: dict[int, int] = {}
    charges: dict[int, FeeEvent] = {}
    for row in await repository.lines_of_placements(ctx.session, [r[0].id for r in rows]):
        line = row[0]
        charges[line.id] = line.event
        event = charges.get(line.credits_line_id, line.event) if line.credits_line_id else line.event
        if event in IFF_FEE_EVENTS:
            fees[line.placement_id] = fees.get(line.placement_id, 0) + line.amount_pence
    claims: dict[tuple[int, str], IffClaim] = {}
    for placement, payer_ref, payee_ref in rows:
        group = children.get(placement.sibling_group_id, [])
        met = harder_to_place(terms, group, placement.placed_on)
        fee = fees.get(placement.id, 0)
        if not met or fee <= 0:
            continue
        q = quarter_of(placement.placed_on)
        claim = claims.setdefault(
            (q, payer_ref),
            IffClaim(financial_year=year, quarter=q, payer_ref=payer_ref, placements=0, claim_pence=0, lines=[]),
        )
        amount = iff_claim(terms, fee, len(group))
        claim.lines.append(
            IffClaimLine(
                placement_ref=placement.ref,
                placed_on=placement.placed_on,
                payer_ref=payer_ref,
                payee_ref=payee_ref,
                children=len(group),
                criteria=met,
                fee_pence=fee,
                claim_pence=amount,
            )
        )
        claim.placements += 1
        claim.claim_pence += amount
    return IffClaims(
        financial_year=year,
        rules_source=rule.source,
        rules_defaulted=rule.defaulted,
        claims=[claims[k] for k in sorted(claims)],
    )


def iff_claims_csv(report: IffClaims) -> str:
    """One row per placement claimed, for submission to the DfE."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "financial_year",
            "quarter",
            "paying_agency",
            "placement_ref",
            "placed_on",
            "payee_agency",
            "children",
            "criteria",
            "fee_pence",
            "claim_pence",
        ]
    )
    for claim in report.claims:
        for line in claim.lines:
            writer.writerow(
                [
                    f"{report.financial_year}/{(report.financial_year + 1) % 100:02d}",
                    f"Q{claim.quarter}",
                    claim.payer_ref,
                    line.placement_ref,
                    line.placed_on.isoformat(),
                    line.payee_ref,
                    line.children,
                    "; ".join(line.criteria),
                    line.fee_pence,
                    line.claim_pence,
                ]
            )
    return out.getvalue()
