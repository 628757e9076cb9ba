"""The households side of the pool, kept in memory per process for live candidates.

`GET /v1/matching/children/{ref}/candidates` scores one unit against every available
household. Reading and encoding ~1,400 households on every call made it the slowest read of
the API; here their arrays (and the pairs never to propose again, and the pairs of mutual
interest) are built once per process and reused until the register changes.

Freshness: every transaction that writes households, links, declined pairs or interests
leaves one row in `matching_pool_changes` (migration 0013), visible exactly when its change
is. The arrays remember the snapshot they were read in (taken before reading them), and
every call asks, in the statement that finds the child, whether a transaction that snapshot
did not see has changed the pool; if so the arrays are read again before scoring. A write
committed before the call began (the caller's own, in this or any other process) is always
seen: no notification to wait for, no stale window.
"""

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching import repository
from services.matching.engine.arrays import Households
from services.matching.engine.encode import ChildRecord, HouseholdRecord, Languages, households_from_records
from services.matching.loader import household_record


@dataclass(frozen=True)
class HouseholdSide:
    snapshot: str
    loaded_at: float  # time.monotonic() before its snapshot was taken
    records: list[HouseholdRecord]
    ids: np.ndarray
    refs: list[str]
    # (group id) -> household indices: pairs never to propose again, pairs of mutual interest
    declined: dict[int, np.ndarray]
    interests: dict[int, np.ndarray]
    languages: frozenset[str]
    arrays: Households
    _by_vocabulary: dict[frozenset[str], tuple[Languages, Households]] = field(default_factory=dict)

    def encoded(self, children: list[ChildRecord]) -> tuple[Languages, Households]:
        """The households' arrays under the language vocabulary of these children and the
        households (as the whole-pool loader builds it), reused for the usual case of no
        language that no household speaks."""
        vocabulary = self.languages | {lang for c in children for lang in c.languages}
        if vocabulary == self.languages:
            return Languages(vocabulary), self.arrays
        if vocabulary not in self._by_vocabulary:
            languages = Languages(vocabulary)
            self._by_vocabulary.clear()  # keep one: a rare child's language
            self._by_vocabulary[vocabulary] = (languages, households_from_records(self.records, languages))
        return self._by_vocabulary[vocabulary]


class LivePool:
    """One per process (app.state); safe for concurrent requests on its event loop."""

    def __init__(self) -> None:
        self._side: HouseholdSide | None = None
        self._lock = asyncio.Lock()

    @property
    def snapshot(self) -> str | None:
        return self._side.snapshot if self._side is not None else None

    async def households(self, session: AsyncSession, *, stale: bool, asked_at: float) -> HouseholdSide:
        """The current side; read again first if `stale` (as found by a check sent at
        `asked_at`), unless another call has read it again since that check was sent."""
        side = self._side
        if side is not None and not stale:
            return side
        async with self._lock:
            side = self._side
            if side is None or side.loaded_at <= asked_at:
                side = self._side = await _read(session)
            return side


async def _read(session: AsyncSession) -> HouseholdSide:
    loaded_at = time.monotonic()
    # First, so that every change this snapshot saw is in what is read next (each later
    # statement of the READ COMMITTED transaction sees at least as much).
    snapshot = await repository.current_snapshot(session)
    households = await repository.pool_households(session, regions=(), agency_refs=())
    index = {h.id: j for j, h in enumerate(households)}

    def by_group(pairs: list[tuple[int, int]]) -> dict[int, np.ndarray]:
        found: dict[int, list[int]] = {}
        for group, household in pairs:
            if household in index:
                found.setdefault(group, []).append(index[household])
        return {group: np.array(cols, dtype=np.int64) for group, cols in found.items()}

    records = [household_record(h) for h in households]
    languages = frozenset(lang for r in records for lang in r.languages)
    return HouseholdSide(
        snapshot=snapshot,
        loaded_at=loaded_at,
        records=records,
        ids=np.array([h.id for h in households], dtype=np.int64),
        refs=[h.ref for h in households],
        declined=by_group(await repository.never_again_pairs(session)),
        interests=by_group(await repository.interest_pairs(session)),
        languages=languages,
        arrays=households_from_records(records, Languages(languages)),
    )
