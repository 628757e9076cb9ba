"""Every error leaves the service as `application/problem+json` (RFC 9457).

Domain code raises a `ProblemError` subclass that carries its status and a stable `type`;
the handlers here are the only place an error becomes an HTTP response.
"""

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://adoption-register.example/problems/"


class ProblemError(Exception):
    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self, detail: str, *, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidInput(ProblemError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "stale-version", "The record has changed since you read it"


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "if-match-required", "Updates need an If-Match header"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication is required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "The service is temporarily unavailable"


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is sent."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


_PROBLEM_SCHEMA = Problem.model_json_schema()
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}}
    for status, description in (
        (400, "Bad request"),
        (401, "No valid access token"),
        (403, "Missing scope, or not your agency's record"),
        (404, "No such record"),
        (405, "Method not allowed"),
        (409, "Conflicts with the record's state"),
        (412, "The record changed since you read it"),
        (413, "Request too large"),
        (422, "Invalid input; the fields are listed"),
        (428, "If-Match required"),
        (429, "Too many attempts"),
        (500, "Internal error (nothing was changed)"),
        (503, "The database is unreachable; try again"),
    )
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    # Extras come from domain code (a Decimal sum, a date): encode them as every response is.
    body.update(jsonable_encoder(extra))
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"], "code": error["type"]}
        for error in exc.errors()
    ]


_HTTP_SLUGS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "request-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def _sqlstate(exc: DBAPIError) -> str:
    original = getattr(exc.orig, "__cause__", None) or exc.orig
    return str(getattr(original, "sqlstate", "") or "")


# SQLSTATE classes that mean the database could not do the work now, not that the request or
# the code was wrong: connection exceptions (08), transaction rollbacks such as deadlocks (40),
# insufficient resources (53), operator intervention: shutting down, restarting, statement
# timeout (57), system errors (58). A retry may well succeed, so: 503 with Retry-After.
_UNAVAILABLE_CLASSES = ("08", "40", "53", "57", "58")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _domain(request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.slug, exc.title, exc.detail, request.url.path, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            InvalidInput.slug,
            InvalidInput.title,
            "One or more fields are missing or not valid.",
            request.url.path,
            errors=_field_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
        return problem(
            exc.status_code, slug, str(exc.detail), str(exc.detail), request.url.path, dict(exc.headers or {})
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # Another request changed the row between our read and our write.
        return problem(
            412,
            PreconditionFailed.slug,
            PreconditionFailed.title,
            "The record was changed by someone else meanwhile; read it again.",
            request.url.path,
        )

    @app.exception_handler(UnicodeError)
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value PostgreSQL cannot take (a NUL character, half a surrogate pair, a number out
        # of range), or date arithmetic past year 9999: the caller's input, not our failure.
        return problem(
            422,
            InvalidInput.slug,
            InvalidInput.title,
            "A value in the request cannot be stored (for example a NUL character or a number out of "
            "range); nothing was changed.",
            request.url.path,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # The API validates first; a constraint that still fires is a conflict with stored data.
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        log.warning("integrity error on %s: constraint %s", request.url.path, constraint)
        return problem(
            409,
            Conflict.slug,
            Conflict.title,
            "The change conflicts with data already stored and was not saved.",
            request.url.path,
            constraint=constraint,
        )

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable on %s: %s", request.url.path, type(exc.orig).__name__)
        return problem(
            503,
            ServiceUnavailable.slug,
            ServiceUnavailable.title,
            "The database is not reachable; nothing was changed. Try again shortly.",
            request.url.path,
            {"Retry-After": "5"},
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for pool_timeout: overloaded, not broken.
        log.warning("no database connection free within the pool timeout on %s", request.url.path)
        return problem(
            503,
            ServiceUnavailable.slug,
            ServiceUnavailable.title,
            "The service is too busy to take this request; nothing was changed. Try again shortly.",
            request.url.path,
            {"Retry-After": "2"},
        )

    @app.exception_handler(OSError)
    async def _db_unreachable(request: Request, exc: OSError) -> JSONResponse:
        # Connecting to a stopped or restarting server fails at once: say so, and soon.
        log.error("database unreachable on %s: %s", request.url.path, type(exc).__name__)
        return problem(
            503,
            ServiceUnavailable.slug,
            ServiceUnavailable.title,
            "The database is not reachable; nothing was changed. Try again shortly.",
            request.url.path,
            {"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if (
            exc.connection_invalidated
            or isinstance(exc.orig, OSError)
            or _sqlstate(exc).startswith(_UNAVAILABLE_CLASSES)
        ):
            return await _db_unreachable(request, OSError(type(exc.orig).__name__))
        if _sqlstate(exc).startswith("22"):  # class 22, data exception: the value sent was the problem
            return await _unstorable(request, exc)
        log.error("database error on %s: %s", request.url.path, type(exc.orig).__name__)
        return problem(
            500, "internal-error", "Internal error", "The request failed and nothing was changed.", request.url.path
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(
            500, "internal-error", "Internal error", "The request failed and nothing was changed.", request.url.path
        )
