"""Builds the adopters' app: lifespan (database for sessions, one httpx client for the
register), security headers, error pages, health and metrics."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.adopter_app import repository, router
from services.adopter_app.register_client import (
    RegisterClient,
    RegisterProblem,
    RegisterUnavailable,
    SignInAgain,
    http_client,
)
from services.adopter_app.sessions import Sessions
from services.adopter_app.settings import AppSettings
from services.core.app_factory import mount
from services.core.database import create_engine, create_sessionmaker, database_url
from services.core.migrate import ensure_schema_is_current
from services.core.observability import RequestObservation, install_secret_redaction, metrics_endpoint
from services.core.settings import Settings

log = logging.getLogger(__name__)

# Pages, one stylesheet, no script; forms post to the app only.
APP_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(app_settings: AppSettings, settings: Settings, *, database: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(database or database_url(settings), settings)
        await ensure_schema_is_current(engine)
        http = http_client(app_settings)
        app.state.engine = engine
        app.state.sessions = Sessions(app_settings, create_sessionmaker(engine), RegisterClient(app_settings, http))
        try:
            yield
        finally:
            await http.aclose()
            await engine.dispose()

    install_secret_redaction()
    app = FastAPI(
        title="Adopters' app",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.app_settings = app_settings
    app.add_middleware(
        RequestObservation,
        service="adopter-app",
        csp=APP_CSP,
        cacheable=("/static/",),
        hsts=not app_settings.development,
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    mount(app, router.router)
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            await repository.ping(app.state.engine)
        except Exception:
            return JSONResponse({"status": "not ready"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.exception_handler(router.NotSignedIn)
    async def not_signed_in(request: Request, exc: router.NotSignedIn) -> Response:
        return RedirectResponse("/", status_code=303)

    @app.exception_handler(SignInAgain)
    async def sign_in_again(request: Request, exc: SignInAgain) -> Response:
        current = getattr(request.state, "current", None)
        if current is not None:
            await app.state.sessions.end(current)
        response = RedirectResponse("/?ended", status_code=303)
        router.clear_session_cookie(request, response)
        return response

    @app.exception_handler(router.CsrfRefused)
    async def csrf_refused(request: Request, exc: router.CsrfRefused) -> Response:
        return router.render(
            request,
            "error.html",
            403,
            title="This form has expired",
            message="For your security we could not accept this form. Go back, reload the page and try again.",
        )

    @app.exception_handler(RegisterUnavailable)
    async def unavailable(request: Request, exc: RegisterUnavailable) -> Response:
        log.warning("the register is unavailable: %s", exc)
        return router.render(
            request,
            "error.html",
            503,
            title="Sorry, there is a problem with the service",
            message="The adoption register is not available just now. Please try again in a few minutes.",
        )

    @app.exception_handler(RegisterProblem)
    async def register_problem(request: Request, exc: RegisterProblem) -> Response:
        if exc.status == 404:
            return router.not_found(request)
        return router.render(
            request,
            "error.html",
            exc.status,
            title="Sorry, we could not do that",
            message=exc.detail or "The adoption register refused this request.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return router.not_found(request)
        return router.render(
            request, "error.html", exc.status_code, title="Sorry, we could not do that", message=str(exc.detail)
        )

    return app
