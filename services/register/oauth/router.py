"""HTTP for the authorisation server: token, authorize (login and consent), revoke,
metadata (RFC 8414) and the public keys (JWKS).

OAuth errors follow RFC 6749 (`error`, `error_description`, `application/json`), which
client libraries expect; the body also carries the RFC 9457 fields every other error has.
"""

import base64
import html
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import Scope
from services.core.context import request_id_of
from services.core.database import set_request_context
from services.core.errors import ERROR_RESPONSES, TYPE_BASE
from services.core.http import client_address
from services.core.observability import page_csp
from services.core.settings import Settings
from services.register.oauth import keys
from services.register.oauth import repository as oauth_repository
from services.register.oauth.accounts import authenticate_adopter
from services.register.oauth.models import OAuthClient
from services.register.oauth.pages import page as _page
from services.register.oauth.rate_limit import (
    Attempt,
    account_key,
    address_key,
    attempt_succeeded,
    begin_attempt,
)
from services.register.oauth.schemas import (
    HTML_PAGE,
    AuthorizeForm,
    AuthorizeQuery,
    RevokeForm,
    TokenForm,
    TokenResponse,
    form_body,
    oauth_errors,
    query_parameters,
)
from services.register.oauth.server import FormRequest, RegisterServer

router = APIRouter(tags=["oauth"], responses=ERROR_RESPONSES)

SCOPE_DESCRIPTIONS = {
    Scope.PROFILES_READ.value: "See anonymised profiles of children waiting for a family",
    Scope.INTERESTS_WRITE.value: "Tell agencies your household is interested in a child",
    Scope.FAMILY_PROFILE_WRITE.value: "Write your family's profile and send it to your agency",
    Scope.SUPPORT_REQUEST.value: "Ask for adoption support and see your family's support",
    Scope.SCORECARDS_READ.value: "See how agencies are doing (published figures)",
}


async def oauth_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session, session.begin():
        await set_request_context(session, principal="oauth:anonymous", request_id=request_id_of(request))
        yield session


