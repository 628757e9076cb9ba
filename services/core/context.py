"""The unit of work of one request: who calls, under which request id, in which transaction.

Routes ask for a context through `requires(Scope..., subjects=...)`, usually by one of the
named aliases in `services/permissions.py`. That one dependency checks the token, its scopes
and the kind of caller, and gives the route its session:

- a read (GET, HEAD: safe by HTTP's definition) runs each statement on its own, in
  autocommit: no BEGIN, no request context, no COMMIT, so a list is one round trip. Reads
  write no versioned row, so the history triggers' context is not needed; an audit row
  carries the principal and request id as values, and is written by the read's own
  statement (one statement is atomic) or flushed before the response;
- a write (every other method) runs in the request's single transaction, which begins with
  the request context (who writes, for the history triggers) and commits before the
  response is sent (so a failed commit can never follow a 2xx, and a client's next read
  always sees its write).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.params import Security as SecurityParam
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from services.core.audit import AuditAction, record_audit
from services.core.auth import OAUTH2_SCHEME, Principal, Scope, Subject, authenticate
from services.core.database import set_request_context
from services.core.errors import Forbidden
from services.core.observability import REQUEST_ID_HEADER, plain_request_id

ANYONE = frozenset(Subject)
STAFF = frozenset({Subject.NATIONAL, Subject.AGENCY})
NATIONAL = frozenset({Subject.NATIONAL})
ADOPTERS = frozenset({Subject.ADOPTER})

_SUBJECT_NAMES = {STAFF: "agency staff", NATIONAL: "the national register team", ADOPTERS: "adopters"}


class RequestContext:
    """Who calls, under which request id and route, and the request's unit of work.

    A write's session is begun with the request. A read's is made when first used, and a
    hot read that needs only a connection (`connection()`, for `core.database.fetch`) borrows
    a pooled connection for its statements alone, without an ORM session: making, beginning
    and closing a session cost ~150 us of a read's CPU."""

    def __init__(
        self,
        *,
        principal: Principal,
        request_id: str,
        route: str,
        session: AsyncSession | None = None,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        assert session is not None or sessionmaker is not None
        self.principal = principal
        self.request_id = request_id
        self.route = route
        self._session = session
        self._sessionmaker = sessionmaker

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._sessionmaker is not None
            self._session = self._sessionmaker()
        return self._session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads run by the driver (`core.database.fetch`), given back to the
        pool when the block ends: under load the pool's few connections are what requests
        queue for (`core/pool.py`), so none is held while a request builds and sends its
        answer. Use no session inside the block (it would take a second connection). A
        request that has a session (a write, or a read that used one) reads on the session's
        connection."""
        engine = self._sessionmaker.kw.get("bind") if self._sessionmaker is not None else None
        if self._session is not None or not isinstance(engine, AsyncEngine):
            # A session's connection, or (a test's) one the session joins: through the session.
            yield await self.session.connection()
            return
        async with engine.connect() as connection:
            yield connection

    async def _finish_read(self) -> None:
        """Before the response: what a read added to its session (audit rows) is written."""
        if self._session is not None:
            await self._session.commit()

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def audit(self, action: AuditAction, resource_type: StrEnum, resource_ref: str) -> None:
        record_audit(
            self.session,
            principal=self.principal.audit_name,
            action=action,
            resource_type=resource_type,
            resource_ref=resource_ref,
            request_id=self.request_id,
            route=self.route,
        )


def request_id_of(request: Request) -> str:
    """Set by the observation middleware for every request."""
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = plain_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.state.request_id = rid
    return rid


READS = frozenset({"GET", "HEAD"})


class _Context(SecurityBase):
    """The dependency of the routes allowed to one set of subjects: one FastAPI dependency
    that authenticates (bearer token, scopes, kind of caller) and opens the unit of work, so
    each request resolves one node instead of a chain. It is the OAuth2 security scheme as
    well, so the OpenAPI document still lists each operation's scopes."""

    def __init__(self, subjects: frozenset[Subject]) -> None:
        self.model = OAUTH2_SCHEME.model
        self.scheme_name = OAUTH2_SCHEME.scheme_name
        self.subjects = subjects

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> AsyncIterator[RequestContext]:
        principal = await authenticate(request, security_scopes)
        if principal.kind not in self.subjects:
            raise Forbidden(
                f"This is for {_SUBJECT_NAMES.get(self.subjects, ', '.join(sorted(self.subjects)))}.",
                extra={"error": "subject_not_allowed", "allowed_subjects": sorted(self.subjects)},
            )
        route = request.scope.get("route")
        route_path = route.path if route is not None else request.url.path
        rid = request_id_of(request)
        state = request.app.state
        route_name = f"{request.method} {route_path}"
        if request.method in READS:
            read = RequestContext(
                principal=principal, request_id=rid, route=route_name, sessionmaker=state.read_sessionmaker
            )
            try:
                yield read
                await read._finish_read()
            finally:
                await read._close()
            return
        async with state.sessionmaker() as session, session.begin():
            await set_request_context(session, principal=principal.audit_name, request_id=rid)
            yield RequestContext(session=session, principal=principal, request_id=rid, route=route_name)


@cache
def _context_for(subjects: frozenset[Subject]) -> _Context:
    """One dependency per set of allowed subjects (cached, so FastAPI shares its value
    between a route and the loaded-object dependencies that ask for the same alias)."""
    return _Context(subjects)


def requires(*scopes: Scope, subjects: frozenset[Subject] = ANYONE) -> Any:
    """The dependency of every route: a RequestContext for a token holding all of `scopes`,
    held by one of `subjects`.

    scope="function" ends the unit of work when the route function returns, before the
    response is sent; FastAPI's default ends a yield dependency after the response.
    """
    return SecurityParam(dependency=_context_for(subjects), scopes=[s.value for s in scopes], scope="function")
