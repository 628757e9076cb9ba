"""Loads the synthetic national register into an empty database, in one transaction.

Bulk inserts (one statement per table, not per row); the history triggers still record
every row. Past placements raise their interagency fees through the same service code as a
live placement.
"""

import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.refs import new_ref
from services.register.family_profiles.models import FamilyProfile
from services.register.fees.service import raise_all_due
from services.register.links.models import Link, LinkStep
from services.register.models import Agency, Child, Household, Placement, SiblingGroup, need_column_name
from services.register.seed import repository
from services.register.seed.calibration import calibration_report, format_report
from services.register.seed.family_profiles import family_profile_rows
from services.register.seed.generate import AgencyRow, SyntheticRegister, generate_register
from services.register.seed.support import load_support
from services.register.vocabulary import AgencyKind, LinkOrigin, LinkStatus

SEEDED_BY = "seed:synthetic"
LINK_STEP_DAYS = (
    (LinkStatus.REQUESTED, "requested_on"),
    (LinkStatus.AGREED, "agreed_on"),
    (LinkStatus.PANEL, "panel_on"),
    (LinkStatus.DECIDED, "decided_on"),
    (LinkStatus.PLACED, "placed_on"),
    (LinkStatus.ADOPTED, "adoption_order_on"),
)


class RegisterNotEmpty(Exception):
    pass


def _need_columns(levels: dict[str, int]) -> dict[str, int]:
    return {need_column_name(need): int(level) for need, level in levels.items()}


def _parent_of(la: AgencyRow) -> str:
    if la.parent_raa_ref is None:
        raise ValueError(f"the generator made local authority {la.ref} without an RAA")
    return la.parent_raa_ref


async def _agencies(session: AsyncSession, register: SyntheticRegister) -> dict[str, int]:
    top = [a for a in register.agencies if a.kind is not AgencyKind.LA]
    ids = await repository.insert_returning_ids(
        session,
        Agency,
        [
            {
                "ref": a.ref,
                "name": a.name,
                "kind": a.kind,
                "region": a.region,
                "latitude": a.latitude,
                "longitude": a.longitude,
                "synthetic": True,
            }
            for a in top
        ],
    )
    by_ref = dict(zip([a.ref for a in top], ids, strict=True))
    las = [a for a in register.agencies if a.kind is AgencyKind.LA]
    la_ids = await repository.insert_returning_ids(
        session,
        Agency,
        [
            {
                "ref": a.ref,
                "name": a.name,
                "kind": a.kind,
                "region": a.region,
                "parent_raa_id": by_ref[_parent_of(a)],
                "latitude": a.latitude,
                "longitude": a.longitude,
                "synthetic": True,
            }
            for a in las
        ],
    )
    by_ref.update(zip([a.ref for a in las], la_ids, strict=True))
    return by_ref


async def _groups(session: AsyncSession, groups: list[dict[str, Any]], agency_ids: dict[str, int]) -> list[int]:
    group_ids = await repository.insert_returning_ids(
        session,
        SiblingGroup,
        [
            {
                "ref": new_ref("G"),
                "profile_ref": new_ref("PR"),
                "la_id": agency_ids[g["la_ref"]],
                "status": g["status"],
                "matched_on": g.get("matched_on"),
            }
            for g in groups
        ],
    )
    children = []
    for group_id, group in zip(group_ids, groups, strict=True):
        for child in group["children"]:
            row = {k: v for k, v in child.items() if k != "needs"}
            children.append({**row, **_need_columns(child["needs"]), "ref": new_ref("C"), "sibling_group_id": group_id})
    await repository.insert_rows(session, Child, children)
    return group_ids


async def _households(session: AsyncSession, households: list[dict[str, Any]], agency_ids: dict[str, int]) -> list[int]:
    rows = []
    for h in households:
        row = {k: v for k, v in h.items() if k not in ("can_meet", "approving_agency_ref")}
        rows.append(
            {
                **row,
                **_need_columns(h["can_meet"]),
                "ref": new_ref("H"),
                "approving_agency_id": agency_ids[h["approving_agency_ref"]],
            }
        )
    return await repository.insert_returning_ids(session, Household, rows)


