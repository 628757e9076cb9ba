"""Bearer-token verification, scopes and the principal every endpoint receives.

Every route declares what it needs through `requires(Scope.X, ...)` (`core/context.py`), a
security dependency, so the OpenAPI document lists the scopes. Tokens are RFC 9068 JWT access tokens signed with an
asymmetric key; the verifier only ever accepts the algorithms in `ALLOWED_ALGORITHMS`.
"""

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
from fastapi import Request
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from services.core.errors import Forbidden, Unauthorized

# Asymmetric only: never "none", never an HMAC algorithm that a public key could be
# confused with.
ALLOWED_ALGORITHMS = ("ES256", "RS256")
ACCESS_TOKEN_TYPE = "at+jwt"


class Scope(StrEnum):
    """Every scope the service knows, in `resource:action` form."""

    AGENCIES_READ = "agencies:read"
    AGENCIES_WRITE = "agencies:write"
    CHILDREN_READ = "children:read"
    CHILDREN_WRITE = "children:write"
    HOUSEHOLDS_READ = "households:read"
    HOUSEHOLDS_WRITE = "households:write"
    LINKS_READ = "links:read"
    LINKS_WRITE = "links:write"
    PROFILES_READ = "profiles:read"
    INTERESTS_WRITE = "interests:write"
    MATCHING_READ = "matching:read"
    MATCHING_RUN = "matching:run"
    FEES_READ = "fees:read"
    FEES_WRITE = "fees:write"
    AUDIT_READ = "audit:read"
    SCORECARDS_READ = "scorecards:read"
    EVENTS_READ = "events:read"
    WEBHOOKS_WRITE = "webhooks:write"
    SUPPORT_READ = "support:read"
    SUPPORT_WRITE = "support:write"
    SUPPORT_REQUEST = "support:request"
    FAMILY_PROFILE_WRITE = "family-profile:write"


# All an adopter's token may ever carry: anonymised profiles, their own interests, their
# own family's support and passport, the public (suppressed) performance figures, and their
# own family's profile (in their own words, for family finders).
ADOPTER_SCOPES = frozenset(
    {
        Scope.PROFILES_READ.value,
        Scope.INTERESTS_WRITE.value,
        Scope.SUPPORT_REQUEST.value,
        Scope.SCORECARDS_READ.value,
        Scope.FAMILY_PROFILE_WRITE.value,
    }
)


class Subject(StrEnum):
    """The kinds of caller, told apart by the token's claims."""

    NATIONAL = "national"  # bound to no agency: the national register team
    AGENCY = "agency"  # an agency's staff or systems (an `agency` claim)
    ADOPTER = "adopter"  # an adopter household's account (a `household` claim)


@dataclass(frozen=True)
class Principal:
    """Who is calling. `agency_ref` binds staff and systems to one agency; a principal
    without one (a national lead) may act for any agency where its scopes allow."""

    subject: str
    scopes: frozenset[str]
    client_id: str | None = None
    agency_ref: str | None = None
    household_ref: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> Subject:
        if self.household_ref is not None:
            return Subject.ADOPTER
        if self.agency_ref is not None:
            return Subject.AGENCY
        return Subject.NATIONAL

    @property
    def audit_name(self) -> str:
        return f"{self.client_id or 'user'}:{self.subject}"


KeyLoader = Callable[[], Awaitable[KeySet]]
# The `jti` of every access token revoked before its expiry.
RevokedLoader = Callable[[], Awaitable[frozenset[str]]]


# Verified tokens remembered per process (see TokenVerifier.verify).
VERIFIED_CACHE_SIZE = 10_000


