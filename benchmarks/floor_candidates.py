"""The candidates floor's in-memory pool: the national pool's arrays loaded once at start-up
(through the project's loader), each request scoring one unit against every household."""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.matching.engine.policy import ScoringPolicy
from services.matching.engine.run import candidates_for_unit
from services.matching.loader import Pool, load_pool


@dataclass
class InMemoryPool:
    pool: Pool
    unit_of_group: dict[int, int]

    @classmethod
    async def load(cls, url: str) -> "InMemoryPool":
        engine = create_async_engine(url)
        async with AsyncSession(engine) as session:
            pool = await load_pool(session, today=date.today())
        await engine.dispose()
        return cls(pool, {int(g): i for i, g in enumerate(pool.group_ids)})

    def rank(self, group_id: int, settings: dict[str, Any] | str, k: int) -> list[tuple[str, dict[str, int]]]:
        unit = self.unit_of_group.get(group_id)
        if unit is None:
            return []
        policy = ScoringPolicy.from_dict(json.loads(settings) if isinstance(settings, str) else settings)
        p = self.pool
        ranked = candidates_for_unit(
            p.units, p.households, policy, unit, k=k, declined=p.declined, interests=p.interests
        )
        return [(p.household_refs[j], parts) for j, parts in ranked]
