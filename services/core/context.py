"""The unit of work of one request: who calls, under which request id, in which transaction.

Routes ask for a context through `requires(Scope..., subjects=...)`, usually by one of the
named aliases in `services/permissions.py`. That one dependency checks the token, its scopes
and the kind of caller, opens the request's single transaction and commits it before the
response is sent (so a failed commit can never follow a 2xx, and a client's next read always
sees its write).
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.params import Security as SecurityParam
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction, record_audit
from services.core.auth import Principal, Scope, Subject, authenticate
from services.core.database import set_request_context
from services.core.errors import Forbidden
from services.core.observability import REQUEST_ID_HEADER, plain_request_id

ANYONE = frozenset(Subject)
STAFF = frozenset({Subject.NATIONAL, Subject.AGENCY})
NATIONAL = frozenset({Subject.NATIONAL})
ADOPTERS = frozenset({Subject.ADOPTER})

_SUBJECT_NAMES = {STAFF: "agency staff", NATIONAL: "the national register team", ADOPTERS: "adopters"}


@dataclass(frozen=True)
class RequestContext:
    session: AsyncSession
    principal: Principal
    request_id: str
    route: str

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


@cache
def _context_for(subjects: frozenset[Subject]) -> Callable[..., AsyncIterator[RequestContext]]:
    """One dependency per set of allowed subjects (cached, so FastAPI shares its value
    between a route and the loaded-object dependencies that ask for the same alias)."""

    async def request_context(
        request: Request, principal: Annotated[Principal, Security(authenticate)]
    ) -> AsyncIterator[RequestContext]:
        if principal.kind not in subjects:
            raise Forbidden(
                f"This is for {_SUBJECT_NAMES.get(subjects, ', '.join(sorted(subjects)))}.",
                extra={"error": "subject_not_allowed", "allowed_subjects": sorted(subjects)},
            )
        route = request.scope.get("route")
        route_path = getattr(route, "path", request.url.path)
        async with request.app.state.sessionmaker() as session, session.begin():
            rid = request_id_of(request)
            await set_request_context(session, principal=principal.audit_name, request_id=rid)
            yield RequestContext(
                session=session, principal=principal, request_id=rid, route=f"{request.method} {route_path}"
            )

    return request_context


def requires(*scopes: Scope, subjects: frozenset[Subject] = ANYONE) -> Any:
    """The dependency of every route: a RequestContext for a token holding all of `scopes`,
    held by one of `subjects`.

    scope="function" ends the transaction when the route function returns, before the
    response is sent; FastAPI's default ends a yield dependency after the response.
    """
    return SecurityParam(dependency=_context_for(subjects), scopes=[s.value for s in scopes], scope="function")
