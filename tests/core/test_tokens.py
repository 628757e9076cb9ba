"""Token verification end to end: every bad token is refused with 401, scopes with 403."""

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from services.core.auth import Scope

URL = "/v1/agencies"


def claims(settings, **overrides):
    now = int(time.time())
    body = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "someone",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "scope": "agencies:read",
        "client_id": "c",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sign(key, settings, header=None, **overrides):
    head = {"alg": "ES256", "kid": key.kid, "typ": "at+jwt", **(header or {})}
    return jwt.encode(head, claims(settings, **overrides), key, algorithms=[head["alg"]])


async def status_for(client, token):
    response = await client.get(URL, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return response.status_code


async def test_valid_token_is_accepted(client, signing_key, settings):
    assert await status_for(client, sign(signing_key, settings)) == 200


async def test_missing_token_is_401_with_challenge(client):
    response = await client.get(URL)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 3600},
        {"nbf": int(time.time()) + 3600},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"sub": None},
        {"exp": None},
    ],
    ids=["expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "no-subject", "no-expiry"],
)
async def test_bad_claims_are_refused(client, signing_key, settings, overrides):
    assert await status_for(client, sign(signing_key, settings, **overrides)) == 401


async def test_tampered_token_is_refused(client, signing_key, settings):
    head, payload, signature = sign(signing_key, settings).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["scope"] = " ".join(s.value for s in Scope)
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert await status_for(client, f"{head}.{forged}.{signature}") == 401


async def test_alg_none_is_refused(client, settings, signing_key):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'at+jwt', 'kid': signing_key.kid})}.{part(claims(settings))}."
    assert await status_for(client, token) == 401


async def test_hs256_signed_with_the_public_key_is_refused(client, settings, signing_key):
    # The classic confusion attack: an HMAC keyed with the public key's bytes.
    public = json.dumps(signing_key.as_dict(private=False)).encode()
    token = sign(OctKey.import_key(public, {"kid": signing_key.kid}), settings, header={"alg": "HS256"})
    assert await status_for(client, token) == 401


async def test_unknown_key_and_wrong_type_are_refused(client, settings, signing_key):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "stranger"}, private=True)
    assert await status_for(client, sign(stranger, settings)) == 401
    same_kid = ECKey.generate_key("P-256", parameters={"kid": signing_key.kid}, private=True)
    assert await status_for(client, sign(same_kid, settings)) == 401
    assert await status_for(client, sign(signing_key, settings, header={"typ": "JWT"})) == 401
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa"}, private=True)
    assert await status_for(client, sign(rsa, settings, header={"alg": "RS256"})) == 401


async def test_missing_scope_is_403_insufficient_scope(client, signing_key, settings):
    response = await client.get(
        URL, headers={"Authorization": f"Bearer {sign(signing_key, settings, scope='children:read')}"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


async def test_an_agency_identity_provider_can_issue_tokens(make_app, settings, signing_key):
    """Tokens from a configured external issuer verify against its JWKS, fetched over HTTP."""
    import httpx

    from services.core.app_factory import token_verifiers

    idp_key = ECKey.generate_key("P-256", parameters={"kid": "idp-1"}, private=True)
    external = settings.model_copy(
        update={
            "external_issuer": "https://idp.agency.example",
            "external_jwks_url": "https://idp.agency.example/jwks",
            "external_audience": "adoption-register",
        }
    )
    served = []

    def jwks(request: httpx.Request) -> httpx.Response:
        served.append(str(request.url))
        return httpx.Response(200, json={"keys": [idp_key.as_dict(private=False)]})

    app = await make_app()
    local = app.state.token_verifiers[settings.token_issuer]
    app.state.token_verifiers = await token_verifiers(
        external, local._load_keys, lambda: httpx.AsyncClient(transport=httpx.MockTransport(jwks))
    )
    assert served == ["https://idp.agency.example/jwks"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        from_idp = sign(idp_key, settings, iss="https://idp.agency.example")
        assert await status_for(client, from_idp) == 200
        forged_issuer = sign(idp_key, settings)  # the IdP's key claiming to be the register
        assert await status_for(client, forged_issuer) == 401
        assert await status_for(client, sign(signing_key, settings)) == 200
        unknown = sign(idp_key, settings, iss="https://unknown.example")
        assert await status_for(client, unknown) == 401
