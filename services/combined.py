"""Both services in one process: the embedded default of `adoption-register serve`.

In production each service runs as its own Deployment from the same image (see the README).
"""

from fastapi import FastAPI

from services.core.settings import Settings
from services.matching.app import ROUTERS as MATCHING_ROUTERS
from services.register.app import create_app as create_register_app


def create_combined_app(settings: Settings, *, database: str | None = None) -> FastAPI:
    return create_register_app(settings, database=database, extra_routers=MATCHING_ROUTERS)