def _link_days(history: dict[str, Any]) -> dict[str, date | None]:
    """A past link's steps, on days consistent with the generated dates: requested up to five
    weeks before the match decision (not before the placement order), agreed and the panel
    in between, decided on the group's match day, placed, and the order where made."""
    decided: date = history["group"]["matched_on"]
    earliest = min(
        child["placement_order_on"] or child["should_be_placed_on"] for child in history["group"]["children"]
    )
    requested = min(decided, max(earliest, decided - timedelta(days=35)))
    span = (decided - requested).days
    return {
        "requested_on": requested,
        "agreed_on": requested + timedelta(days=span // 3),
        "panel_on": requested + timedelta(days=2 * span // 3),
        "decided_on": decided,
        "placed_on": history["placed_on"],
        "adoption_order_on": history["adoption_order_on"],
    }


async def _link_history(
    session: AsyncSession,
    history: list[dict[str, Any]],
    group_ids: list[int],
    household_ids: list[int],
    placement_ids: list[int],
) -> int:
    """Every past placement came through a link: the link and its steps, as if recorded."""
    placements = {p.id: p for p in await repository.placements_by_ids(session, placement_ids)}
    rows, days = [], []
    for group_id, household_id, placement_id, h in zip(group_ids, household_ids, placement_ids, history, strict=True):
        placement = placements[placement_id]
        on = _link_days(h)
        days.append(on)
        rows.append(
            {
                "ref": new_ref("L"),
                "sibling_group_id": group_id,
                "household_id": household_id,
                "child_agency_id": placement.child_agency_id,
                "household_agency_id": placement.household_agency_id,
                "status": LinkStatus.ADOPTED if on["adoption_order_on"] else LinkStatus.PLACED,
                "origin": LinkOrigin.FAMILY_FINDER,
                "origin_reason": "synthetic history",
                "placement_id": placement_id,
                **on,
            }
        )
    link_ids = await repository.insert_returning_ids(session, Link, rows)
    steps = [
        {"link_id": link_id, "step": step, "occurred_on": on[field], "recorded_by": SEEDED_BY}
        for link_id, on in zip(link_ids, days, strict=True)
        for step, field in LINK_STEP_DAYS
        if on[field] is not None
    ]
    await repository.insert_rows(session, LinkStep, steps)
    return len(link_ids)


async def load_register(session: AsyncSession, register: SyntheticRegister, *, support_seed: int = 0) -> dict[str, int]:
    if not await repository.is_empty(session):
        raise RegisterNotEmpty("the register already has agencies: the synthetic set loads only into an empty one")
    agency_ids = await _agencies(session, register)
    await _groups(session, register.groups, agency_ids)
    household_ids = await _households(session, register.households, agency_ids)
    profiles = family_profile_rows(household_ids, support_seed, register.today)
    await repository.insert_rows(session, FamilyProfile, profiles)
    history = register.history
    placed_groups = await _groups(session, [h["group"] for h in history], agency_ids)
    placed_households = await _households(session, [h["household"] for h in history], agency_ids)
    raa_of = {a.ref: _parent_of(a) for a in register.agencies if a.kind is AgencyKind.LA}
    placement_ids = await repository.insert_returning_ids(
        session,
        Placement,
        [
            {
                "ref": new_ref("P"),
                "sibling_group_id": group_id,
                "household_id": household_id,
                "child_agency_id": agency_ids[raa_of[h["group"]["la_ref"]]],
                "household_agency_id": agency_ids[h["household"]["approving_agency_ref"]],
                "placed_on": h["placed_on"],
                "adoption_order_on": h["adoption_order_on"],
            }
            for group_id, household_id, h in zip(placed_groups, placed_households, history, strict=True)
        ],
    )
    links = await _link_history(session, history, placed_groups, placed_households, placement_ids)
    # The nightly job, batched, on the empty register's new placements (one by one: ~70 s).
    _, lines, _ = await raise_all_due(
        session, as_of=register.today, today=register.today, raised_by=SEEDED_BY, announce=False
    )
    support, register.support_note = await load_support(session, register.today, support_seed)
    return {
        "agencies": len(agency_ids),
        "waiting units": len(register.groups),
        "waiting children": sum(len(g["children"]) for g in register.groups),
        "households": len(register.households),
        "approved family profiles": len(profiles),
        "past placements": len(placement_ids),
        "past links": links,
        "fee lines": lines,
        **support,
    }


async def load_synthetic_register(session: AsyncSession, *, seed: int, today: date) -> str:
    """Generate, load and describe the synthetic register (the CLI's `seed --synthetic`)."""
    started = time.perf_counter()
    register = generate_register(seed, today)
    counts = await load_register(session, register, support_seed=seed)
    summary = ", ".join(f"{value:,} {name}" for name, value in counts.items())
    return (
        f"SYNTHETIC national register (seed {seed}) loaded in {time.perf_counter() - started:.1f} s: "
        f"{summary}\n\nCalibration against published figures:\n"
        f"{format_report(calibration_report(register))}\n{register.support_note}"
    )
