"""All SQL for agencies."""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.core.errors import InvalidInput, NotFound
from services.register.models import Agency
from services.register.vocabulary import AgencyKind, Region

Parent = aliased(Agency)


async def get_with_parent_ref(
    session: AsyncSession, ref: str, *, for_update: bool = False
) -> tuple[Agency, str | None]:
    query = select(Agency, Parent.ref).outerjoin(Parent, Agency.parent_raa_id == Parent.id).where(Agency.ref == ref)
    if for_update:
        query = query.with_for_update(of=Agency)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFound(f"No agency {ref}.")
    return row[0], row[1]


async def exists(session: AsyncSession, ref: str) -> bool:
    return await session.scalar(select(Agency.id).where(Agency.ref == ref)) is not None


async def find(session: AsyncSession, ref: str, *, field: str, kinds: tuple[AgencyKind, ...] = ()) -> Agency:
    """Resolve an agency named in a request body; unknown refs are the caller's input error."""
    agency = await session.scalar(select(Agency).where(Agency.ref == ref))
    if agency is None or (kinds and agency.kind not in kinds):
        wanted = " or ".join(k.value.upper() for k in kinds) or "agency"
        raise InvalidInput(
            f"{ref} is not a known {wanted}.",
            extra={"errors": [{"field": field, "message": f"unknown {wanted}", "code": "unknown_reference"}]},
        )
    return agency


async def list_agencies(
    session: AsyncSession, *, kind: AgencyKind | None, region: Region | None, after_ref: str | None, limit: int
) -> list[tuple[Agency, str | None]]:
    query = select(Agency, Parent.ref).outerjoin(Parent, Agency.parent_raa_id == Parent.id)
    if kind:
        query = query.where(Agency.kind == kind)
    if region:
        query = query.where(Agency.region == region)
    if after_ref:
        query = query.where(Agency.ref > after_ref)
    rows = await session.execute(query.order_by(Agency.ref).limit(limit))
    return [(a, p) for a, p in rows.all()]


async def id_of(session: AsyncSession, ref: str) -> int | None:
    return await session.scalar(select(Agency.id).where(Agency.ref == ref))


async def get_by_id_with_parent_ref(session: AsyncSession, agency_id: int) -> tuple[Agency, str | None]:
    row = (
        await session.execute(
            select(Agency, Parent.ref)
            .outerjoin(Parent, Agency.parent_raa_id == Parent.id)
            .where(Agency.id == agency_id)
        )
    ).one()
    return row[0], row[1]


async def acted_for(session: AsyncSession, ref: str) -> tuple[int, ...]:
    """The agency and, for an RAA, its local authorities: whose records its staff act on."""
    rows = await session.scalars(
        select(Agency.id).where(
            or_(Agency.ref == ref, Agency.parent_raa_id.in_(select(Agency.id).where(Agency.ref == ref)))
        )
    )
    return tuple(rows)
