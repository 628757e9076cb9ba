"""The route index (`core/routing.py`) dispatches every request to the route the router's own
scan would choose, and leaves what matches no route fully (404, 405, a trailing slash) to it."""

import re

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import Match, Route

from services.apps import ServiceName, create_service_app
from services.core.routing import RouteIndex, install_route_index


def scanned(app: FastAPI, scope: dict) -> Route | None:
    """The route Starlette's scan in order finds: the first full match."""
    for route in app.router.routes:
        if route.matches(dict(scope))[0] is Match.FULL:
            return route  # type: ignore[return-value]
    return None


def chosen(index: RouteIndex, scope: dict) -> Route | None:
    index._build()
    from starlette.routing import get_route_path

    from services.core.routing import _key

    for route in index._buckets.get(_key(get_route_path(scope)), index._anywhere):
        if route.matches(dict(scope))[0] is Match.FULL:
            return route  # type: ignore[return-value]
    return None


@pytest.mark.parametrize("service", [ServiceName.both, ServiceName.matching])
def test_every_operation_is_found_as_the_router_would_find_it(service, settings):
    app = create_service_app(service, settings, database="postgresql://unused/unused")
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    paths = {route.path for route in app.router.routes if isinstance(route, Route)}
    checked = 0
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "X-1", path)
        for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            scope = {"type": "http", "method": method, "path": concrete, "root_path": "", "headers": []}
            assert chosen(index, scope) is scanned(app, scope), (method, concrete)
            checked += 1
    assert len(paths) > 10 and checked == 5 * len(paths)


async def test_what_matches_no_route_fully_is_answered_by_the_router_as_before():
    router = APIRouter()

    @router.get("/v1/things/{ref}")
    async def thing(ref: str) -> dict[str, str]:
        return {"ref": ref}

    @router.get("/v1/{anything}/last")
    async def last(anything: str) -> dict[str, str]:
        return {"last": anything}

    app = FastAPI()
    app.include_router(router)
    install_route_index(app.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/v1/things/a")).json() == {"ref": "a"}
        assert (await client.get("/v1/things/last")).json() == {"ref": "last"}  # the first route wins
        assert (await client.get("/v1/stuff/last")).json() == {"last": "stuff"}  # a parameter in the key
        assert (await client.post("/v1/things/a")).status_code == 405
        assert (await client.get("/v1/nothing/here/at/all")).status_code == 404
        redirected = await client.get("/v1/things/a/")
        assert redirected.status_code == 307 and redirected.headers["location"].endswith("/v1/things/a")

        @app.get("/v1/added/later")
        async def later() -> dict[str, bool]:
            return {"later": True}

        assert (await client.get("/v1/added/later")).json() == {"later": True}
