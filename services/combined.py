"""Both services in one process: the embedded default of `adoption-register serve`.

In production each service runs as its own Deployment from the same image (see deploy/).
"""

from fastapi import FastAPI

from services.core.settings import Settings
from services.register.app import create_app as create_register_app


def matching_routers() -> tuple:
    try:
        from services.matching.app import ROUTERS
    except ImportError:  # the matching service's HTTP layer is not built yet
        return ()
    return ROUTERS


def create_combined_app(settings: Settings, *, database: str | None = None) -> FastAPI:
    return create_register_app(settings, database=database, extra_routers=matching_routers())
