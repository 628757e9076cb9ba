"""The app's calls to the register: the OAuth endpoints (as a confidential client, HTTP
Basic) and the adopter API (with the session's access token). One pooled async httpx client
per process, with timeouts; the register's problem+json answers become `RegisterProblem`."""

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from services.adopter_app.settings import AppSettings

log = logging.getLogger(__name__)


class RegisterUnavailable(Exception):
    """The register did not answer (or answered 5xx): nothing the adopter can fix."""


class SignInAgain(Exception):
    """The register no longer accepts this session's tokens (401, or a refused refresh)."""


class RegisterProblem(Exception):
    """A 4xx problem+json answer from the register."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('type', '')}")
        self.status = status
        self.body = body

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or "")

    @property
    def kind(self) -> str:
        """The last part of the problem's `type` (e.g. `not-found`)."""
        return str(self.body.get("type", "")).rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    household_ref: str | None


def _claims(access_token: str) -> dict[str, Any]:
    """The claims of an access token the register has just given us over TLS (only read, to
    know the household; the register verifies the token on every API call)."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _problem_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"title": response.reason_phrase}
    return body if isinstance(body, dict) else {"title": response.reason_phrase}


class RegisterClient:
    def __init__(self, settings: AppSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base = settings.register_url.rstrip("/")

    @property
    def _client_auth(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.settings.client_id, self.settings.client_secret.get_secret_value())

    async def _post_form(self, path: str, data: dict[str, str]) -> httpx.Response:
        try:
            response = await self.http.post(self.base + path, data=data, auth=self._client_auth)
        except httpx.HTTPError as exc:
            raise RegisterUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            raise RegisterUnavailable(f"{path} answered {response.status_code}")
        return response

    async def _tokens(self, path: str, data: dict[str, str]) -> Tokens:
        response = await self._post_form(path, data)
        if response.status_code != 200:
            body = _problem_body(response)
            log.warning("token request refused: %s %s", response.status_code, body.get("error"))
            if body.get("error") in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise SignInAgain(str(body.get("error")))
            raise RegisterProblem(response.status_code, body)
        body = response.json()
        return Tokens(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body.get("expires_in", 600)),
            household_ref=_claims(body["access_token"]).get("household"),
        )

    async def exchange_code(self, code: str, code_verifier: str) -> Tokens:
        return await self._tokens(
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.settings.redirect_uri,
                "code_verifier": code_verifier,
            },
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._tokens("/oauth/token", {"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, refresh_token: str) -> bool:
        """RFC 7009: revokes the refresh token and every token of its sign-in."""
        response = await self._post_form("/oauth/revoke", {"token": refresh_token, "token_type_hint": "refresh_token"})
        return response.status_code == 200

    async def call(
        self,
        method: str,
        path: str,
        access_token: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = await self.http.request(
                method,
                self.base + path,
                params=tuple(params or ()),
                json=json_body,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json", **(headers or {})},
            )
        except httpx.HTTPError as exc:
            raise RegisterUnavailable(str(exc)) from exc
        if response.status_code == 401:
            raise SignInAgain("the register refused the access token")
        if response.status_code >= 500:
            raise RegisterUnavailable(f"{method} {path} answered {response.status_code}")
        if response.status_code >= 400:
            raise RegisterProblem(response.status_code, _problem_body(response))
        return response


def http_client(settings: AppSettings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.register_timeout_seconds, connect=min(5.0, settings.register_timeout_seconds))
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, limits=httpx.Limits(max_connections=50))
