"""The matching service's ASGI app (its own Deployment in production)."""

from fastapi import APIRouter, FastAPI

from services.core.app_factory import build_app
from services.core.settings import Settings
from services.matching.router import router

ROUTERS: tuple[APIRouter, ...] = (router,)

DESCRIPTION = """National matching: explained scores, priority for the children who wait longest, an exact
solver. The algorithm proposes; people decide."""


def create_app(settings: Settings, *, database: str | None = None) -> FastAPI:
    from services.register.app import local_public_keys, revoked_access_tokens

    return build_app(
        title="Adoption matching",
        description=DESCRIPTION,
        settings=settings,
        routers=ROUTERS,
        key_source=local_public_keys,
        revoked_source=revoked_access_tokens,
        database=database,
    )