class TokenVerifier:
    """Checks signature (against a cached JWKS), algorithm, type, issuer, audience and times.

    Keys are loaded outside the request path at start-up; an unknown `kid` (a key rotated in
    since) triggers at most one reload per `reload_interval` seconds.

    A token that verified is remembered by the SHA-256 of its text until it expires, so the
    next request with it skips the signature check. Never beyond what a full check would
    give: the revocation list is consulted on every request, the entry is dropped at its
    `exp` (with the same leeway), and every entry is forgotten whenever the keys or the
    revocations are reloaded (at once on a change: `app_factory._follow_key_changes`), so a
    retired or compromised key stops its tokens in the same moment as without the cache.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        load_keys: KeyLoader,
        leeway_seconds: int = 30,
        reload_interval: float = 30.0,
        reload_on_unknown_kid: bool = True,
        load_revoked: RevokedLoader | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._load_keys = load_keys
        self._keys = KeySet([])
        self._loaded_at = 0.0
        self._leeway = leeway_seconds
        self._reload_interval = reload_interval
        self._reload_on_unknown_kid = reload_on_unknown_kid
        self._load_revoked = load_revoked
        self._revoked: frozenset[str] = frozenset()
        self._kids: frozenset[str] = frozenset()
        # sha256(token) -> (its caller, expiry as a UNIX time, kid)
        self._verified: dict[bytes, tuple[Principal, float, str]] = {}

    async def refresh(self) -> None:
        keys = await self._load_keys()
        revoked = await self._load_revoked() if self._load_revoked is not None else self._revoked
        self._keys, self._revoked = keys, revoked
        self._kids = frozenset(k.kid for k in keys.keys if k.kid is not None)
        self._verified = {}  # verified under the old keys: check again
        self._loaded_at = time.monotonic()

    def _knows(self, kid: str | None) -> bool:
        return kid is not None and kid in self._kids

    def remembered(self, digest: bytes) -> Principal | None:
        """The caller of a token this verifier verified before (by the SHA-256 of its text),
        if it is still unexpired under a current key; raises if it has been revoked since."""
        remembered = self._verified.get(digest)
        if remembered is None:
            return None
        principal, expires, kid = remembered
        if time.time() <= expires + self._leeway and kid in self._kids:
            if principal.claims.get("jti") in self._revoked:
                raise Unauthorized("The access token has been revoked.", headers=_challenge("invalid_token"))
            return principal
        self._verified.pop(digest, None)
        return None

    async def verify(self, token: str) -> dict[str, Any]:
        return (await self.principal(token, hashlib.sha256(token.encode()).digest())).claims

    async def principal(self, token: str, digest: bytes) -> Principal:
        """The caller of `token` (whose SHA-256 is `digest`), checked in full unless remembered."""
        remembered = self.remembered(digest)
        if remembered is not None:
            return remembered
        claims = await self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        kid = jws.extract_compact(token.encode()).headers()["kid"]
        principal = principal_from_claims(claims)
        self._verified[digest] = (principal, float(claims["exp"]), kid)
        return principal

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError) as exc:
            raise Unauthorized("The access token is malformed.", headers=_challenge("invalid_token")) from exc
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthorized("The access token's algorithm is not accepted.", headers=_challenge("invalid_token"))
        if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
            raise Unauthorized("Not an access token (typ must be at+jwt).", headers=_challenge("invalid_token"))
        kid = header.get("kid")
        # With no key at all nothing verifies anyway, so the first key is looked for at once.
        stale = time.monotonic() - self._loaded_at > self._reload_interval or not self._keys.keys
        if not self._knows(kid) and self._reload_on_unknown_kid and stale:
            await self.refresh()
        if not self._knows(kid):
            raise Unauthorized("The access token was signed by an unknown key.", headers=_challenge("invalid_token"))
        try:
            decoded = jwt.decode(token, self._keys, algorithms=list(ALLOWED_ALGORITHMS))
            registry = JWTClaimsRegistry(
                leeway=self._leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized("The access token is not valid.", headers=_challenge("invalid_token")) from exc
        if decoded.claims.get("jti") in self._revoked:
            raise Unauthorized("The access token has been revoked.", headers=_challenge("invalid_token"))
        return decoded.claims


def _verifier_for(verifiers: dict[str, "TokenVerifier"], token: str) -> "TokenVerifier":
    """The verifier of the issuer the token names; the name is only a routing hint, the
    chosen verifier checks the signature and the issuer again."""
    try:
        issuer = json.loads(jws.extract_compact(token.encode()).payload).get("iss")
    except (JoseError, ValueError, AttributeError) as exc:
        raise Unauthorized("The access token is malformed.", headers=_challenge("invalid_token")) from exc
    verifier = verifiers.get(issuer) if isinstance(issuer, str) else None
    if verifier is None:
        raise Unauthorized("The access token's issuer is not trusted here.", headers=_challenge("invalid_token"))
    return verifier


def remote_jwks_loader(url: str, client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient) -> KeyLoader:
    """Loads an external identity provider's JWKS (refreshed in the background, never on
    a request)."""

    async def load() -> KeySet:
        async with client_factory() as client:
            response = await client.get(url, timeout=10)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())

    return load


def _challenge(error: str | None = None, scope: str | None = None) -> dict[str, str]:
    parts = ['Bearer realm="adoption-register"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": ", ".join(parts)}


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    return Principal(
        subject=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        client_id=claims.get("client_id"),
        agency_ref=claims.get("agency"),
        household_ref=claims.get("household"),
        claims=claims,
    )


SCOPE_DESCRIPTIONS: dict[str, str] = {
    Scope.AGENCIES_READ: "Read the agencies' reference data",
    Scope.AGENCIES_WRITE: "Change agencies (national register team)",
    Scope.CHILDREN_READ: "Read the national pool of children (full records are audited)",
    Scope.CHILDREN_WRITE: "Create and change your agency's children and sibling groups",
    Scope.HOUSEHOLDS_READ: "Read approved adopter households",
    Scope.HOUSEHOLDS_WRITE: "Create and change your agency's households",
    Scope.LINKS_READ: "See your agency's links (child and household sides) and their history",
    Scope.LINKS_WRITE: "Take your agency's steps of a link: request, agree, panel, decision, placement, order",
    Scope.PROFILES_READ: "Adopters: browse anonymised profiles and see your household",
    Scope.INTERESTS_WRITE: "Adopters: express and withdraw interest in a profile",
    Scope.MATCHING_READ: "Read match runs, proposals and candidate lists",
    Scope.MATCHING_RUN: "Start match runs and decide on proposals",
    Scope.FEES_READ: "Read fee schedules, invoices and reconciliations",
    Scope.FEES_WRITE: "Change fee schedules, dispute lines, run reconciliations",
    Scope.AUDIT_READ: "Read the audit trail and record history",
    Scope.SCORECARDS_READ: "Read the scorecards: timeliness and breakdown figures, small numbers suppressed",
    Scope.EVENTS_READ: "Read the events addressed to your agency (changes you must act on)",
    Scope.WEBHOOKS_WRITE: "Register, list and disable your agency's webhooks; read their delivery log",
    Scope.SUPPORT_READ: "Read families' adoption support records, ASF applications and reports",
    Scope.SUPPORT_WRITE: "Record assessments, ASF applications, budgets, passport additions and breakdowns",
    Scope.SUPPORT_REQUEST: "Adopters: ask for a support assessment; see your family's support and passport",
    Scope.FAMILY_PROFILE_WRITE: "Adopters: write your family's profile for family finders and send it to your agency",
}

# Declares the flows in the OpenAPI document, so each operation lists the scopes it needs
# (the request context's dependency presents itself as this scheme).
OAUTH2_SCHEME = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPE_DESCRIPTIONS),
        authorizationCode=OAuthFlowAuthorizationCode(
            authorizationUrl="/oauth/authorize", tokenUrl="/oauth/token", scopes=SCOPE_DESCRIPTIONS
        ),
    ),
    scheme_name="oauth2",
    description="RFC 9068 JWT access tokens from this register or a configured identity provider",
    auto_error=False,
)


async def authenticate(request: Request, security_scopes: SecurityScopes) -> Principal:
    """The caller of `request`, whose bearer token must hold every scope in `security_scopes`."""
    scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
    token = credentials.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer access token is required.", headers=_challenge())
    verifiers: dict[str, TokenVerifier] = request.app.state.token_verifiers
    digest = hashlib.sha256(token.encode()).digest()
    # A token verified before is found by its hash alone, without parsing it again to find
    # its issuer (it was the issuer of the verifier that remembers it).
    principal = next((p for v in verifiers.values() if (p := v.remembered(digest)) is not None), None)
    if principal is None:
        principal = await _verifier_for(verifiers, token).principal(token, digest)
    missing = [s for s in security_scopes.scopes if s not in principal.scopes]
    if missing:
        raise Forbidden(
            f"The access token lacks the scope(s): {' '.join(missing)}.",
            extra={"error": "insufficient_scope", "required_scopes": missing},
            headers=_challenge("insufficient_scope", security_scopes.scope_str),
        )
    request.state.principal = principal
    return principal
