"""The floors of `benchmarks/api_floor.py`: for each measured endpoint, the same SQL and the
same JSON shape through bare FastAPI + asyncpg, with no auth, ORM, audit context, paging
helper or middleware. What the project adds on top of these is its own cost.

The full child record writes its audit row in a transaction, as the project must (the SQL of
an audited read is a SELECT and an INSERT); the candidates keep the pool's arrays in memory
and score one unit against it, as the project does. Run by `api_floor.py` (FLOOR_DSN).
"""

import base64
import json
import os
import uuid
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI
from fastapi.responses import Response

NEEDS = (
    "physical_disability",
    "learning_disability",
    "developmental_uncertainty",
    "health_condition",
    "emotional_behavioural",
    "foetal_alcohol_exposure",
    "birth_family_history",
    "contact",
)
LEVELS = ("none", "low", "medium", "high")
CONTACT = ("none", "letterbox", "direct_siblings", "direct_birth_family")
NEED_COLUMNS = ", ".join(f"c.need_{n}" for n in NEEDS)
AGE_BANDS = ((0, "0-1"), (2, "2-4"), (5, "5-7"), (8, "8-10"), (11, "11-17"))
WAIT_BANDS = ((0, "under 6 months"), (183, "6-12 months"), (365, "12-18 months"), (548, "18 months or more"))

CHILD_FROM = """
FROM children c
JOIN sibling_groups g ON c.sibling_group_id = g.id
JOIN agencies la ON g.la_id = la.id
JOIN agencies raa ON la.parent_raa_id = raa.id
LEFT JOIN placements p ON p.sibling_group_id = g.id AND p.ended_on IS NULL"""
SUMMARY_COLUMNS = f"""c.id, c.ref, g.ref AS group_ref, g.status, la.ref AS la_ref, raa.ref AS raa_ref,
 (SELECT count(*) FROM children s WHERE s.sibling_group_id = c.sibling_group_id) AS group_size,
 p.placed_on, c.region, c.date_of_birth, c.sex, c.ethnicity, {NEED_COLUMNS}, c.waiting_since,
 c.profile_visible_to_adopters"""
CHILDREN_SQL = f"""SELECT {SUMMARY_COLUMNS} {CHILD_FROM}
WHERE g.status IN ('waiting') ORDER BY c.waiting_since, c.id LIMIT $1"""
CHILD_SQL = f"""SELECT {SUMMARY_COLUMNS}, c.first_name, c.surname, c.religion, c.languages, c.latitude,
 c.longitude, c.entered_care_on, c.placement_order_on, c.should_be_placed_on, c.contact_plan, c.contact_notes,
 c.birth_family_latitude, c.birth_family_longitude, c.excluded_regions, c.min_distance_km, c.profile_text,
 c.version {CHILD_FROM} WHERE c.ref = $1"""
