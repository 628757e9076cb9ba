"""The adopters' password pages, on the register itself: a password is only ever typed here
(and on the sign-in page), never in a client app.

- `/account/invitation/{token}`: the first password, from the agency's invitation link;
- `/account/forgot`: asks for a reset link (the same answer whether or not the address has
  an account; rate-limited per address asked for and per caller);
- `/account/reset/{token}`: a new password, from the reset link; signs out everywhere.

Plain HTML that works without JavaScript, in the sign-in page's style and with its security
headers (`core/observability.py`), each form with a CSRF token (`oauth/pages.py`).
"""

import html
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from services.core.context import request_id_of
from services.core.errors import ERROR_RESPONSES
from services.core.http import client_address
from services.core.observability import page_csp
from services.core.settings import Settings
from services.register.accounts import service
from services.register.accounts.schemas import Email
from services.register.accounts.service import INVITATION, PASSWORD_RESET, TokenNotUsable
from services.register.oauth.accounts import MIN_PASSWORD_LENGTH
from services.register.oauth.pages import CSRF_FIELD, csrf_field, csrf_ok, new_csrf_token, page, with_csrf_cookie
from services.register.oauth.rate_limit import Attempt, account_key, address_key, begin_attempt
from services.register.oauth.router import OAuthSession

router = APIRouter(tags=["adopter accounts"], include_in_schema=False, responses=ERROR_RESPONSES)

MAX_PASSWORD_LENGTH = 1000
TITLES = {INVITATION: "Choose your password", PASSWORD_RESET: "Choose a new password"}
DONE_TEXT = "Your password is set. You can now sign in from your adopters' app."


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _form_action_origins(request: Request) -> list[str]:
    """The adopters' app's origin: a password form, once accepted, is redirected there, and
    browsers (Chromium) hold that redirect to the page's `form-action`."""
    parts = urlsplit(_settings(request).adopter_app_url or "")
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme in ("http", "https") and parts.netloc else []


def _html(request: Request, title: str, body: str, status_code: int = 200, **headers: str) -> HTMLResponse:
    """A page whose forms carry a fresh CSRF token (the same value as its cookie)."""
    token = new_csrf_token()
    response = HTMLResponse(page(title, body.replace("{csrf}", csrf_field(token))), status_code=status_code)
    response.headers["Content-Security-Policy"] = page_csp(_form_action_origins(request))
    response.headers.update(headers)
    return with_csrf_cookie(response, token, secure=_settings(request).environment == "production")


def _alert(message: str | None) -> str:
    return f'<p role="alert" id="error">{html.escape(message)}</p>' if message else ""


