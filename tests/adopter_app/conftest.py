"""The adopters' app and the register, both in this process (httpx over ASGI), on a database
whose writes really commit (the app and the register each use their own connections)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.adopter_app.app import create_app
from services.adopter_app.register_client import RegisterClient
from services.adopter_app.sessions import Sessions
from services.adopter_app.settings import AppSettings
from services.core.database import create_sessionmaker
from tests.adopter_app.register_data import (
    PASSWORD,
    add_adopter,
    build_register,
    hidden_fields,
    path_of,
    register_app_client,
)
from tests.factories import add_agencies

APP = "http://app.test"
REGISTER = "http://register.test"


@dataclass
class Stack:
    engine: AsyncEngine
    register: httpx.AsyncClient
    data: dict[str, Any]
    app_settings: AppSettings
    register_app: Any
    staff: dict[str, str]

    def adopter_app(self, **overrides: Any) -> httpx.AsyncClient:
        """A browser of its own (its own cookie jar) on an app with these settings."""
        app_settings = self.app_settings.model_copy(update=overrides)
        app = create_app(app_settings, self.register_app.state.settings)
        app.state.engine = self.engine
        app.state.sessions = Sessions(
            app_settings, create_sessionmaker(self.engine), RegisterClient(app_settings, self.register)
        )
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP)

    async def sign_in(self, browser: httpx.AsyncClient, email: str) -> httpx.Response:
        """Sign in as a browser would: the app sends it to the register's page, the adopter
        signs in there, the register sends it back to the app's callback."""
        started = await browser.get("/sign-in")
        assert started.status_code == 303 and started.headers["location"].startswith(f"{REGISTER}/oauth/authorize?")
        page = await self.register.get(path_of(started.headers["location"]))
        assert page.status_code == 200, page.text
        signed = await self.register.post(
            "/oauth/authorize",
            data={**hidden_fields(page.text), "email": email, "password": PASSWORD, "decision": "allow"},
        )
        assert signed.status_code == 302 and signed.headers["location"].startswith(f"{APP}/callback?"), signed.text
        return await browser.get(path_of(signed.headers["location"]))


@pytest.fixture
def stack_database_url(new_database) -> str:
    return new_database("migrated", "adopterapp")


@pytest.fixture
async def stack(make_app, stack_database_url, auth) -> AsyncIterator[Stack]:
    url = stack_database_url
    engine = create_async_engine(url, pool_size=5)
    async with engine.connect() as conn:
        await add_agencies(conn)
    client_id, secret = await register_app_client(engine, f"{APP}/callback")
    register_app = await make_app(engine)  # after the key is stored: the register loads it at start
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=register_app), base_url=REGISTER) as register:
        data = await build_register(register, auth())
        await add_adopter(engine, data["household"]["ref"], "a@example.org")
        await add_adopter(engine, data["household_b"]["ref"], "b@example.org")
        app_settings = AppSettings(
            register_url=REGISTER,
            public_url=APP,
            client_id=client_id,
            client_secret=secret,
            development=True,
        )
        yield Stack(engine, register, data, app_settings, register_app, auth())
    await engine.dispose()