# Committed before the response: a token is never handed out for rows that were not stored.
OAuthSession = Annotated[AsyncSession, Depends(oauth_session, scope="function")]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _values(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    if request.method == "POST":
        form = await request.form()
        for key, field in form.multi_items():
            if isinstance(field, str):
                values.setdefault(key, []).append(field)
    return values


def _oauth_request(request: Request, values: dict[str, list[str]]) -> FormRequest:
    # The public URL (https behind the ingress), not the one the app sees behind TLS.
    uri = _settings(request).token_issuer.rstrip("/") + request.url.path
    return FormRequest(request.method, uri, request.headers, values)  # case-insensitive


async def _with_server(session: AsyncSession, settings: Settings, work: Callable[[RegisterServer], Any]) -> Any:
    key = await keys.signing_key(session)
    return await session.run_sync(lambda sync_session: work(RegisterServer(sync_session, settings, key)))


def _oauth_json(status: int, body: Any, headers: dict[str, str]) -> JSONResponse:
    if isinstance(body, dict) and "error" in body:
        body = {
            **body,
            "type": TYPE_BASE + "oauth-" + body["error"].replace("_", "-"),
            "title": body["error"],
            "status": status,
            "detail": body.get("error_description", body["error"]),
        }
    return JSONResponse(
        body if body != "" else {},
        status_code=status,
        headers={**headers, "Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _too_many(attempt: Attempt) -> JSONResponse:
    return _oauth_json(
        429,
        {"error": "invalid_request", "error_description": "Too many failed attempts; try again later."},
        {"Retry-After": str(attempt.retry_after_seconds)},
    )


async def _token_attempt(request: Request) -> Attempt:
    values = await _values(request)  # Starlette keeps the parsed form: the route reads it again
    client_id = _basic_client_id(request) or next(iter(values.get("client_id", [])), None)
    return await begin_attempt(
        request.app.state.sessionmaker,
        _settings(request),
        address=address_key(client_address(request)),
        client_id=client_id,
    )


async def _sign_in_attempt(request: Request) -> Attempt | None:
    values = await _values(request)
    if (values.get("decision") or ["deny"])[0] != "allow":
        return None
    return await begin_attempt(
        request.app.state.sessionmaker,
        _settings(request),
        address=address_key(client_address(request)),
        account=account_key((values.get("email") or [""])[0]),
    )


# Declared before the session in each route, so counting finishes before the request's own
# connection is taken (FastAPI resolves dependencies in order).
TokenAttempt = Annotated[Attempt, Depends(_token_attempt)]
SignInAttempt = Annotated[Attempt | None, Depends(_sign_in_attempt)]


def _basic_client_id(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(header[6:]).decode().split(":", 1)[0]
    except (ValueError, UnicodeDecodeError):
        return None


@router.post(
    "/oauth/token",
    openapi_extra=form_body(TokenForm),
    responses={200: {"model": TokenResponse, "description": "Tokens"}, **oauth_errors(400, 401, 429)},
)
async def token(request: Request, attempt: TokenAttempt, session: OAuthSession) -> Response:
    """Client credentials; authorisation code with PKCE (S256); refresh token (rotated)."""
    settings = _settings(request)
    values = await _values(request)
    if not attempt.allowed:
        return _too_many(attempt)
    status, body, headers = await _with_server(
        session, settings, lambda server: server.create_token_response(_oauth_request(request, values))
    )
    if not (isinstance(body, dict) and body.get("error") in ("invalid_client", "invalid_grant")):
        await attempt_succeeded(session, attempt)
    return _oauth_json(status, body, headers)


@router.post(
    "/oauth/revoke",
    openapi_extra=form_body(RevokeForm),
    responses={
        200: {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "Revoked, or not a token of this client (RFC 7009)",
        },
        **oauth_errors(400, 401),
    },
)
async def revoke(request: Request, session: OAuthSession) -> Response:
    """RFC 7009: revokes a refresh token and every token rotated from the same grant."""
    values = await _values(request)
    status, body, headers = await _with_server(
        session,
        _settings(request),
        lambda server: server.create_endpoint_response("revocation", _oauth_request(request, values)),
    )
    return _oauth_json(status, body, headers)


def _error_redirect_or_page(error: OAuth2Error) -> Response:
    if error.redirect_uri:
        params = {"error": error.error, "error_description": error.description or error.error}
        if error.state:
            params["state"] = error.state
        separator = "&" if "?" in error.redirect_uri else "?"
        return RedirectResponse(error.redirect_uri + separator + urlencode(params), status_code=302)
    return HTMLResponse(
        _page("Sign-in request not valid", f"<p role='alert'>{html.escape(error.description or error.error)}</p>"),
        status_code=400,
    )


REDIRECT = {"description": "Back to the client's redirect URI, with a code or an error"}


def _redirect_origins(client: OAuthClient) -> list[str]:
    """The web origins of the client's registered redirect URIs (http and https only)."""
    origins = []
    for uri in client.redirect_uris:
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def _csp_for(client: OAuthClient) -> dict[str, str]:
    """The sign-in page's policy for this client: its form may lead to the client's own
    redirect URIs (and no other client's)."""
    return {"Content-Security-Policy": page_csp(_redirect_origins(client))}


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    openapi_extra=query_parameters(AuthorizeQuery),
    responses={302: REDIRECT, 400: {**HTML_PAGE, "description": "Not a valid sign-in request"}},
)
async def authorize_page(request: Request, session: OAuthSession) -> Response:
    """The adopters' sign-in and consent page."""
    values = await _values(request)
    try:
        grant = await _with_server(
            session, _settings(request), lambda server: server.get_consent_grant(_oauth_request(request, values))
        )
    except OAuth2Error as error:
        return _error_redirect_or_page(error)
    return HTMLResponse(
        _login_form(values, grant.client.name, grant.request.payload.scope or ""), headers=_csp_for(grant.client)
    )


@router.post(
    "/oauth/authorize",
    response_class=HTMLResponse,
    openapi_extra=form_body(AuthorizeForm),
    responses={
        302: REDIRECT,
        400: {**HTML_PAGE, "description": "Not a valid sign-in request"},
        401: {**HTML_PAGE, "description": "The sign-in page again: email or password not right"},
        429: {**HTML_PAGE, "description": "The sign-in page again: too many failed attempts"},
    },
)
async def authorize(request: Request, attempt: SignInAttempt, session: OAuthSession) -> Response:
    settings = _settings(request)
    values = await _values(request)
    email = (values.get("email") or [""])[0]
    password = (values.get("password") or [""])[0]
    decision = (values.get("decision") or ["deny"])[0]
    oauth_values = {k: v for k, v in values.items() if k not in ("email", "password", "decision")}
    try:
        grant = await _with_server(
            session, settings, lambda server: server.get_consent_grant(_oauth_request(request, oauth_values))
        )
    except OAuth2Error as error:
        return _error_redirect_or_page(error)
    scope = grant.request.payload.scope or ""
    account = None
    if decision == "allow" and attempt is not None:
        if not attempt.allowed:
            return HTMLResponse(
                _login_form(
                    oauth_values, grant.client.name, scope, "Too many failed attempts. Please wait a few minutes."
                ),
                status_code=429,
                headers={"Retry-After": str(attempt.retry_after_seconds), **_csp_for(grant.client)},
            )
        account = await authenticate_adopter(session, email, password)
        if account is not None:
            await attempt_succeeded(session, attempt)
        else:
            return HTMLResponse(
                _login_form(oauth_values, grant.client.name, scope, "The email or password is not right."),
                status_code=401,
                headers=_csp_for(grant.client),
            )

    def respond(server: RegisterServer) -> tuple[int, Any, dict]:
        req = _oauth_request(request, oauth_values)
        return server.create_authorization_response(req, grant_user=account, grant=server.get_consent_grant(req))

    status, _, headers = await _with_server(session, settings, respond)
    return Response(status_code=status, headers={**headers, **_csp_for(grant.client)})


@router.get("/.well-known/jwks.json")
async def jwks(session: OAuthSession) -> JSONResponse:
    """Public keys of every signing key not yet retired."""
    keyset = keys.public_keyset(await oauth_repository.active_keys(session))
    return JSONResponse(
        keyset.as_dict(private=False), headers={"Cache-Control": f"public, max-age={keys.JWKS_MAX_AGE_SECONDS}"}
    )


@router.get("/.well-known/oauth-authorization-server")
async def metadata(request: Request) -> JSONResponse:
    """RFC 8414 authorisation server metadata."""
    issuer = _settings(request).token_issuer.rstrip("/")
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "scopes_supported": [s.value for s in Scope],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


def _login_form(values: dict[str, list[str]], client_name: str, scope: str, error: str | None = None) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v[0])}">' for k, v in values.items() if v
    )
    scopes = "".join(f"<li>{html.escape(SCOPE_DESCRIPTIONS.get(s, s))}</li>" for s in scope.split())
    alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""{alert}<p><strong>{html.escape(client_name)}</strong> asks to:</p><ul>{scopes}</ul>
<form method="post" action="/oauth/authorize">{hidden}
<label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="allow">Sign in and allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></form>
<p><a href="/account/forgot">Forgot your password?</a></p>"""
    return _page("Sign in to the adoption register", body)
