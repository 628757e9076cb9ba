"""Multilateral netting of interagency fee invoices for one settlement period.

When a child is placed with a household approved by another agency, the child's agency
(payer) owes the household's agency (payee) an interagency fee. Paying invoice by invoice
moves one payment per payer->payee pair; netting the period instead moves at most n - 1
payments for n agencies whose net position is not zero, and never more cash.

Everything is integer pence. This module is pure: no database, no clock, no I/O; the same
lines in any order give the same settlement.

Traceability (the invariant the tests check)
--------------------------------------------
A netted payment from D to C does not pay any one invoice: it discharges D's net debit and
C's net credit. So every transfer carries two ledgers, one per side, and each agency
reconciles its own transfers against its own lines only:

* ``payer_allocations`` of a transfer D->C list lines to which D is a party;
  ``payee_allocations`` list lines to which C is a party. Each entry is
  ``(line_id, pence)`` where ``pence`` is a part of that line's ``amount_pence`` (same sign,
  never zero).
* Per line: for each party V of the line (its payer and its payee) whose net position is not
  zero, the line's parts on V's side of V's transfers sum to exactly the line's
  ``amount_pence``; a line appears at most once on any one side of any one transfer, never on
  a side belonging to an agency that is not its party, and never on the side of an agency
  whose net is zero (such an agency's lines are settled entirely by set-off, with no cash).
  So a line is traced at most twice: once in its payer's ledger, once in its payee's.
* Per transfer and side: with the side's agency V, sum(+pence for lines running the same way
  as the transfer from V's point of view, -pence for the others) equals ``amount_pence``.
  "Same way" means: on the payer side, lines V pays; on the payee side, lines V is paid.

A single ledger per transfer with each line counted once cannot reconcile: the lines total
the gross invoice-by-invoice cash while the transfers total the smaller netted cash, and a
line between two agencies that both net to zero has no transfer to belong to.

Credit notes are lines with a negative amount that name the line they credit. They reduce
the gross of their own direction (the payer owes less), and in the ledgers they appear like
any other line of their pair.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One fee invoice line: ``payer`` owes ``payee`` ``amount_pence``.

    A credit note has a negative amount and ``credits`` naming the line it reduces; a charge
    has a positive amount and no ``credits``.
    """

    id: str
    payer: str
    payee: str
    amount_pence: int
    credits: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "payer", "payee"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"invoice line {name} must be a non-empty string, got {value!r}")
        if self.payer == self.payee:
            raise ValueError(f"invoice line {self.id}: an agency cannot owe itself ({self.payer})")
        # bool is a subclass of int, and a float (even 1.0) hints at a pounds/pence mix-up.
        if not isinstance(self.amount_pence, int) or isinstance(self.amount_pence, bool):
            raise ValueError(
                f"invoice line {self.id}: amount_pence must be an int number of pence, "
                f"got {type(self.amount_pence).__name__}"
            )
        # A zero line settles nothing and could not be traced by a non-zero part.
        if self.amount_pence == 0:
            raise ValueError(f"invoice line {self.id}: amount_pence must not be zero")
        if self.amount_pence < 0 and self.credits is None:
            raise ValueError(
                f"invoice line {self.id}: a negative line is a credit note and must name the line it credits"
            )
        if self.credits is not None:
            if self.amount_pence > 0:
                raise ValueError(f"invoice line {self.id}: a credit note must have a negative amount")
            if self.credits == self.id:
                raise ValueError(f"invoice line {self.id}: a credit note cannot credit itself")


@dataclass(frozen=True, slots=True)
class Position:
    """An agency's gross and net position in pence; ``net_pence`` > 0 means it is owed money."""

    receivable_pence: int
    payable_pence: int
    net_pence: int


class Allocation(NamedTuple):
    """A part of one line's amount attributed to one side of one transfer.

    A NamedTuple rather than a dataclass so that it is the ``(line_id, pence)`` pair itself
    and unpacks as one.
    """

    line_id: str
    pence: int


@dataclass(frozen=True, slots=True)
class Transfer:
    """One netted payment, with the lines it settles on each side (see the module docstring)."""

    payer: str
    payee: str
    amount_pence: int
    line_ids: tuple[str, ...]
    payer_allocations: tuple[Allocation, ...]
    payee_allocations: tuple[Allocation, ...]

    def __post_init__(self) -> None:
        if self.amount_pence <= 0:
            raise ValueError(f"a transfer must move a positive amount, got {self.amount_pence}")
        if self.payer == self.payee:
            raise ValueError(f"a transfer cannot go from an agency to itself ({self.payer})")


