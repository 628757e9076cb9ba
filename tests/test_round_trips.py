"""SQL round trips per request of the endpoints `benchmarks/api_floor.py` measures: the exact
number, so a change that adds one fails here (and says which statements it saw). Not timed.

Counted on a real engine that commits (the seeded register): every statement SQLAlchemy
sends (`before_cursor_execute`) and every simple-protocol message asyncpg sends itself
(BEGIN with the request context, COMMIT, ROLLBACK, a pool ping), through asyncpg's query
logger. These are all reads: each runs in autocommit (`core/context.py`), so BEGIN and
COMMIT would show here if they came back. Statement preparation is not counted: each
request is made a few times first and then counted, with every prepared statement cached
as in a running server.

The lists that answer through `json_response` are checked against their response models here
too, since FastAPI no longer validates them.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.core.http import Page
from services.matching.schemas import CandidatesRead, ProposalRead
from services.register.children.schemas import ChildRead, ChildSummary
from services.register.fees.schemas import LineRead
from services.register.profiles.schemas import ProfileRead

WARM_UPS = 6  # more than the test engine's pool of 5


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self.counting = False
        self._logged: set[int] = set()
        event.listen(engine.sync_engine, "before_cursor_execute", self._sqlalchemy)
        event.listen(engine.sync_engine, "checkout", self._checkout)
        self._engine = engine

    def _record(self, statement: str) -> None:
        if self.counting:
            self.statements.append(" ".join(statement.split())[:90])

    def _sqlalchemy(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._record(statement)

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if id(driver) not in self._logged:  # asyncpg's own messages (BEGIN, COMMIT, pings)
            self._logged.add(id(driver))
            driver.add_query_logger(lambda logged: self._record(logged.query))

    def remove(self) -> None:
        event.remove(self._engine.sync_engine, "before_cursor_execute", self._sqlalchemy)
        event.remove(self._engine.sync_engine, "checkout", self._checkout)

    async def count(self, client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        # Prepares its statements and fills asyncpg's type cache on every pooled connection
        # (the pool hands them out in turn), as a running server has long done.
        for _ in range(WARM_UPS):
            assert (await client.get(path, headers=headers)).status_code == 200
        self.statements, self.counting = [], True
        try:
            response = await client.get(path, headers=headers)
        finally:
            self.counting = False
        assert response.status_code == 200, response.text
        return len(self.statements), response.json()


@pytest.fixture
def counter(seeded_app) -> Iterator[tuple[httpx.AsyncClient, AsyncEngine, StatementCounter]]:
    client, engine, _ = seeded_app
    counting = StatementCounter(engine)
    yield client, engine, counting
    counting.remove()


async def _refs(engine: AsyncEngine, auth) -> dict[str, str]:
    async with engine.connect() as conn:
        child = await conn.scalar(
            text(
                "SELECT c.ref FROM children c JOIN sibling_groups g ON g.id = c.sibling_group_id "
                "WHERE g.status = 'waiting' ORDER BY c.waiting_since, c.id LIMIT 1"
            )
        )
        household = await conn.scalar(text("SELECT ref FROM households WHERE status = 'approved' ORDER BY id LIMIT 1"))
    return {"child": child, "household": household}


# endpoint: (round trips, the statements in order, as a reminder of what they are)
EXPECTED = {
    "children list": (1, "the page (a read runs in autocommit: no BEGIN, no COMMIT)"),
    "profile browse": (1, "the page of groups with their children"),
    "full child record": (1, "the child and its audit row (one statement, atomic on its own)"),
    "candidates": (2, "group, policy and pool freshness; the unit's children"),
    "proposal page": (1, "the page (the run found in it)"),
    "invoice list": (1, "the page"),
}


async def test_round_trips_per_request_of_each_measured_endpoint(counter, auth):
    client, engine, counting = counter
    refs = await _refs(engine, auth)
    run = await client.post("/v1/matching/runs", params={"wait": "true"}, json={}, headers=auth())
    assert run.status_code == 200, run.text
    cases = {
        "children list": ("/v1/children?limit=50", auth("children:read"), Page[ChildSummary]),
        "profile browse": (
            "/v1/profiles?limit=20",
            auth("profiles:read", household=refs["household"]),
            Page[ProfileRead],
        ),
        "full child record": (f"/v1/children/{refs['child']}", auth("children:read"), ChildRead),
        "candidates": (f"/v1/matching/children/{refs['child']}/candidates", auth("matching:read"), CandidatesRead),
        "proposal page": (
            f"/v1/matching/runs/{run.json()['ref']}/proposals?limit=50",
            auth("matching:read"),
            Page[ProposalRead],
        ),
        "invoice list": ("/v1/fees/invoices?limit=50", auth("fees:read"), Page[LineRead]),
    }
    seen = {}
    for name, (path, headers, model) in cases.items():
        count, body = await counting.count(client, path, headers)
        seen[name] = (count, counting.statements)
        adapter = TypeAdapter(model)
        parsed = adapter.validate_python(body)  # the JSON is what the response model says
        assert adapter.dump_python(parsed, mode="json") == body, name
        if isinstance(body, dict) and "items" in body:
            assert body["items"], f"{name}: an empty page measures nothing"
    wrong = {name: seen[name] for name, (expected, _) in EXPECTED.items() if seen[name][0] != expected}
    assert not wrong, f"round trips changed: {wrong}"


async def test_candidates_are_never_stale_after_the_callers_own_write(seeded_app, auth):
    """The households are kept in memory between calls; a change the caller committed is in
    the very next call (here: a household made unable to take the child)."""
    client, engine, _ = seeded_app
    async with engine.connect() as conn:
        waiting = await conn.scalars(
            text(
                "SELECT c.ref FROM children c JOIN sibling_groups g ON g.id = c.sibling_group_id "
                "WHERE g.status = 'waiting' ORDER BY c.id LIMIT 30"
            )
        )
    first: list = []
    for child in waiting:  # a child with candidates
        path = f"/v1/matching/children/{child}/candidates"
        first = (await client.get(path, headers=auth("matching:read"))).json()["candidates"]
        if first:
            break
    assert first, "the seeded register should give one of these children a candidate"
    top = first[0]["household_ref"]
    again = (await client.get(path, headers=auth("matching:read"))).json()["candidates"]
    assert again == first  # served from memory, unchanged
    household = await client.get(f"/v1/households/{top}", headers=auth())
    changed = await client.patch(
        f"/v1/households/{top}",
        json={"age_min_years": 17, "age_max_years": 17},
        headers={**auth(), "If-Match": household.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    after = (await client.get(path, headers=auth("matching:read"))).json()["candidates"]
    assert top not in [c["household_ref"] for c in after]
