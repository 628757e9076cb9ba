"""The matching service's ASGI app (its own Deployment in production)."""

from fastapi import APIRouter, FastAPI

from services.core.app_factory import KeySource, RevokedSource, build_app
from services.core.settings import Settings
from services.matching.router import router

ROUTERS: tuple[APIRouter, ...] = (router,)

DESCRIPTION = """National matching: explained scores, priority for the children who wait longest, an exact
solver. The algorithm proposes; people decide."""


def create_app(
    settings: Settings, *, key_source: KeySource, revoked_source: RevokedSource, database: str | None = None
) -> FastAPI:
    """`key_source` and `revoked_source`: where this service finds the register's public
    signing keys and revoked tokens (wired by `services/apps.py`, which knows both services)."""
    return build_app(
        title="Adoption matching",
        service="matching",
        description=DESCRIPTION,
        settings=settings,
        routers=ROUTERS,
        key_source=key_source,
        revoked_source=revoked_source,
        database=database,
    )