@dataclass(frozen=True, slots=True)
class Totals:
    """Cash and payment counts invoice by invoice versus after netting.

    Invoice by invoice means each payer->payee pair pays the sum of its lines (after credit
    notes). A pair whose credit notes exceed its charges (credits for invoices paid in an
    earlier period) is refunded by the payee, and that refund is cash that moves too, so a
    pair counts with the absolute value of its total; pairs totalling zero move nothing.
    """

    invoice_by_invoice_pence: int
    invoice_by_invoice_transfers: int
    netted_pence: int
    netted_transfers: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """The result of netting one period.

    ``positions`` covers every agency party to a settled line (zero nets included), ordered
    by agency ref; ``settled`` and ``held`` are the lines netted and the lines excluded,
    each ordered by line id.
    """

    positions: Mapping[str, Position]
    transfers: tuple[Transfer, ...]
    settled: tuple[InvoiceLine, ...]
    held: tuple[InvoiceLine, ...]
    totals: Totals


def net_positions(lines: Iterable[InvoiceLine]) -> dict[str, Position]:
    """Gross receivable, gross payable and net per agency, ordered by agency ref.

    A credit note reduces the gross of its own direction: the payer's payable and the
    payee's receivable. Nets sum to zero over all agencies.
    """
    receivable: dict[str, int] = defaultdict(int)
    payable: dict[str, int] = defaultdict(int)
    for line in lines:
        receivable[line.payee] += line.amount_pence
        payable[line.payer] += line.amount_pence
        # Touch the other side so that an agency that only pays still has a receivable entry.
        receivable[line.payer] += 0
        payable[line.payee] += 0
    return {
        agency: Position(receivable[agency], payable[agency], receivable[agency] - payable[agency])
        for agency in sorted(receivable)
    }


def settle(lines: Iterable[InvoiceLine], held: frozenset[str] = frozenset()) -> Settlement:
    """Net the period's lines into at most n - 1 transfers, traced to the lines they settle.

    ``held`` names disputed lines to leave out; it may be a register-wide set, so ids that are
    not among ``lines`` are ignored. A credit note whose original line is held is held too:
    settling the credit without the charge would have the payer collect a refund for a fee it
    has not yet paid.

    Raises ValueError for duplicate line ids, or a credit note whose original is among
    ``lines`` but is for another pair, is itself a credit note, or is credited beyond its
    amount. A credit note whose original is not among ``lines`` credits an invoice from an
    earlier period and is accepted.
    """
    ordered = sorted(lines, key=lambda line: line.id)
    _validate(ordered)

    held_ids = {line.id for line in ordered if line.id in held}
    held_ids |= {line.id for line in ordered if line.credits is not None and line.credits in held_ids}
    settled = tuple(line for line in ordered if line.id not in held_ids)
    held_lines = tuple(line for line in ordered if line.id in held_ids)

    positions = net_positions(settled)
    payments = _greedy_payments(positions)
    transfers = _trace(payments, positions, settled)

    return Settlement(
        positions=positions,
        transfers=transfers,
        settled=settled,
        held=held_lines,
        totals=_totals(settled, transfers),
    )


def _validate(lines: list[InvoiceLine]) -> None:
    by_id: dict[str, InvoiceLine] = {}
    for line in lines:
        if line.id in by_id:
            raise ValueError(f"duplicate invoice line id {line.id}")
        by_id[line.id] = line
    credited: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.credits is None or line.credits not in by_id:
            continue
        original = by_id[line.credits]
        if original.credits is not None:
            raise ValueError(f"credit note {line.id} credits {original.id}, which is itself a credit note")
        if (original.payer, original.payee) != (line.payer, line.payee):
            raise ValueError(f"credit note {line.id} is not for the same payer and payee as {original.id}")
        credited[original.id] += -line.amount_pence
    for original_id, pence in credited.items():
        if pence > by_id[original_id].amount_pence:
            raise ValueError(f"line {original_id} is credited {pence} pence, more than its amount")


def _greedy_payments(positions: Mapping[str, Position]) -> list[tuple[str, str, int]]:
    """Largest debtor pays largest creditor until all are square.

    Every step brings at least one agency to zero and the last brings two, so n agencies with
    a non-zero net need at most n - 1 payments, and a pair is never paid twice. Ties go to the
    lower agency ref so that the result does not depend on input order.
    """
    debtors = [(p.net_pence, agency) for agency, p in positions.items() if p.net_pence < 0]
    creditors = [(-p.net_pence, agency) for agency, p in positions.items() if p.net_pence > 0]
    heapq.heapify(debtors)
    heapq.heapify(creditors)
    payments: list[tuple[str, str, int]] = []
    while debtors and creditors:
        negative_debt, debtor = heapq.heappop(debtors)
        negative_credit, creditor = heapq.heappop(creditors)
        amount = min(-negative_debt, -negative_credit)
        payments.append((debtor, creditor, amount))
        if -negative_debt > amount:
            heapq.heappush(debtors, (negative_debt + amount, debtor))
        if -negative_credit > amount:
            heapq.heappush(creditors, (negative_credit + amount, creditor))
    # Nets sum to zero, so both sides empty together; anything else is a bug, not bad input.
    assert not debtors and not creditors, "positions do not sum to zero"
    return payments


