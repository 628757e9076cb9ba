"""Which service one process serves: both APIs (the embedded default of `adoption-register
serve`), one of them, or the adopters' app, as each runs in its own Deployment in production
from the same image."""

from enum import StrEnum

from fastapi import FastAPI

from services.core.settings import Settings
from services.matching.app import ROUTERS as MATCHING_ROUTERS
from services.matching.app import create_app as create_matching_app
from services.register.app import create_app as create_register_app
from services.register.app import local_public_keys, revoked_access_tokens


class ServiceName(StrEnum):
    both = "both"
    register = "register"
    matching = "matching"
    adopter_app = "adopter-app"


def create_combined_app(settings: Settings, *, database: str | None = None) -> FastAPI:
    return create_register_app(settings, database=database, extra_routers=MATCHING_ROUTERS)


def create_service_app(service: ServiceName, settings: Settings, *, database: str | None = None) -> FastAPI:
    match service:
        case ServiceName.both:
            return create_combined_app(settings, database=database)
        case ServiceName.register:
            return create_register_app(settings, database=database)
        case ServiceName.matching:
            return create_matching_app(
                settings, key_source=local_public_keys, revoked_source=revoked_access_tokens, database=database
            )
        case ServiceName.adopter_app:
            from services.adopter_app.app import create_app as create_adopter_app
            from services.adopter_app.settings import get_app_settings

            return create_adopter_app(get_app_settings(), settings, database=database)
