"""The OAuth 2 authorisation server, built on Authlib's grants and RFC 9068 token generator.

Authlib's server calls synchronous hooks (query_client, save_token, ...). They run inside
`AsyncSession.run_sync`, which gives them a synchronous ORM session over the request's
own async connection and transaction: no second connection, no thread, one commit.

Grants: client credentials (agency and finance systems), authorisation code with PKCE S256
(the adopters' public client app), refresh tokens rotated on every use with reuse
detection (a refresh token presented twice revokes its whole family).
"""

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from services.core.auth import ADOPTER_SCOPES, Scope
from services.core.settings import Settings
from services.register.oauth import repository
from services.register.oauth.keys import SIGNING_ALGORITHM
from services.register.oauth.models import (
    AdopterAccount,
    AuthorizationCode,
    OAuthClient,
    RefreshToken,
    token_hash,
)

AUTHORIZATION_CODE_SECONDS = 300
PUBLIC_AND_CONFIDENTIAL = ["client_secret_basic", "client_secret_post", "none"]
# The most ACCESS_TOKEN_MINUTES may be (services/core/settings.py): how long a revoked
# access token stays on the deny list.
MAX_ACCESS_TOKEN_MINUTES = 60


class FormPayload(OAuth2Payload):
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._datalist = defaultdict(list, values)
        self._data = {k: v[0] for k, v in values.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class FormRequest(OAuth2Request):
    """An OAuth 2 request from parameters the async route has already read."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], values: dict[str, list[str]]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = FormPayload(values)

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data


class S256Only(CodeChallenge):
    # "plain" would let a stolen code be redeemed; it is never accepted.
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        # Authlib checks a missing challenge only when the code is redeemed; refuse it at
        # once, so the adopter is never asked to sign in for a request that cannot succeed.
        if self.required and not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


class AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 access tokens, signed with the register's current key."""

    def __init__(self, settings: Settings, key: ECKey) -> None:
        super().__init__(
            issuer=settings.token_issuer,
            alg=SIGNING_ALGORITHM,
            refresh_token_generator=lambda **_: generate_token(48),
            expires_generator=lambda client, grant_type: settings.access_token_minutes * 60,
        )
        self._key = key
        self._audience = settings.token_audience

    def get_jwks(self) -> KeySet:
        return KeySet([self._key])

    def get_audiences(self, client: OAuthClient, user: Any, scope: str) -> str:
        return self._audience

    def get_extra_claims(self, client: OAuthClient, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        if isinstance(user, AdopterAccount):
            if not set((scope or "").split()) <= ADOPTER_SCOPES:
                raise ValueError("an adopter token may carry adopter scopes only")
            return {"household": user.household_ref}
        return {"agency": client.agency_ref} if client.agency_ref else {}


class RegisterServer(AuthorizationServer):
    """One instance per request, bound to that request's synchronous session."""

    def __init__(self, session: Session, settings: Settings, key: ECKey) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.session = session
        self.settings = settings
        self.register_token_generator("default", AccessTokens(settings, key))
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> OAuthClient | None:
        return repository.active_client(self.session, client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        if not refresh:
            return
        previous: RefreshToken | None = getattr(request, "refresh_token", None)
        family = previous.family_id if isinstance(previous, RefreshToken) else str(uuid.uuid4())
        code: AuthorizationCode | None = getattr(request, "authorization_code", None)
        if isinstance(code, AuthorizationCode):
            code.token_family_id = family  # so a replay of the code can revoke what it gave
        user = request.user
        self.session.add(
            RefreshToken(
                token_hash=token_hash(refresh),
                family_id=family,
                client_id=request.client.get_client_id(),
                account_id=user.id if isinstance(user, AdopterAccount) else None,
                scope=token.get("scope", ""),
                access_token_jti=jti_of(token["access_token"]),
                expires_at=datetime.now(UTC) + timedelta(days=self.settings.refresh_token_days),
            )
        )
        self.session.flush()

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def create_json_request(self, request: FormRequest) -> FormRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> tuple[int, Any, dict]:
        return status, body, dict(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def jti_of(access_token: str) -> str:
    """The `jti` of an access token this server has just minted (so no need to verify it)."""
    payload = access_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


def revoke_family(session: Session, family_id: str) -> None:
    """Revokes every refresh token of the family and every access token issued with them
    (kept on the deny list for the longest an access token can live)."""
    repository.revoke_family(session, family_id, timedelta(minutes=MAX_ACCESS_TOKEN_MINUTES))


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # A system asking for more than it was registered for is told so, not quietly
        # given a narrower token.
        requested = set((self.request.payload.scope or "").split())
        if not requested <= set(self.request.client.allowed_scopes):
            raise InvalidScopeError(
                "The client is not registered for: "
                + " ".join(sorted(requested - set(self.request.client.allowed_scopes)))
            )


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    @property
    def session(self) -> Session:
        return self.server.session

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.session.add(
            AuthorizationCode(
                code_hash=token_hash(code),
                client_id=request.client.get_client_id(),
                account_id=request.user.id,
                redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
                scope=request.client.get_allowed_scope(request.payload.scope),
                code_challenge=request.payload.data["code_challenge"],
                code_challenge_method=request.payload.data.get("code_challenge_method", "S256"),
                expires_at=datetime.now(UTC) + timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
            )
        )
        self.session.flush()

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        found = repository.authorization_code_for_update(self.session, token_hash(code), client.client_id)
        if found is not None and found.used_at is not None and found.token_family_id is not None:
            # RFC 6749 4.1.2: a code presented twice was stolen or leaked; revoke what it gave.
            revoke_family(self.session, found.token_family_id)
            self.session.flush()
        if found is None or found.used_at is not None or found.is_expired():
            return None
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        authorization_code.used_at = datetime.now(UTC)  # single use; kept for the record
        self.session.flush()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> AdopterAccount | None:
        return repository.active_account(self.session, authorization_code.account_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def session(self) -> Session:
        return self.server.session

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        found = repository.refresh_token(self.session, token_hash(refresh_token), for_update=True)
        if found is None or found.is_expired():
            return None
        if found.is_revoked():
            # Presented again after rotation (or after revocation): assume it leaked.
            revoke_family(self.session, found.family_id)
            self.session.flush()
            return None
        return found

    def authenticate_user(self, refresh_token: RefreshToken) -> AdopterAccount | None:
        if refresh_token.account_id is None:
            return None
        return repository.active_account(self.session, refresh_token.account_id)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.used_at = datetime.now(UTC)
        self.session.flush()


class Revocation(RevocationEndpoint):
    """RFC 7009. Access tokens are short-lived JWTs and expire by themselves; refresh
    tokens are revoked with their whole family."""

    CLIENT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        return repository.refresh_token(self.server.session, token_hash(token_string))

    def revoke_token(self, token: RefreshToken, request: OAuth2Request) -> None:
        revoke_family(self.server.session, token.family_id)
        self.server.session.flush()
