"""The pages. HTTP only: reading the request, calling the register through the session,
rendering a template. Every POST checks the CSRF token first."""

import asyncio
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from services.adopter_app import views
from services.adopter_app.register_client import RegisterProblem
from services.adopter_app.sessions import Current, Sessions, SignInFailed, csrf_ok, csrf_token
from services.adopter_app.settings import AppSettings

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals.update(views=views, label=views.label)
TEMPLATES.env.filters["day"] = views.day
MAX_MESSAGE = 2000
# The register's limits on a family profile (register/family_profiles/schemas.py).
MAX_NARRATIVE = 4000
MAX_OFFERS = 12
MAX_OFFER = 120

router = APIRouter()


class NotSignedIn(Exception):
    pass


class CsrfRefused(Exception):
    pass


def _settings(request: Request) -> AppSettings:
    return request.app.state.app_settings


def _sessions(request: Request) -> Sessions:
    return request.app.state.sessions


async def current_session(request: Request) -> Current | None:
    current = await _sessions(request).load(request.cookies.get(_settings(request).cookie_name))
    request.state.current = current
    return current


async def signed_in(request: Request) -> Current:
    current = await current_session(request)
    if current is None or not current.signed_in:
        raise NotSignedIn()
    return current


MaybeSession = Annotated[Current | None, Depends(current_session)]
SignedIn = Annotated[Current, Depends(signed_in)]


async def checked_form(request: Request, current: Current | None) -> FormData:
    """The posted form, once its CSRF token is the session's."""
    form = await request.form()
    supplied = form.get("csrf_token")
    if not csrf_ok(
        _settings(request), current.session_id if current else None, supplied if isinstance(supplied, str) else None
    ):
        raise CsrfRefused()
    return form


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    current: Current | None = getattr(request.state, "current", None)
    signed = current is not None and current.signed_in
    context.update(
        signed_in=signed,
        csrf=csrf_token(_settings(request), current.session_id) if signed and current else "",
    )
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    settings = _settings(request)
    response.set_cookie(
        settings.cookie_name,
        session_id,
        httponly=True,
        secure=not settings.development,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    settings = _settings(request)
    response.delete_cookie(
        settings.cookie_name, path="/", secure=not settings.development, httponly=True, samesite="lax"
    )


async def api(request: Request, current: Current, method: str, path: str, **kwargs: Any) -> Any:
    sessions = _sessions(request)
    token = await sessions.access_token(current)
    response = await sessions.register.call(method, path, token, **kwargs)
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- signing in and out --------------------------------------------------------------------


START_MESSAGES = {
    "signed_out": "You have signed out.",
    "ended": "For your security you have been signed out. Please sign in again.",
    "denied": "You chose not to sign in.",
}


@router.get("/", response_class=HTMLResponse)
async def start(request: Request, current: MaybeSession) -> Response:
    if current is not None and current.signed_in:
        return see_other("/children")
    message = next((text for key, text in START_MESSAGES.items() if key in request.query_params), None)
    return render(request, "start.html", message=message)


@router.get("/sign-in")
async def sign_in(request: Request) -> Response:
    session_id, authorize_url = await _sessions(request).start_sign_in()
    response = see_other(authorize_url)
    set_session_cookie(request, response, session_id)
    return response


@router.get("/callback")
async def callback(request: Request, current: MaybeSession) -> Response:
    query = request.query_params
    if query.get("error"):
        if current is not None and not current.signed_in:
            await _sessions(request).end(current)
        return see_other("/?denied" if query["error"] == "access_denied" else "/?ended")
    try:
        signed = await _sessions(request).finish_sign_in(current, query.get("state", ""), query.get("code", ""))
    except SignInFailed:
        return render(
            request,
            "error.html",
            400,
            title="Sign-in did not work",
            message="This sign-in was started in another window or has expired. Please sign in again.",
            sign_in_again=True,
        )
    response = see_other("/children")
    set_session_cookie(request, response, signed.session_id)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, current: MaybeSession) -> Response:
    await checked_form(request, current)
    assert current is not None  # the CSRF check needs a session
    await _sessions(request).sign_out(current)
    response = see_other("/?signed_out")
    clear_session_cookie(request, response)
    return response


