"""The unit of work of one request: who calls, under which request id, in which transaction.

Routes ask for `requires(Scope...)`: that one dependency checks the token and scopes, opens
the request's single transaction and commits it before the response is sent (so a failed
commit can never follow a 2xx, and a client's next read always sees its write).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.params import Security as SecurityParam
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit import AuditAction, record_audit
from services.core.auth import Principal, Scope, authenticate
from services.core.database import set_request_context
from services.core.observability import REQUEST_ID_HEADER, plain_request_id


@dataclass(frozen=True)
class RequestContext:
    session: AsyncSession
    principal: Principal
    request_id: str
    route: str

    def audit(self, action: AuditAction, resource_type: str, resource_ref: str) -> None:
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


async def request_context(
    request: Request, principal: Annotated[Principal, Security(authenticate)]
) -> AsyncIterator[RequestContext]:
    route = request.scope.get("route")
    route_path = getattr(route, "path", request.url.path)
    async with request.app.state.sessionmaker() as session, session.begin():
        rid = request_id_of(request)
        await set_request_context(session, principal=principal.audit_name, request_id=rid)
        yield RequestContext(
            session=session, principal=principal, request_id=rid, route=f"{request.method} {route_path}"
        )


def requires(*scopes: Scope) -> SecurityParam:
    """The dependency of every route: a RequestContext for a token holding all of `scopes`.

    scope="function" ends the transaction when the route function returns, before the
    response is sent; FastAPI's default ends a yield dependency after the response.
    """
    return SecurityParam(dependency=request_context, scopes=[s.value for s in scopes], scope="function")
