"""The register's few HTML pages (sign-in, password pages): one look, one way to protect a form.

Plain HTML and CSS that works without JavaScript, one `h1` per page, a label for every field,
errors in `role="alert"`, visible focus. Forms carry a double-submit CSRF token: a random
value in a cookie only this site's pages receive (SameSite=Strict, HttpOnly) and the same
value in a hidden field; a POST whose two values differ is refused.
"""

import html
import secrets

from fastapi import Request
from fastapi.responses import HTMLResponse

CSRF_COOKIE = "register_csrf"
CSRF_FIELD = "csrf_token"


def page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - Adoption register</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5;
color:#0b0c0c;background:#fff}}
label{{display:block;margin-top:1rem;font-weight:600}}
input{{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;border:2px solid #0b0c0c}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin:1.5rem .5rem 0 0}}
a{{color:#1d4f91}}
:focus-visible{{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}}
.hint{{color:#484949;margin:.25rem 0 0}}
[role=alert]{{color:#b00020;font-weight:600}}</style>
</head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(token)}">'


def with_csrf_cookie(response: HTMLResponse, token: str, *, secure: bool) -> HTMLResponse:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, secure=secure, samesite="strict", path="/account", max_age=3600
    )
    return response


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and secrets.compare_digest(cookie.encode(), submitted.encode()))