# --- children ------------------------------------------------------------------------------


@router.get("/children", response_class=HTMLResponse)
async def children(request: Request, current: SignedIn) -> Response:
    filters = views.ChildFilters.from_query(request.query_params)
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    problems = list(filters.problems)
    try:
        response = await api(
            request, current, "GET", "/v1/profiles", params=filters.api_params(_settings(request).page_size)
        )
        page = response.json()
    except RegisterProblem as problem:
        problems.append(problem.detail or "Those filters could not be used. Please change them and try again.")
    next_link = "/children?" + urlencode(filters.page_query(page["next_cursor"])) if page.get("next_cursor") else None
    first_link = "/children?" + urlencode(filters.page_query()) if filters.cursor else None
    return render(
        request,
        "children.html",
        filters=filters,
        profiles=page["items"],
        problems=problems,
        next_link=next_link,
        first_link=first_link,
        nav="children",
    )


async def _interest_in(request: Request, current: Current, profile_ref: str) -> dict[str, Any] | None:
    response = await api(request, current, "GET", "/v1/households/me/interests")
    return next((i for i in response.json() if i["profile_ref"] == profile_ref and i["status"] == "open"), None)


async def _child_page(
    request: Request,
    current: Current,
    ref: str,
    *,
    problems: list[str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    if not ref.replace("-", "").isalnum() or len(ref) > 40:
        return not_found(request)
    try:
        profile_response, interest = await asyncio.gather(
            api(request, current, "GET", f"/v1/profiles/{ref}"), _interest_in(request, current, ref)
        )
    except RegisterProblem as problem:
        if problem.status in (404, 422):
            return not_found(request)
        raise
    return render(
        request,
        "child.html",
        status,
        profile=profile_response.json(),
        interest=interest,
        problems=problems or [],
        message=message,
        max_message=MAX_MESSAGE,
        nav="children",
    )


@router.get("/children/{ref}", response_class=HTMLResponse)
async def child(request: Request, current: SignedIn, ref: str) -> Response:
    return await _child_page(request, current, ref)


@router.post("/children/{ref}/interest")
async def express_interest(request: Request, current: SignedIn, ref: str) -> Response:
    form = await checked_form(request, current)
    message = str(form.get("message") or "").strip()
    if len(message) > MAX_MESSAGE:
        return await _child_page(
            request,
            current,
            ref,
            problems=[f"Your message must be {MAX_MESSAGE} characters or fewer."],
            message=message,
            status=400,
        )
    try:
        await api(request, current, "POST", f"/v1/profiles/{ref}/interest", json_body={"message": message})
    except RegisterProblem as problem:
        if problem.status == 404:
            return not_found(request)
        return await _child_page(
            request, current, ref, problems=[problem.detail], message=message, status=problem.status
        )
    return see_other("/interests?expressed")


# --- our interests -------------------------------------------------------------------------


@router.get("/interests", response_class=HTMLResponse)
async def interests(request: Request, current: SignedIn) -> Response:
    response = await api(request, current, "GET", "/v1/households/me/interests")
    items = sorted(response.json(), key=lambda i: i["created_at"], reverse=True)
    notice = None
    if "expressed" in request.query_params:
        notice = "We have told the children's agency that your family is interested."
    elif "withdrawn" in request.query_params:
        notice = "You have withdrawn your interest."
    return render(request, "interests.html", interests=items, notice=notice, problems=[], nav="interests")


@router.post("/interests/{ref}/withdraw")
async def withdraw(request: Request, current: SignedIn, ref: str) -> Response:
    form = await checked_form(request, current)
    version = str(form.get("version") or "")
    if not version.isdigit():
        return see_other("/interests")
    try:
        await api(
            request,
            current,
            "POST",
            f"/v1/households/me/interests/{ref}/withdraw",
            headers={"If-Match": f'"{version}"'},
        )
    except RegisterProblem as problem:
        response = await api(request, current, "GET", "/v1/households/me/interests")
        items = sorted(response.json(), key=lambda i: i["created_at"], reverse=True)
        detail = (
            "This interest changed while you were looking at it. Here it is as it is now."
            if problem.status == 412
            else problem.detail
        )
        return render(request, "interests.html", 409, interests=items, notice=None, problems=[detail], nav="interests")
    return see_other("/interests?withdrawn")


# --- our family's profile ------------------------------------------------------------------


def _offers(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/family-profile", response_class=HTMLResponse)
async def family_profile(request: Request, current: SignedIn) -> Response:
    profile, etag = await _own_profile(request, current)
    notice = None
    if "saved" in request.query_params:
        notice = "Your family's profile is saved."
    elif "submitted" in request.query_params:
        notice = "Your family's profile is saved and sent to your agency for approval."
    return render(
        request,
        "family_profile.html",
        profile=profile,
        etag=etag,
        narrative=(profile or {}).get("narrative", ""),
        offers="\n".join((profile or {}).get("what_we_offer", [])),
        notice=notice,
        problems=[],
        limits=(MAX_NARRATIVE, MAX_OFFERS, MAX_OFFER),
        nav="family",
    )


async def _own_profile(request: Request, current: Current) -> tuple[dict[str, Any] | None, str]:
    """The family's profile and the ETag to send back (none before the first save: the
    register's empty draft has no record yet and its first save takes no If-Match)."""
    try:
        response = await api(request, current, "GET", "/v1/households/me/profile")
    except RegisterProblem as problem:
        if problem.status in (403, 404):  # not offered by this register, or not for this sign-in
            return None, ""
        raise
    profile = response.json()
    return profile, response.headers.get("etag", "") if profile.get("ref") else ""


@router.post("/family-profile")
async def save_family_profile(request: Request, current: SignedIn) -> Response:
    form = await checked_form(request, current)
    narrative = str(form.get("narrative") or "").strip()
    offers_text = str(form.get("what_we_offer") or "")
    offers = _offers(offers_text)
    submit = form.get("action") == "submit"
    etag = str(form.get("etag") or "")
    problems = []
    if len(narrative) > MAX_NARRATIVE:
        problems.append(f"About your family must be {MAX_NARRATIVE} characters or fewer.")
    if len(offers) > MAX_OFFERS or any(len(o) > MAX_OFFER for o in offers):
        problems.append(f"List at most {MAX_OFFERS} things you offer, each {MAX_OFFER} characters or fewer.")
    if submit and not narrative:
        problems.append("Write about your family before you send your profile for approval.")
    if not problems:
        try:
            await api(
                request,
                current,
                "PUT",
                "/v1/households/me/profile",
                json_body={"narrative": narrative, "what_we_offer": offers, "submit": submit},
                headers={"If-Match": etag} if etag else {},
            )
            return see_other("/family-profile?submitted" if submit else "/family-profile?saved")
        except RegisterProblem as problem:
            problems.append(
                "Someone else in your family changed the profile meanwhile. Check it and save again."
                if problem.status in (412, 428)
                else problem.detail
            )
    profile, etag = await _own_profile(request, current)
    return render(
        request,
        "family_profile.html",
        400,
        profile=profile,
        etag=etag,
        narrative=narrative,
        offers=offers_text,
        notice=None,
        problems=problems,
        limits=(MAX_NARRATIVE, MAX_OFFERS, MAX_OFFER),
        nav="family",
    )


# --- support -------------------------------------------------------------------------------


@router.get("/passport", response_class=HTMLResponse)
async def passport(request: Request, current: SignedIn) -> Response:
    response = await api(request, current, "GET", "/v1/passport")
    return render(request, "passport.html", passport=response.json(), nav="passport")


@router.get("/support", response_class=HTMLResponse)
async def support(request: Request, current: SignedIn) -> Response:
    response = await api(request, current, "GET", "/v1/support/me")
    return render(request, "support.html", support=response.json(), nav="support")


def not_found(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        404,
        title="Page not found",
        message="We could not find this page. A child's profile may no longer be shown once they are linked "
        "with a family.",
    )
