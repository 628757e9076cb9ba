"""Logs, metrics and response headers every request gets.

- One structured JSON log line per request: request id, principal, route template,
  method, status, duration. Never a body, a query string or a path parameter, so never
  personal data (a child's name can only ever be in a body).
- Prometheus metrics at /metrics: request latency by route, match runs, fee lines raised.
- Security headers, `Cache-Control: no-store` (children's data must not sit in caches), and
  the request id echoed as `X-Request-ID`.
"""

import logging
import re
import sys
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export import SpanExporter

REQUEST_ID_HEADER = "X-Request-ID"
access_log = logging.getLogger("adoption_register.access")

REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# The API sends JSON only; the interactive docs and the sign-in page need a little more.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP_BASE = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' "
    "'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_CSP = PAGE_CSP_BASE
PAGES = ("/docs", "/redoc", "/oauth/authorize", "/account/")


def page_csp(form_action_origins: Sequence[str] = ()) -> str:
    """The pages' policy; `form-action` also allows the given origins. The sign-in page
    submits to itself and is then redirected to the client's redirect URI, and browsers
    (Chromium) hold that redirect to `form-action` too: a route names its client's origins,
    and only them, and sets this as its response's Content-Security-Policy (kept as is)."""
    extra = "".join(f" {origin}" for origin in dict.fromkeys(form_action_origins))
    return PAGE_CSP_BASE + extra


_SECRETS = (
    # JWTs (access tokens, client assertions) wherever they appear.
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted]"),
    # Credentials in Authorization headers.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # Named values in dict reprs, JSON, forms and query strings ('refresh_token': '...', code=...).
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|id_token|client_secret|code_verifier|code|password|assertion)"
            r"(['\"]?\s*[:=]\s*['\"]?)([^'\"&\s,;})]+)"
        ),
        r"\1\2[redacted]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Removes token and secret values from a record before any handler sees it. Authlib, for
    one, logs every token it issues at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it when emitting
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_redaction = RedactSecrets()


def install_secret_redaction() -> None:
    """On the root logger, and in the record factory: a filter on a logger does not see
    records its children propagate, and handlers may be added later (by a test, a library),
    but every record, at every level, is made by the factory."""
    root = logging.getLogger()
    if _redaction not in root.filters:
        root.addFilter(_redaction)
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redaction.filter(record)
        return record

    redacting_factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on standard output, for the platform's log collector."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    install_secret_redaction()


def plain_request_id(supplied: str | None) -> str:
    """A caller's id only if it is short and plain (safe to log and store); else a new one."""
    if supplied and 0 < len(supplied) <= 64 and supplied.replace("-", "").isalnum():
        return supplied
    return str(uuid.uuid4())


# Response headers of every service, as ASGI sends them.
_SECURITY_HEADER_BYTES = tuple((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class RequestObservation:
    """Pure ASGI middleware of every service (the register's APIs and the adopters' app):
    request id, security headers, no caching, one JSON log line and one latency sample per
    request.

    `csp` is the service's Content-Security-Policy, `page_csp` the one of the paths starting
    with `pages` (a response that sets its own policy keeps it); paths starting with
    `cacheable` (static files) are not marked no-store. The log line names `service` and
    holds the route template only: never a query string (it holds filters), a body or a
    path parameter, so never personal data."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        csp: str,
        hsts: bool,
        page_csp: str | None = None,
        pages: tuple[str, ...] = (),
        cacheable: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.service = service
        self.csp = (b"content-security-policy", csp.encode())
        self.page_csp = (b"content-security-policy", (page_csp or csp).encode())
        self.pages = pages
        self.cacheable = cacheable
        self.fixed = (*_SECURITY_HEADER_BYTES, *((_HSTS,) if hsts else ()))
        # prometheus_client validates labels on every `labels()` call: one child per label set.
        self._samples: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = plain_request_id(supplied.decode("latin-1"))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(self.fixed)
                path = scope["path"]
                if b"content-security-policy" not in present:  # a page's own (page_csp()) is kept
                    headers.append(self.page_csp if self.pages and path.startswith(self.pages) else self.csp)
                if b"cache-control" not in present and not (self.cacheable and path.startswith(self.cacheable)):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, status)
            sample = self._samples.get(key)
            if sample is None:
                sample = self._samples[key] = REQUEST_SECONDS.labels(scope["method"], route, str(status))
            sample.observe(seconds)
            if access_log.isEnabledFor(logging.INFO):
                principal = scope["state"].get("principal")
                access_log.info(
                    "request",
                    extra={
                        "service": self.service,
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "principal": principal.audit_name if principal is not None else None,
                    },
                )


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def enable_tracing(app: "FastAPI", service_name: str, exporter: "SpanExporter | None" = None) -> None:
    """OpenTelemetry spans for every request (switched on by TRACING_ENABLED), exported over
    OTLP to the collector named by the standard OTEL_EXPORTER_OTLP_* variables. Health
    checks and metrics scrapes are left out."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics")
