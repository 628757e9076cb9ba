"""Token hygiene: a replayed authorization code revokes what it gave; no token or secret
value reaches a log line at any level; record tables refuse TRUNCATE as they refuse DELETE."""

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.fixtures.oauth import REDIRECT, authorize

RECORD_TABLES = (
    "agencies",
    "sibling_groups",
    "children",
    "households",
    "placements",
    "audit_events",
    "record_versions",
    "expressions_of_interest",
    "fee_schedules",
    "reconciliations",
    "fee_lines",
    "reconciliation_lines",
    "fee_disputes",
)


def _adopter_client(oauth) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=oauth["public"],
        scope="profiles:read interests:write",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=httpx.ASGITransport(app=oauth["app"]),
        base_url="http://test",
        token_endpoint_auth_method="none",
    )


async def test_a_replayed_code_revokes_the_tokens_issued_from_it(oauth):
    async with _adopter_client(oauth) as client:
        verifier = generate_token(48)
        location = (await authorize(client, oauth["app"], verifier)).headers["location"]
        token = await client.fetch_token(
            "http://test/oauth/token", authorization_response=location, code_verifier=verifier
        )
        code = parse_qs(urlsplit(location).query)["code"][0]
        replay = await client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": oauth["public"],
                "code_verifier": verifier,
            },
        )
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        refreshed = await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": oauth["public"]},
        )
        assert refreshed.status_code == 400, "the refresh token issued from a replayed code must be revoked"
        for verifier in oauth["app"].state.token_verifiers.values():
            await verifier.refresh()  # as the notification makes every process do
        used = await client.get("/v1/profiles", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert used.status_code == 401, "the access token issued from a replayed code must be revoked"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_lines():
    root = logging.getLogger()
    handler, level = _Lines(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


async def test_no_token_value_in_debug_logs_of_a_whole_flow(oauth, debug_lines):
    secrets: list[str] = []
    async with _adopter_client(oauth) as client:
        verifier = generate_token(48)
        location = (await authorize(client, oauth["app"], verifier)).headers["location"]
        secrets.append(parse_qs(urlsplit(location).query)["code"][0])
        token = await client.fetch_token(
            "http://test/oauth/token", authorization_response=location, code_verifier=verifier
        )
        rotated = await client.refresh_token("http://test/oauth/token", refresh_token=token["refresh_token"])
        await client.get("/v1/profiles")
        secrets += [
            verifier,
            token["access_token"],
            token["refresh_token"],
            rotated["access_token"],
            rotated["refresh_token"],
        ]
    client_id, client_secret = oauth["system"]
    system = await oauth["client"].post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, client_secret)
    )
    secrets += [client_secret, system.json()["access_token"]]
    assert debug_lines, "the flow logged nothing at DEBUG: the scan would prove nothing"
    leaked = [line for line in debug_lines for secret in secrets if secret in line]
    assert leaked == []


@pytest.mark.parametrize("table", RECORD_TABLES)
async def test_truncate_is_refused_on_record_tables(connection, table):
    savepoint = await connection.begin_nested()
    with pytest.raises(DBAPIError, match="not allowed"):
        await connection.execute(text(f"TRUNCATE {table} CASCADE"))
    await savepoint.rollback()