AUDIT_SQL = """INSERT INTO audit_events (principal, action, resource_type, resource_ref, request_id, route)
VALUES ($1, 'read', 'child', $2, $3, 'GET /v1/children/{ref}')"""
PROFILES_SQL = """SELECT g.id, g.profile_ref FROM sibling_groups g
WHERE g.status = 'waiting'
 AND EXISTS (SELECT 1 FROM children c WHERE c.sibling_group_id = g.id)
 AND NOT EXISTS (SELECT 1 FROM children c WHERE c.sibling_group_id = g.id AND c.profile_visible_to_adopters IS false)
ORDER BY g.profile_ref LIMIT $1"""
PROFILE_CHILDREN_SQL = f"""SELECT c.sibling_group_id, c.region, c.waiting_since, c.contact_plan, c.date_of_birth,
 c.sex, c.ethnicity, {NEED_COLUMNS}, c.profile_text
FROM children c WHERE c.sibling_group_id = ANY($1::bigint[]) ORDER BY c.id"""
PROPOSALS_SQL = """SELECT mp.id, mp.ref, g.ref AS group_ref, h.ref AS household_ref, mp.score, mp.components::text,
 mp.shortlist::text, mp.status, mp.reason, mp.decided_by, mp.decided_at, mp.no_eligible_household::text,
 mp.not_top::text
FROM match_proposals mp JOIN sibling_groups g ON mp.sibling_group_id = g.id
LEFT JOIN households h ON mp.household_id = h.id
WHERE mp.run_id = (SELECT id FROM match_runs WHERE ref = $1) ORDER BY mp.id LIMIT $2"""
INVOICES_SQL = """SELECT l.id, l.ref, pl.ref AS placement_ref, l.event, l.month, payer.ref AS payer_ref,
 payee.ref AS payee_ref, l.amount_pence, l.due_on, credited.ref AS credits_ref, l.reason, l.raised_at,
 EXISTS (SELECT 1 FROM fee_disputes d WHERE d.line_id = l.id AND d.resolved_at IS NULL) AS disputed,
 (SELECT r.ref FROM reconciliations r JOIN reconciliation_lines rl ON rl.reconciliation_id = r.id
  WHERE rl.line_id = l.id) AS settled_by
FROM fee_lines l JOIN agencies payer ON l.payer_agency_id = payer.id
JOIN agencies payee ON l.payee_agency_id = payee.id
JOIN placements pl ON l.placement_id = pl.id
LEFT JOIN fee_lines credited ON l.credits_line_id = credited.id
ORDER BY l.id LIMIT $1"""
GROUP_OF_CHILD_SQL = """SELECT g.id, g.ref, g.status FROM children c JOIN sibling_groups g ON c.sibling_group_id = g.id
WHERE c.ref = $1"""
POLICY_SQL = "SELECT version, settings::text FROM scoring_policies ORDER BY version DESC LIMIT 1"


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def needs(row: asyncpg.Record) -> dict[str, str]:
    return {n: LEVELS[row[f"need_{n}"]] for n in NEEDS}


