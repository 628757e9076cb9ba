"""All SQL of loading the synthetic register: bulk inserts, one statement per table."""

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.database import Base
from services.register.models import Agency, Placement


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Agency))


async def insert_returning_ids(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    if not rows:  # an empty parameter list would insert one row of defaults
        return []
    result = await session.execute(insert(model).returning(model.__table__.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result.all()]


async def insert_rows(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    if rows:  # an empty parameter list would insert one row of defaults
        await session.execute(insert(model), rows)


async def placements_by_ids(session: AsyncSession, ids: list[int]) -> list[Placement]:
    return list(await session.scalars(select(Placement).where(Placement.id.in_(ids))))
