"""Invariants of multilateral fee netting, checked on generated invoice sets.

Each property recomputes what it checks from the input lines rather than trusting the
settlement's own figures, so a wrong implementation fails here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.register.fees.netting import (
    Allocation,
    InvoiceLine,
    Position,
    Settlement,
    Transfer,
    net_positions,
    settle,
)

pytestmark = pytest.mark.slow  # started first: see `slow` in pyproject.toml

# Few agencies and a few round amounts make ties, zero nets and cycles common.
AGENCIES = ("A", "B", "C", "D", "E", "F", "G")
AMOUNTS = st.sampled_from([100, 200, 300, 2_700_000, 3_924_500]) | st.integers(1, 5_000_000)

# Local settings rather than a loaded profile, so that other suites keep their own.
FEES = settings(max_examples=150, deadline=None)


@st.composite
def invoice_sets(draw: st.DrawFn, max_lines: int = 25) -> list[InvoiceLine]:
    """Charges, credit notes against them (never beyond the charge), and a few credit notes
    for invoices of an earlier period, which can leave a pair owing a negative total."""
    lines: list[InvoiceLine] = []
    for i in range(draw(st.integers(0, max_lines))):
        payer, payee = draw(st.lists(st.sampled_from(AGENCIES), min_size=2, max_size=2, unique=True))
        lines.append(InvoiceLine(f"L{i:03d}", payer, payee, draw(AMOUNTS)))
    credits: list[InvoiceLine] = []
    for line in lines:
        left = line.amount_pence
        for j in range(draw(st.integers(0, 2))):
            if left == 0:
                break
            pence = draw(st.integers(1, left))
            left -= pence
            credits.append(InvoiceLine(f"{line.id}-C{j}", line.payer, line.payee, -pence, credits=line.id))
    for k in range(draw(st.integers(0, 2))):
        payer, payee = draw(st.lists(st.sampled_from(AGENCIES), min_size=2, max_size=2, unique=True))
        credits.append(InvoiceLine(f"P{k:03d}", payer, payee, -draw(AMOUNTS), credits=f"EARLIER-{k}"))
    return lines + credits


@st.composite
def invoices_with_held(draw: st.DrawFn) -> tuple[list[InvoiceLine], frozenset[str]]:
    lines = draw(invoice_sets())
    ids = [line.id for line in lines]
    held = draw(st.sets(st.sampled_from(ids))) if ids else set()
    # Ids from other periods in the held set must be harmless.
    held |= draw(st.sets(st.sampled_from(["X1", "X2"])))
    return lines, frozenset(held)


def expected_held_ids(lines: list[InvoiceLine], held: frozenset[str]) -> set[str]:
    ids = {line.id for line in lines if line.id in held}
    return ids | {line.id for line in lines if line.credits in ids}


def assert_traceable(s: Settlement) -> None:
    """The invariant documented in netting.py, checked from first principles."""
    nets = {agency: p.net_pence for agency, p in s.positions.items()}
    by_id = {line.id: line for line in s.settled}
    parts: dict[tuple[str, str], int] = defaultdict(int)
    for t in s.transfers:
        sides: tuple[tuple[str, tuple[Allocation, ...], Callable[[InvoiceLine], bool]], ...] = (
            (t.payer, t.payer_allocations, lambda line, t=t: line.payer == t.payer),
            (t.payee, t.payee_allocations, lambda line, t=t: line.payee == t.payee),
        )
        for agency, allocations, same_way in sides:
            ids = [a.line_id for a in allocations]
            assert len(ids) == len(set(ids)), "a line is counted twice on one side of a transfer"
            reconciled = 0
            for allocation in allocations:
                line = by_id[allocation.line_id]  # a held or unknown line fails here
                assert agency in (line.payer, line.payee)
                assert nets[agency] != 0
                assert allocation.pence != 0
                assert (allocation.pence > 0) == (line.amount_pence > 0)
                reconciled += allocation.pence if same_way(line) else -allocation.pence
                parts[(line.id, agency)] += allocation.pence
            assert reconciled == t.amount_pence
        both = {a.line_id for a in t.payer_allocations} | {a.line_id for a in t.payee_allocations}
        assert t.line_ids == tuple(sorted(both))
    expected: dict[tuple[str, str], int] = {}
    for line in s.settled:
        for agency in (line.payer, line.payee):
            if nets[agency] != 0:
                expected[(line.id, agency)] = line.amount_pence
    assert dict(parts) == expected


# --- positions --------------------------------------------------------------------------


@FEES
@given(invoice_sets())
def test_positions_sum_to_zero_and_match_the_lines(lines: list[InvoiceLine]) -> None:
    positions = net_positions(lines)
    assert sum(p.net_pence for p in positions.values()) == 0
    assert sum(p.receivable_pence for p in positions.values()) == sum(p.payable_pence for p in positions.values())
    assert set(positions) == {line.payer for line in lines} | {line.payee for line in lines}
    assert list(positions) == sorted(positions)
    for agency, p in positions.items():
        assert p.receivable_pence == sum(line.amount_pence for line in lines if line.payee == agency)
        assert p.payable_pence == sum(line.amount_pence for line in lines if line.payer == agency)
        assert p.net_pence == p.receivable_pence - p.payable_pence


# --- transfers --------------------------------------------------------------------------


@FEES
@given(invoices_with_held())
def test_applying_the_transfers_squares_every_agency(case: tuple[list[InvoiceLine], frozenset[str]]) -> None:
    lines, held = case
    s = settle(lines, held)
    balance = {agency: p.net_pence for agency, p in s.positions.items()}
    for t in s.transfers:
        assert t.amount_pence > 0
        assert isinstance(t.amount_pence, int)
        balance[t.payer] += t.amount_pence
        balance[t.payee] -= t.amount_pence
    assert all(pence == 0 for pence in balance.values())


@FEES
@given(invoices_with_held())
def test_at_most_n_minus_one_transfers(case: tuple[list[InvoiceLine], frozenset[str]]) -> None:
    lines, held = case
    s = settle(lines, held)
    nonzero = sum(1 for p in s.positions.values() if p.net_pence != 0)
    assert len(s.transfers) <= max(nonzero - 1, 0)
    pairs = [(t.payer, t.payee) for t in s.transfers]
    assert len(pairs) == len(set(pairs))
    # Only net payers pay and only net receivers are paid: nobody is routed through.
    assert all(s.positions[t.payer].net_pence < 0 < s.positions[t.payee].net_pence for t in s.transfers)


@FEES
@given(invoices_with_held())
def test_netted_cash_never_exceeds_invoice_by_invoice_cash(case: tuple[list[InvoiceLine], frozenset[str]]) -> None:
    lines, held = case
    s = settle(lines, held)
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        if line.id not in expected_held_ids(lines, held):
            per_pair[(line.payer, line.payee)] += line.amount_pence
    moving = [abs(total) for total in per_pair.values() if total != 0]
    assert s.totals.invoice_by_invoice_pence == sum(moving)
    assert s.totals.invoice_by_invoice_transfers == len(moving)
    assert s.totals.netted_pence == sum(t.amount_pence for t in s.transfers)
    assert s.totals.netted_transfers == len(s.transfers)
    # Netting moves exactly what the net receivers are owed, which is the least possible.
    assert s.totals.netted_pence == sum(p.net_pence for p in s.positions.values() if p.net_pence > 0)
    assert s.totals.netted_pence <= s.totals.invoice_by_invoice_pence


# --- traceability -----------------------------------------------------------------------


@FEES
@given(invoices_with_held())
def test_every_line_is_traced_as_documented(case: tuple[list[InvoiceLine], frozenset[str]]) -> None:
    lines, held = case
    assert_traceable(settle(lines, held))


def test_traceability_of_a_chain_through_an_agency_that_nets_to_zero() -> None:
    # B is owed and owes 100: its lines are set off and appear only in A's and C's ledgers.
    s = settle([InvoiceLine("1", "A", "B", 100), InvoiceLine("2", "B", "C", 100)])
    assert s.transfers == (
        Transfer(
            payer="A",
            payee="C",
            amount_pence=100,
            line_ids=("1", "2"),
            payer_allocations=(Allocation("1", 100),),
            payee_allocations=(Allocation("2", 100),),
        ),
    )
    assert_traceable(s)


def test_a_line_is_split_across_the_transfers_of_its_party() -> None:
    # A owes 300 in one line and must pay two creditors: the line is cut 200 + 100.
    s = settle([InvoiceLine("1", "A", "B", 300), InvoiceLine("2", "B", "C", 100)])
    assert [(t.payer, t.payee, t.amount_pence) for t in s.transfers] == [("A", "B", 200), ("A", "C", 100)]
    assert [t.payer_allocations for t in s.transfers] == [(Allocation("1", 200),), (Allocation("1", 100),)]
    assert_traceable(s)


# --- held lines -------------------------------------------------------------------------


@FEES
@given(invoices_with_held())
def test_held_lines_never_reach_positions_or_transfers(case: tuple[list[InvoiceLine], frozenset[str]]) -> None:
    lines, held = case
    s = settle(lines, held)
    held_ids = expected_held_ids(lines, held)
    assert [line.id for line in s.held] == sorted(held_ids)
    assert sorted(s.settled + s.held, key=lambda line: line.id) == sorted(lines, key=lambda line: line.id)
    assert s.positions == net_positions([line for line in lines if line.id not in held_ids])
    traced = {line_id for t in s.transfers for line_id in t.line_ids}
    assert traced.isdisjoint(held_ids)


def test_a_credit_note_is_held_with_its_original() -> None:
    lines = [
        InvoiceLine("1", "A", "B", 100),
        InvoiceLine("2", "A", "B", 50),
        InvoiceLine("2c", "A", "B", -20, credits="2"),
    ]
    s = settle(lines, held=frozenset({"2"}))
    assert [line.id for line in s.held] == ["2", "2c"]
    assert [(t.payer, t.payee, t.amount_pence) for t in s.transfers] == [("A", "B", 100)]


# --- determinism ------------------------------------------------------------------------


@FEES
@given(st.data())
def test_same_lines_in_any_order_settle_the_same(data: st.DataObject) -> None:
    lines, held = data.draw(invoices_with_held())
    shuffled = data.draw(st.permutations(lines))
    first, second = settle(lines, held), settle(shuffled, held)
    assert first == second
    assert list(first.positions) == list(second.positions)


def test_ties_go_to_the_lower_agency_ref() -> None:
    lines = [InvoiceLine("1", "B", "C", 50), InvoiceLine("2", "A", "C", 50), InvoiceLine("3", "D", "E", 50)]
    s = settle(lines)
    assert [(t.payer, t.payee) for t in s.transfers] == [("A", "C"), ("B", "C"), ("D", "E")]


# --- credit notes -----------------------------------------------------------------------


@FEES
@given(invoice_sets())
def test_a_credit_note_is_the_same_as_a_smaller_charge(lines: list[InvoiceLine]) -> None:
    in_batch = {line.id for line in lines}
    merged: dict[str, int] = {line.id: line.amount_pence for line in lines if line.credits is None}
    others: list[InvoiceLine] = []
    for line in lines:
        if line.credits in in_batch:
            merged[line.credits] += line.amount_pence
        elif line.credits is not None:
            others.append(line)
    originals = {line.id: line for line in lines}
    reduced = [
        InvoiceLine(line_id, originals[line_id].payer, originals[line_id].payee, pence)
        for line_id, pence in merged.items()
        if pence != 0
    ] + others
    a, b = settle(lines), settle(reduced)
    for agency in set(a.positions) | set(b.positions):
        assert a.positions.get(agency, Position(0, 0, 0)) == b.positions.get(agency, Position(0, 0, 0))
    assert [(t.payer, t.payee, t.amount_pence) for t in a.transfers] == [
        (t.payer, t.payee, t.amount_pence) for t in b.transfers
    ]
    assert a.totals.invoice_by_invoice_pence == b.totals.invoice_by_invoice_pence


def test_a_fully_credited_invoice_moves_no_cash() -> None:
    s = settle([InvoiceLine("1", "A", "B", 2_700_000), InvoiceLine("1c", "A", "B", -2_700_000, credits="1")])
    assert s.transfers == ()
    assert s.positions["A"] == Position(receivable_pence=0, payable_pence=0, net_pence=0)
    assert s.totals.invoice_by_invoice_pence == 0
    assert s.totals.invoice_by_invoice_transfers == 0


def test_a_credit_for_an_earlier_period_is_a_refund() -> None:
    s = settle([InvoiceLine("9c", "A", "B", -100, credits="OLD-9")])
    assert s.positions["A"].net_pence == 100
    assert [(t.payer, t.payee, t.amount_pence) for t in s.transfers] == [("B", "A", 100)]
    assert (s.totals.invoice_by_invoice_pence, s.totals.invoice_by_invoice_transfers) == (100, 1)
    assert_traceable(s)


# --- plain examples ---------------------------------------------------------------------


def test_two_agencies_owing_each_other_make_one_payment() -> None:
    s = settle([InvoiceLine("1", "A", "B", 100), InvoiceLine("2", "B", "A", 30)])
    assert [(t.payer, t.payee, t.amount_pence) for t in s.transfers] == [("A", "B", 70)]
    assert s.positions == {"A": Position(30, 100, -70), "B": Position(100, 30, 70)}
    assert (s.totals.invoice_by_invoice_pence, s.totals.invoice_by_invoice_transfers) == (130, 2)
    assert (s.totals.netted_pence, s.totals.netted_transfers) == (70, 1)


def test_a_cycle_of_equal_fees_moves_no_cash() -> None:
    fee = 2_700_000
    s = settle([InvoiceLine("1", "A", "B", fee), InvoiceLine("2", "B", "C", fee), InvoiceLine("3", "C", "A", fee)])
    assert s.transfers == ()
    assert all(p.net_pence == 0 for p in s.positions.values())
    assert (s.totals.invoice_by_invoice_pence, s.totals.netted_pence) == (3 * fee, 0)


def test_nothing_to_settle() -> None:
    s = settle([])
    assert (s.positions, s.transfers, s.settled, s.held) == ({}, (), (), ())


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [100.0, 1.5, True, "100", None])
def test_amounts_must_be_int_pence(amount: object) -> None:
    with pytest.raises(ValueError):
        InvoiceLine("1", "A", "B", amount)  # type: ignore[arg-type]


def test_an_agency_cannot_owe_itself() -> None:
    with pytest.raises(ValueError):
        InvoiceLine("1", "A", "A", 100)


@pytest.mark.parametrize(
    "make",
    [
        lambda: InvoiceLine("1", "A", "B", 0),
        lambda: InvoiceLine("1", "A", "B", -100),
        lambda: InvoiceLine("1", "A", "B", 100, credits="0"),
        lambda: InvoiceLine("1", "A", "B", -100, credits="1"),
        lambda: InvoiceLine("", "A", "B", 100),
    ],
    ids=["zero", "negative-without-original", "charge-naming-original", "credits-itself", "no-id"],
)
def test_malformed_lines_are_rejected(make: Callable[[], InvoiceLine]) -> None:
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "lines",
    [
        [InvoiceLine("1", "A", "B", 100), InvoiceLine("1", "A", "C", 100)],
        [InvoiceLine("1", "A", "B", 100), InvoiceLine("1c", "A", "C", -10, credits="1")],
        [
            InvoiceLine("1", "A", "B", 100),
            InvoiceLine("1c", "A", "B", -60, credits="1"),
            InvoiceLine("1d", "A", "B", -60, credits="1"),
        ],
        [
            InvoiceLine("1", "A", "B", 100),
            InvoiceLine("1c", "A", "B", -10, credits="1"),
            InvoiceLine("1d", "A", "B", -10, credits="1c"),
        ],
    ],
    ids=["duplicate-id", "credit-for-another-pair", "over-credited", "credit-of-a-credit"],
)
def test_inconsistent_batches_are_rejected(lines: list[InvoiceLine]) -> None:
    with pytest.raises(ValueError):
        settle(lines)
