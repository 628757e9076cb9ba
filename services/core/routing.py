"""Finding a request's route without trying every route in turn.

Starlette (and FastAPI 0.165's router) tries each route's pattern in order until one matches
fully: with the ~120 operations of the combined app, ~0.85 us each, a matching route near
the end (the matching API) cost ~100 us per request, a tenth of a list's CPU time. The index
tries only the routes that can match the request's path: those whose first two path
segments are these literal words, and those that cannot be told apart by them (a parameter
there, a mount), in the router's own order, so the first full match is the one the router
would have found. Anything else (no route matches fully: 404, 405, a redirect of the
trailing slash) is left to the router itself, as is every request when FastAPI's own
telemetry is on (it records the matched route as the router selects it).
"""

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match, Route, get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

Key = tuple[str, ...]


def _key(path: str) -> Key:
    """The first two segments of a path: "/v1/fees/invoices" -> ("v1", "fees")."""
    return tuple(path.split("/", 3)[1:3])


def _literal_key(route: BaseRoute) -> Key | None:
    """The key of every path the route can match, or None when it has none (a parameter in
    its first two segments, a path parameter that spans segments, or not a plain route)."""
    if not isinstance(route, Route):
        return None
    key = _key(route.path)
    if any("{" in segment for segment in key) or ":path}" in route.path:
        return None
    return key


class RouteIndex:
    """The router's dispatch (`router.middleware_stack`), trying only the routes that can
    match the request's path; the router's own dispatch for everything else."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: ASGIApp = router.middleware_stack
        self._seen: tuple[int, BaseRoute | None] = (-1, None)
        self._buckets: dict[Key, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []

    def _build(self) -> None:
        routes = self.router.routes
        keys = [_literal_key(route) for route in routes]
        buckets: dict[Key, list[BaseRoute]] = {key: [] for key in keys if key is not None}
        anywhere: list[BaseRoute] = []
        for route, key in zip(routes, keys, strict=True):
            for bucket_key, bucket in buckets.items():
                if key is None or key == bucket_key:
                    bucket.append(route)
            if key is None:
                anywhere.append(route)
        self._buckets, self._anywhere = buckets, anywhere
        self._seen = (len(routes), routes[-1] if routes else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "fastapi.telemetry" in scope:
            await self.fallback(scope, receive, send)
            return
        routes = self.router.routes
        if self._seen != (len(routes), routes[-1] if routes else None):  # routes added since
            self._build()
        for route in self._buckets.get(_key(get_route_path(scope)), self._anywhere):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                # As the router does with a full match (its form limits are none: see install).
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def install_route_index(router: APIRouter) -> None:
    """Dispatch the router's requests through a RouteIndex. Not when the router sets form
    limits of its own (the router applies them to the request as it dispatches)."""
    if not router.form_limits:
        router.middleware_stack = RouteIndex(router)
