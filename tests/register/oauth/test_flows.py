"""Real token flows end to end against the app, driven by Authlib's own OAuth client."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from tests.fixtures.oauth import PASSWORD, REDIRECT, authorize


def claims_of(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(head), decode(body)


async def test_client_credentials_token_works_end_to_end(oauth):
    client = oauth["client"]
    client_id, secret = oauth["system"]
    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "children:read"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    header, claims = claims_of(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert claims["agency"] == "RAA-N" and claims["scope"] == "children:read" and claims["aud"] == "adoption-register"
    assert "refresh_token" not in response.json()
    listed = await client.get("/v1/children", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    no_scope = await client.get("/v1/households", headers={"Authorization": f"Bearer {token}"})
    assert no_scope.status_code == 403


async def test_client_credentials_errors_follow_rfc6749(oauth):
    client = oauth["client"]
    client_id, secret = oauth["system"]
    wrong = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    too_much = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "children:write"}, auth=(client_id, secret)
    )
    assert too_much.status_code == 400 and too_much.json()["error"] == "invalid_scope"
    odd = await client.post("/oauth/token", data={"grant_type": "password"}, auth=(client_id, secret))
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"


async def test_failed_token_requests_are_rate_limited(oauth, settings):
    client = oauth["client"]
    client_id, _ = oauth["system"]
    codes = [
        (
            await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "wrong"))
        ).status_code
        for _ in range(settings.auth_max_failures_per_account + 1)
    ]
    assert codes[:-1] == [401] * settings.auth_max_failures_per_account and codes[-1] == 429


async def test_authorization_code_with_pkce_refresh_rotation_and_revocation(oauth):
    transport = httpx.ASGITransport(app=oauth["app"])
    async with AsyncOAuth2Client(
        client_id=oauth["public"],
        scope="profiles:read interests:write",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=transport,
        base_url="http://test",
        token_endpoint_auth_method="none",
    ) as client:
        verifier = generate_token(48)
        redirected = await authorize(client, oauth["app"], verifier)
        assert redirected.status_code == 302, redirected.text
        location = redirected.headers["location"]
        assert location.startswith(REDIRECT) and "code=" in location
        token = await client.fetch_token(
            "http://test/oauth/token", authorization_response=location, code_verifier=verifier
        )
        _, claims = claims_of(token["access_token"])
        assert claims["household"] == oauth["household"] and "agency" not in claims
        assert set(claims["scope"].split()) == {"profiles:read", "interests:write"}
        staff_route = await client.get("/v1/children")  # the client sends its bearer token
        assert staff_route.status_code == 403

        first_refresh = token["refresh_token"]
        rotated = await client.refresh_token("http://test/oauth/token", refresh_token=first_refresh)
        assert rotated["refresh_token"] != first_refresh
        reused = await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": first_refresh, "client_id": oauth["public"]},
        )
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        family_revoked = await client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": rotated["refresh_token"],
                "client_id": oauth["public"],
            },
        )
        assert family_revoked.status_code == 400, "reuse of a rotated token must revoke its whole family"

        second = await authorize(client, oauth["app"], verifier2 := generate_token(48))
        fresh = await client.fetch_token(
            "http://test/oauth/token", authorization_response=second.headers["location"], code_verifier=verifier2
        )
        revoked = await client.post(
            "/oauth/revoke", data={"token": fresh["refresh_token"], "client_id": oauth["public"]}
        )
        assert revoked.status_code == 200
        after = await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"], "client_id": oauth["public"]},
        )
        assert after.status_code == 400


async def test_pkce_is_required_and_must_match(oauth):
    client = oauth["client"]
    base = {
        "response_type": "code",
        "client_id": oauth["public"],
        "redirect_uri": REDIRECT,
        "state": "s1",
        "scope": "profiles:read",
    }
    missing = await client.get("/oauth/authorize", params=base)
    assert missing.status_code == 302 and "error=invalid_request" in missing.headers["location"]
    plain = await client.get(
        "/oauth/authorize", params={**base, "code_challenge": "x" * 43, "code_challenge_method": "plain"}
    )
    assert plain.status_code == 302 and "error=" in plain.headers["location"]
    bad_redirect = await client.get(
        "/oauth/authorize",
        params={
            **base,
            "redirect_uri": "https://evil.example/cb",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert bad_redirect.status_code == 400 and "evil" not in bad_redirect.headers.get("location", "")
    verifier = generate_token(48)
    allowed = await client.post(
        "/oauth/authorize",
        data={
            **base,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "email": "sam@example.org",
            "password": PASSWORD,
            "decision": "allow",
        },
    )
    code = parse_qs(urlsplit(allowed.headers["location"]).query)["code"][0]
    wrong_verifier = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": oauth["public"],
            "code_verifier": generate_token(48),
        },
    )
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"


async def test_login_failures_deny_and_rate_limit(oauth, settings):
    transport = httpx.ASGITransport(app=oauth["app"])
    async with AsyncOAuth2Client(
        client_id=oauth["public"],
        scope="profiles:read",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=transport,
        base_url="http://test",
    ) as client:
        denied = await authorize(client, oauth["app"], generate_token(48), decision="deny")
        assert denied.status_code == 302 and "error=access_denied" in denied.headers["location"]
        statuses = [
            (await authorize(client, oauth["app"], generate_token(48), password="wrong password!!")).status_code
            for _ in range(settings.auth_max_failures_per_account + 1)
        ]
        assert statuses[:-1] == [401] * settings.auth_max_failures_per_account and statuses[-1] == 429
        still_limited = await authorize(client, oauth["app"], generate_token(48))
        assert still_limited.status_code == 429


async def test_metadata_and_jwks(oauth, settings):
    client = oauth["client"]
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["issuer"] == settings.token_issuer and metadata["code_challenge_methods_supported"] == ["S256"]
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and "d" not in keys[0]