def _trace(
    payments: list[tuple[str, str, int]],
    positions: Mapping[str, Position],
    settled: tuple[InvoiceLine, ...],
) -> tuple[Transfer, ...]:
    lines_of: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in settled:
        lines_of[line.payer].append(line)
        lines_of[line.payee].append(line)
    # Each agency's transfers in payment order, as indexes into ``payments``.
    transfers_of: dict[str, list[int]] = defaultdict(list)
    for index, (payer, payee, _) in enumerate(payments):
        transfers_of[payer].append(index)
        transfers_of[payee].append(index)

    payer_side: list[list[Allocation]] = [[] for _ in payments]
    payee_side: list[list[Allocation]] = [[] for _ in payments]
    for agency, position in positions.items():
        if position.net_pence == 0:
            continue
        indexes = transfers_of[agency]
        side = payer_side if position.net_pence < 0 else payee_side
        for index, allocations in _split_ledger(
            agency, position.net_pence < 0, lines_of[agency], [payments[i][2] for i in indexes]
        ):
            side[indexes[index]].extend(allocations)

    transfers = []
    for index, (payer, payee, amount) in enumerate(payments):
        ids = {a.line_id for a in payer_side[index]} | {a.line_id for a in payee_side[index]}
        transfers.append(
            Transfer(
                payer=payer,
                payee=payee,
                amount_pence=amount,
                line_ids=tuple(sorted(ids)),
                payer_allocations=tuple(sorted(payer_side[index])),
                payee_allocations=tuple(sorted(payee_side[index])),
            )
        )
    return tuple(transfers)


def _split_ledger(
    agency: str, pays: bool, lines: list[InvoiceLine], amounts: list[int]
) -> list[tuple[int, list[Allocation]]]:
    """Cut one agency's lines into consecutive parts, one run per transfer it makes or gets.

    Each line contributes to the agency's net in the transfers' direction: +amount if it runs
    that way (the agency pays it and is a net payer, or is paid it and is a net receiver),
    -amount otherwise. The contributions sum to the transfers' total. Placing the negative
    ones first, all on the first transfer, and then cutting the positive ones in line-id order
    means every cut falls inside a positive contribution, so every part keeps its line's sign.
    """
    contributions: list[tuple[InvoiceLine, int]] = []
    for line in lines:
        runs_with_transfers = (line.payer == agency) == pays
        contributions.append((line, line.amount_pence if runs_with_transfers else -line.amount_pence))
    negatives = [(line, c) for line, c in contributions if c < 0]
    positives = [(line, c) for line, c in contributions if c > 0]

    runs: list[list[Allocation]] = [[] for _ in amounts]
    # The first transfer must also absorb the negatives, so it needs that much more positive.
    remaining = list(amounts)
    for line, _ in negatives:
        runs[0].append(Allocation(line.id, line.amount_pence))
    remaining[0] += sum(-c for _, c in negatives)

    current = 0
    for line, contribution in positives:
        sign = 1 if line.amount_pence == contribution else -1
        left = contribution
        while left > 0:
            take = min(left, remaining[current])
            if take == 0:
                raise AssertionError(f"ledger of {agency} does not reconcile with its transfers")
            runs[current].append(Allocation(line.id, sign * take))
            left -= take
            remaining[current] -= take
            if remaining[current] == 0 and current + 1 < len(amounts):
                current += 1
    assert all(r == 0 for r in remaining), f"ledger of {agency} does not reconcile with its transfers"
    return list(enumerate(runs))


def _totals(settled: tuple[InvoiceLine, ...], transfers: tuple[Transfer, ...]) -> Totals:
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    for line in settled:
        per_pair[(line.payer, line.payee)] += line.amount_pence
    moving = [abs(total) for total in per_pair.values() if total != 0]
    return Totals(
        invoice_by_invoice_pence=sum(moving),
        invoice_by_invoice_transfers=len(moving),
        netted_pence=sum(t.amount_pence for t in transfers),
        netted_transfers=len(transfers),
    )
