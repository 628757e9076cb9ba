"""The sign-in page's Content-Security-Policy lets its form lead back to the client being
signed in (Chromium holds the redirect after the POST to `form-action`), and to no other."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.register.oauth.accounts import create_client
from tests.fixtures.accounts import browser, sign_in
from tests.fixtures.oauth import PASSWORD, REDIRECT


def _form_action(csp: str) -> list[str]:
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("form-action"))
    return directive.split()[1:]


def _query(client_id: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "scope": "profiles:read",
    }


async def test_form_action_names_this_clients_redirect_origins_only(account_world, connection):
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        other, _ = await create_client(
            s,
            name="Another app",
            scopes=["profiles:read"],
            agency_ref=None,
            redirect_uris=["https://other.example:8443/cb", "com.example.app:/oauth"],
            public=True,
        )
        await s.commit()
    async with await browser(account_world["app"]) as b:
        ours = await b.get("/oauth/authorize", params=_query(account_world["public"]))
        theirs = await b.get("/oauth/authorize", params=_query(other.client_id, "https://other.example:8443/cb"))
    assert ours.status_code == theirs.status_code == 200
    assert _form_action(ours.headers["content-security-policy"]) == ["'self'", "https://adopters.example"]
    assert _form_action(theirs.headers["content-security-policy"]) == ["'self'", "https://other.example:8443"]
    assert "frame-ancestors 'none'" in ours.headers["content-security-policy"]
    assert len(ours.headers.get_list("content-security-policy")) == 1, "one policy, not the page's and the API's"


async def test_the_pages_after_a_failed_sign_in_and_the_redirect_keep_the_clients_origin(account_world):
    failed = await sign_in(account_world, "sam@example.org", "not the password!")
    assert failed.status_code == 401
    assert _form_action(failed.headers["content-security-policy"]) == ["'self'", "https://adopters.example"]
    signed_in = await sign_in(account_world, "sam@example.org", PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["location"].startswith(REDIRECT)
    assert "https://adopters.example" in _form_action(signed_in.headers["content-security-policy"])


async def test_an_unknown_client_gets_plain_self(account_world):
    async with await browser(account_world["app"]) as b:
        unknown = await b.get("/oauth/authorize", params=_query("client-nobody"))
        forgot = await b.get("/account/forgot")
        api = await b.get("/.well-known/jwks.json")
    assert unknown.status_code == 400
    assert _form_action(unknown.headers["content-security-policy"]) == ["'self'"]
    assert _form_action(forgot.headers["content-security-policy"]) == ["'self'"]
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