def summary(row: asyncpg.Record, today: date) -> dict[str, Any]:
    end = row["placed_on"] or today
    return {
        "ref": row["ref"],
        "sibling_group_ref": row["group_ref"],
        "sibling_group_size": row["group_size"],
        "status": row["status"],
        "la_ref": row["la_ref"],
        "raa_ref": row["raa_ref"],
        "region": row["region"],
        "age_years": age(row["date_of_birth"], today),
        "sex": row["sex"],
        "ethnicity": row["ethnicity"],
        "needs": needs(row),
        "waiting_since": row["waiting_since"],
        "days_waiting": (end - row["waiting_since"]).days,
        "profile_visible_to_adopters": row["profile_visible_to_adopters"],
    }


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=2, max_size=10)
    app.state.candidates = None
    if os.environ.get("FLOOR_CANDIDATES"):  # the in-memory pool, as the project keeps it
        from benchmarks.floor_candidates import InMemoryPool

        app.state.candidates = await InMemoryPool.load(os.environ["FLOOR_SQLALCHEMY_URL"])
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@app.get("/v1/children")
async def children(limit: int = 50) -> Response:
    today = date.today()
    async with app.state.pool.acquire() as conn:
        rows = await conn.fetch(CHILDREN_SQL, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return json_response(
        {
            "items": [summary(r, today) for r in page],
            "next_cursor": cursor([page[-1]["waiting_since"].isoformat(), page[-1]["id"]]) if more else None,
        }
    )


@app.get("/v1/children/{ref}")
async def child(ref: str) -> Response:
    today = date.today()
    async with app.state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(CHILD_SQL, ref)
        await conn.execute(AUDIT_SQL, "bench:floor", ref, str(uuid.uuid4()))
    body = summary(row, today)
    body.update(
        first_name=row["first_name"],
        surname=row["surname"],
        date_of_birth=row["date_of_birth"],
        religion=row["religion"],
        languages=row["languages"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        entered_care_on=row["entered_care_on"],
        placement_order_on=row["placement_order_on"],
        should_be_placed_on=row["should_be_placed_on"],
        contact_plan=CONTACT[row["contact_plan"]],
        contact_notes=row["contact_notes"],
        birth_family_latitude=row["birth_family_latitude"],
        birth_family_longitude=row["birth_family_longitude"],
        excluded_regions=row["excluded_regions"],
        min_distance_km=row["min_distance_km"],
        profile_text=row["profile_text"],
        version=row["version"],
    )
    return json_response(body)


@app.get("/v1/profiles")
async def profiles(limit: int = 20) -> Response:
    today = date.today()
    async with app.state.pool.acquire() as conn:
        groups = await conn.fetch(PROFILES_SQL, limit + 1)
        page = groups[:limit]
        rows = await conn.fetch(PROFILE_CHILDREN_SQL, [g["id"] for g in page])
    by_group: dict[int, list[asyncpg.Record]] = {g["id"]: [] for g in page}
    for row in rows:
        by_group[row["sibling_group_id"]].append(row)
    items = []
    for g in page:
        kids = by_group[g["id"]]
        wait = max((today - c["waiting_since"]).days for c in kids)
        items.append(
            {
                "ref": g["profile_ref"],
                "region": kids[0]["region"],
                "sibling_group_size": len(kids),
                "waiting": [label for fewest, label in WAIT_BANDS if wait >= fewest][-1],
                "contact_plan": CONTACT[max(c["contact_plan"] for c in kids)],
                "children": [
                    {
                        "age_band": [label for lowest, label in AGE_BANDS if age(c["date_of_birth"], today) >= lowest][
                            -1
                        ],
                        "sex": c["sex"],
                        "ethnicity": c["ethnicity"],
                        "needs": needs(c),
                        "about": c["profile_text"],
                    }
                    for c in kids
                ],
            }
        )
    more = len(groups) > limit
    return json_response({"items": items, "next_cursor": cursor([page[-1]["profile_ref"]]) if more else None})


@app.get("/v1/matching/children/{ref}/candidates")
async def candidates(ref: str, k: int = 10) -> Response:
    async with app.state.pool.acquire() as conn:
        group = await conn.fetchrow(GROUP_OF_CHILD_SQL, ref)
        policy = await conn.fetchrow(POLICY_SQL)
    ranked = app.state.candidates.rank(group["id"], json.loads(policy["settings"]), k)
    return json_response(
        {
            "sibling_group_ref": group["ref"],
            "status": group["status"],
            "policy_version": policy["version"],
            "candidates": [
                {"household_ref": h, "score": sum(parts.values()), "components": parts} for h, parts in ranked
            ],
            "no_eligible_household": None,
        }
    )


@app.get("/v1/matching/runs/{ref}/proposals")
async def proposals(ref: str, limit: int = 50) -> Response:
    async with app.state.pool.acquire() as conn:
        rows = await conn.fetch(PROPOSALS_SQL, ref, limit + 1)
    page = rows[:limit]

    def loads(text: str | None) -> Any:
        return None if text is None else orjson.loads(text)

    items = [
        {
            "ref": r["ref"],
            "sibling_group_ref": r["group_ref"],
            "household_ref": r["household_ref"],
            "score": r["score"],
            "components": loads(r["components"]),
            "shortlist": loads(r["shortlist"]),
            "status": r["status"],
            "reason": r["reason"],
            "decided_by": r["decided_by"],
            "decided_at": r["decided_at"],
            "link_ref": None,
            "no_eligible_household": loads(r["no_eligible_household"]),
            "not_top": loads(r["not_top"]),
        }
        for r in page
    ]
    more = len(rows) > limit
    return json_response({"items": items, "next_cursor": cursor([page[-1]["id"]]) if more else None})


@app.get("/v1/fees/invoices")
async def invoices(limit: int = 50) -> Response:
    async with app.state.pool.acquire() as conn:
        rows = await conn.fetch(INVOICES_SQL, limit + 1)
    page = rows[:limit]
    items = [
        {
            "ref": r["ref"],
            "placement_ref": r["placement_ref"],
            "event": r["event"],
            "month": r["month"],
            "payer_ref": r["payer_ref"],
            "payee_ref": r["payee_ref"],
            "amount_pence": r["amount_pence"],
            "due_on": r["due_on"],
            "credits_ref": r["credits_ref"],
            "reason": r["reason"],
            "status": "settled" if r["settled_by"] else "disputed" if r["disputed"] else "open",
            "settled_by": r["settled_by"],
            "raised_at": r["raised_at"],
        }
        for r in page
    ]
    more = len(rows) > limit
    return json_response({"items": items, "next_cursor": cursor([page[-1]["id"]]) if more else None})
