"""All SQL for family profiles."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.family_profiles.models import FamilyProfile


async def of_household(session: AsyncSession, household_id: int, *, for_update: bool = False) -> FamilyProfile | None:
    query = select(FamilyProfile).where(FamilyProfile.household_id == household_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def add(session: AsyncSession, profile: FamilyProfile) -> None:
    session.add(profile)
    await session.flush()
