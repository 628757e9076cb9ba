"""The register service's ASGI app."""

from fastapi import APIRouter
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.core.app_factory import build_app
from services.core.settings import Settings
from services.register.accounts.pages import router as account_pages_router
from services.register.accounts.router import router as accounts_router
from services.register.agencies.router import router as agencies_router
from services.register.audit.router import router as audit_router
from services.register.children.router import router as children_router
from services.register.events.router import router as events_router
from services.register.events.router import webhooks_router
from services.register.family_profiles.router import router as family_profiles_router
from services.register.fees.router import router as fees_router
from services.register.households.router import router as households_router
from services.register.interests.router import router as interests_router
from services.register.links.router import router as links_router
from services.register.oauth import keys
from services.register.oauth import repository as oauth_repository
from services.register.oauth.router import router as oauth_router
from services.register.placements.router import router as placements_router
from services.register.profiles.router import router as profiles_router
from services.register.scorecards.router import router as scorecards_router
from services.register.support.router import router as support_router

ROUTERS: tuple[APIRouter, ...] = (
    oauth_router,
    account_pages_router,
    profiles_router,
    family_profiles_router,
    agencies_router,
    children_router,
    households_router,
    accounts_router,
    links_router,
    placements_router,
    interests_router,
    fees_router,
    scorecards_router,
    events_router,
    webhooks_router,
    support_router,
    audit_router,
)

DESCRIPTION = """System of record of the national adoption matching register: agencies, children and
sibling groups, approved adopter households, placements, adoption support, and the audit trail.
Every error is `application/problem+json`; updates need `If-Match` with the record's `ETag`."""


async def local_public_keys(sessionmaker: async_sessionmaker[AsyncSession]) -> KeySet:
    async with sessionmaker() as session:
        return keys.public_keyset(await oauth_repository.active_keys(session))


async def revoked_access_tokens(sessionmaker: async_sessionmaker[AsyncSession]) -> frozenset[str]:
    async with sessionmaker() as session:
        return await oauth_repository.revoked_access_tokens(session)


def create_app(settings: Settings, *, database: str | None = None, extra_routers: tuple[APIRouter, ...] = ()):
    return build_app(
        title="Adoption register",
        service="register",
        description=DESCRIPTION,
        settings=settings,
        routers=(*ROUTERS, *extra_routers),
        key_source=local_public_keys,
        revoked_source=revoked_access_tokens,
        database=database,
    )