def _password_form(request: Request, purpose: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    described = "error password-hint" if error else "password-hint"
    invalid = ' aria-invalid="true"' if error else ""
    body = f"""{_alert(error)}
<form method="post" action="{html.escape(request.url.path)}">{{csrf}}
<label for="password">New password</label>
<p class="hint" id="password-hint">At least {MIN_PASSWORD_LENGTH} characters. A few words you will remember
make a good password.</p>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="{MIN_PASSWORD_LENGTH}"
 maxlength="{MAX_PASSWORD_LENGTH}" required aria-describedby="{described}"{invalid}>
<label for="confirm">Type the password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Set password</button></form>"""
    return _html(request, TITLES[purpose], body, status_code)


def _unusable(request: Request, purpose: str, message: str) -> HTMLResponse:
    again = (
        '<p><a href="/account/forgot">Ask for a new link</a></p>'
        if purpose == PASSWORD_RESET
        else "<p>Please ask your adoption agency to send you a new invitation.</p>"
    )
    return _html(request, "This link cannot be used", f"<p>{html.escape(message)}</p>{again}", 410)


def _done(request: Request) -> Response:
    app_url = _settings(request).adopter_app_url
    if app_url:
        return RedirectResponse(app_url, status_code=303)
    return _html(request, "Password set", f"<p>{html.escape(DONE_TEXT)}</p>")


def _expired_form(request: Request) -> HTMLResponse:
    return _html(
        request,
        "Please try again",
        '<p role="alert">This form has expired. Please go back, reload the page and try again.</p>',
        400,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _password_page(request: Request, session: OAuthSession, token: str, purpose: str) -> Response:
    try:
        await service.usable_token(session, token, purpose)
    except TokenNotUsable as exc:
        return _unusable(request, purpose, exc.detail)
    return _password_form(request, purpose)


async def _set_password(request: Request, session: OAuthSession, token: str, purpose: str) -> Response:
    form = await _form(request)
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return _expired_form(request)
    password, confirm = form.get("password", ""), form.get("confirm", "")
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = f"Your password must have at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > MAX_PASSWORD_LENGTH or "\x00" in password:
        error = f"Your password must have at most {MAX_PASSWORD_LENGTH} characters."
    elif password != confirm:
        error = "The two passwords are not the same. Please type them again."
    try:
        if error:
            await service.usable_token(session, token, purpose)  # an expired link says so first
            return _password_form(request, purpose, error, 422)
        await service.set_password(session, token, purpose, password, request_id_of(request))
    except TokenNotUsable as exc:
        return _unusable(request, purpose, exc.detail)
    return _done(request)


@router.get("/account/invitation/{token}", response_class=HTMLResponse)
async def invitation_page(request: Request, session: OAuthSession, token: str) -> Response:
    return await _password_page(request, session, token, INVITATION)


@router.post("/account/invitation/{token}", response_class=HTMLResponse)
async def accept_invitation(request: Request, session: OAuthSession, token: str) -> Response:
    return await _set_password(request, session, token, INVITATION)


@router.get("/account/reset/{token}", response_class=HTMLResponse)
async def reset_page(request: Request, session: OAuthSession, token: str) -> Response:
    return await _password_page(request, session, token, PASSWORD_RESET)


@router.post("/account/reset/{token}", response_class=HTMLResponse)
async def reset_password(request: Request, session: OAuthSession, token: str) -> Response:
    return await _set_password(request, session, token, PASSWORD_RESET)


def _forgot_form(request: Request, error: str | None = None, status_code: int = 200, **headers: str) -> HTMLResponse:
    invalid = ' aria-invalid="true" aria-describedby="error"' if error else ""
    body = f"""{_alert(error)}<p>Type the email address you sign in with. We will send a link to choose a new
password to it, if it has an account.</p>
<form method="post" action="/account/forgot">{{csrf}}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" maxlength="254" required{invalid}>
<button type="submit">Send me a link</button></form>"""
    return _html(request, "Forgot your password?", body, status_code, **headers)


async def _reset_attempt(request: Request) -> Attempt | None:
    """Every reset request counts (a success as much as a failure), per address asked for and
    per caller, in their own keys (not the sign-in's), before the request's own session."""
    form = await _form(request)
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return None
    return await begin_attempt(
        request.app.state.sessionmaker,
        _settings(request),
        address="reset-" + address_key(client_address(request)),
        account="reset-" + account_key(form.get("email", "")),
    )


ResetAttempt = Annotated[Attempt | None, Depends(_reset_attempt)]


@router.get("/account/forgot", response_class=HTMLResponse)
async def forgot_page(request: Request) -> Response:
    return _forgot_form(request)


@router.post("/account/forgot", response_class=HTMLResponse)
async def forgot(request: Request, attempt: ResetAttempt, session: OAuthSession) -> Response:
    if attempt is None:
        return _expired_form(request)
    if not attempt.allowed:
        return _forgot_form(
            request,
            "You have asked for too many links. Please wait a few minutes and try again.",
            429,
            **{"Retry-After": str(attempt.retry_after_seconds)},
        )
    email = (await _form(request)).get("email", "").strip()
    if not _valid_email(email):
        return _forgot_form(request, "Enter an email address, like name@example.com.", 422)
    await service.request_reset(session, _settings(request), email)
    return _html(
        request,
        "Check your email",
        "<p>If there is an account for that address, we have sent it a link to choose a new password. "
        "The link works once, for 1 hour.</p><p>If nothing arrives in a few minutes, check your spam folder, "
        'or <a href="/account/forgot">ask again</a>.</p>',
    )


_EMAIL = TypeAdapter(Email)


def _valid_email(value: str) -> bool:
    try:
        _EMAIL.validate_python(value)
    except ValidationError:
        return False
    return True
