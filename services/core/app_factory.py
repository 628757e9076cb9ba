"""Builds an ASGI app: lifespan (engine, sessions, token keys), middleware, errors, health."""

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from joserfc.jwk import KeySet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core.auth import RevokedLoader, TokenVerifier, remote_jwks_loader
from services.core.database import create_engine, create_read_sessionmaker, create_sessionmaker, database_url
from services.core.errors import ERROR_RESPONSES, install_problem_handlers, problem
from services.core.migrate import ensure_schema_is_current
from services.core.observability import (
    API_CSP,
    PAGE_CSP,
    PAGES,
    REQUEST_ID_HEADER,
    RequestObservation,
    enable_tracing,
    install_secret_redaction,
    metrics_endpoint,
)
from services.core.routing import install_route_index
from services.core.settings import Settings

log = logging.getLogger(__name__)

# Loads the public keys that verify access tokens, given a session on the register's database.
KeySource = Callable[[async_sessionmaker[AsyncSession]], Awaitable[KeySet]]
# Loads the `jti` of every revoked, unexpired access token, likewise.
RevokedSource = Callable[[async_sessionmaker[AsyncSession]], Awaitable[frozenset[str]]]


class BodySizeLimit:
    """Refuses request bodies over the configured size before the app reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received, refused, started = 0, False, False

        # A body without Content-Length (chunked) is counted as it is read. Past the limit the
        # 413 is sent from here and the app is told the client left: FastAPI would otherwise
        # turn any error raised while it reads the body into its own 400.
        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes and not started:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers now goes nowhere
            started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "request-too-large",
            "Request too large",
            f"Request bodies are limited to {self.max_bytes} bytes.",
            scope.get("path"),
        )
        await response(scope, receive, send)


async def token_verifiers(
    settings: Settings,
    load_local_keys: Callable[[], Awaitable[KeySet]],
    http_client: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
    load_revoked: RevokedLoader | None = None,
) -> dict[str, TokenVerifier]:
    """This register's own issuer, and an agency's identity provider if one is configured."""
    verifiers = {
        settings.token_issuer: TokenVerifier(
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            load_keys=load_local_keys,
            load_revoked=load_revoked,
        )
    }
    if settings.external_issuer and settings.external_jwks_url:
        verifiers[settings.external_issuer] = TokenVerifier(
            issuer=settings.external_issuer,
            audience=settings.external_audience or settings.token_audience,
            load_keys=remote_jwks_loader(settings.external_jwks_url, http_client),
            reload_on_unknown_kid=False,
        )
    for verifier in verifiers.values():
        await verifier.refresh()
    return verifiers


# The migrations' triggers on signing_keys and revoked_access_tokens notify this channel.
KEY_CHANGES_CHANNEL = "token_verification_changed"
# Reload the own keys at least this often even if a notification was missed.
OWN_KEYS_RELOAD_SECONDS = 30


def _set_event(event: asyncio.Event, *_: object) -> None:
    event.set()


async def _follow_key_changes(engine: AsyncEngine, verifier: TokenVerifier) -> None:
    """Reloads this register's keys the moment any process adds or retires one (LISTEN on
    one connection held for the app's life), and every OWN_KEYS_RELOAD_SECONDS regardless:
    a key retired as compromised stops verifying within a second or so in every process."""
    while True:
        try:
            async with engine.connect() as conn:
                listening = (await conn.get_raw_connection()).driver_connection
                assert listening is not None  # an open pooled connection always has one
                changed = asyncio.Event()
                notified = functools.partial(_set_event, changed)
                await listening.add_listener(KEY_CHANGES_CHANNEL, notified)
                try:
                    await verifier.refresh()  # changes missed while not listening
                    while not listening.is_closed():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(changed.wait(), OWN_KEYS_RELOAD_SECONDS)
                        changed.clear()
                        await verifier.refresh()
                finally:
                    if not listening.is_closed():
                        await listening.remove_listener(KEY_CHANGES_CHANNEL, notified)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("not following signing key changes; trying again shortly", exc_info=True)
        await asyncio.sleep(1)


async def _refresh_periodically(verifiers: Iterable[TokenVerifier], seconds: int) -> None:
    while True:
        await asyncio.sleep(seconds)
        for verifier in verifiers:
            try:
                await verifier.refresh()
            except Exception:
                log.exception("could not refresh the keys of %s", verifier.issuer)


def build_app(
    *,
    title: str,
    description: str,
    service: str,
    settings: Settings,
    routers: Sequence[APIRouter],
    key_source: KeySource,
    revoked_source: RevokedSource | None = None,
    database: str | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(database or database_url(settings), settings)
        await ensure_schema_is_current(engine)
        sessionmaker = create_sessionmaker(engine)
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker
        app.state.read_sessionmaker = create_read_sessionmaker(engine)
        app.state.settings = settings
        app.state.background_tasks = set()

        async def load_keys() -> KeySet:
            return await key_source(sessionmaker)

        async def load_revoked() -> frozenset[str]:
            return await revoked_source(sessionmaker) if revoked_source else frozenset()

        app.state.token_verifiers = await token_verifiers(settings, load_keys, load_revoked=load_revoked)
        refresher = asyncio.create_task(
            _refresh_periodically(app.state.token_verifiers.values(), settings.jwks_refresh_seconds)
        )
        key_follower = asyncio.create_task(
            _follow_key_changes(engine, app.state.token_verifiers[settings.token_issuer])
        )
        # What start-up made lives as long as the app (~240,000 objects: models, routes,
        # schemas, mappers). The collector's full passes went through all of them, ~80 ms
        # each with every request held meanwhile: the slowest requests under load. Frozen,
        # a full pass looks only at what requests leave behind.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # another app may start in this process (tests): let these go
            refresher.cancel()
            key_follower.cancel()
            await asyncio.gather(refresher, key_follower, return_exceptions=True)
            # A match run in flight is cancelled: it records itself as failed and stores
            # nothing partial (its results are written in one transaction at the end).
            for task in list(app.state.background_tasks):
                task.cancel()
            await asyncio.gather(*app.state.background_tasks, return_exceptions=True)
            await engine.dispose()

    install_secret_redaction()
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.request_max_bytes)
    if settings.cors_origins:  # only the configured client apps may call from a browser
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "PUT"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", REQUEST_ID_HEADER],
            expose_headers=["ETag", "Location", REQUEST_ID_HEADER],
            max_age=600,
        )
    app.add_middleware(
        RequestObservation,
        service=service,
        csp=API_CSP,
        page_csp=PAGE_CSP,
        pages=PAGES,
        hsts=settings.environment == "production",
    )
    app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)  # an APIRoute, so it is labelled
    if settings.tracing_enabled:
        enable_tracing(app, settings.tracing_service_name)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            async with app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return problem(503, "service-unavailable", "Not ready", "The database is not reachable.")
        return JSONResponse({"status": "ready"})

    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and not ERROR_RESPONSES.keys() <= route.responses.keys():
                raise RuntimeError(f"{route.path}: its router must declare responses=ERROR_RESPONSES")
        mount(app, router)
    install_route_index(app.router)
    return app


def mount(app: FastAPI, router: APIRouter) -> None:
    """Adds a router's routes to the app as they are, instead of `app.include_router`.

    FastAPI 0.165 includes a router lazily: on an app's first request it builds every included
    route again (its dependency graph, its response fields), which costs about 100 ms of CPU
    per app (each worker process, each test's app), and it then matches every request through
    the nested routers. The routes were built once, when their module was imported, with
    their router's prefix, tags and responses; an app only has to list them. So a router
    declares everything about its routes itself (prefix, tags, `responses=ERROR_RESPONSES`),
    as nothing is added here."""
    app.router.routes.extend(router.routes)
