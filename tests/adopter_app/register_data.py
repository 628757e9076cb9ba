"""What the adopters' app tests put in the register, over its staff API: visible children
(single, a sibling pair, an older child), one hidden child, two households, and the values
no page may ever show (the same list the API's adopter test uses)."""

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.core.auth import ADOPTER_SCOPES
from services.register.oauth.accounts import create_client, invite_adopter
from services.register.oauth.keys import rotate_signing_key
from tests.factories import TODAY, child_payload, household_payload
from tests.fixtures.adopters import NAMES, planted_child, restricted_values

PASSWORD = "a long enough test password"
APP_SCOPES = " ".join(
    sorted(
        s
        for s in ("profiles:read", "interests:write", "support:request", "family-profile:write")
        if s in ADOPTER_SCOPES
    )
)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def build_register(client: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, Any]:
    """Three visible waiting units aged 2-4 (one a sibling pair), one visible 9-year-old,
    one hidden child; households A and B approved for ages 0-6 (by RAA-S)."""
    made = []
    for i in range(len(NAMES)):
        body = planted_child(
            i, profile_text=f"A cheerful child who loves {['trains', 'painting', 'swimming', 'music'][i]}."
        )
        made.append(await _ok(await client.post("/v1/children", json=body, headers=staff)))
    older = await _ok(
        await client.post(
            "/v1/children",
            json=child_payload(
                first_name="Bartholomew",
                surname="Elderkin",
                date_of_birth=(TODAY - timedelta(days=365 * 9 + 30)).isoformat(),
                profile_text="A thoughtful nine-year-old who loves football.",
            ),
            headers=staff,
        )
    )
    made.append(older)
    pair = await _ok(
        await client.post("/v1/sibling-groups", json={"child_refs": [made[1]["ref"], made[2]["ref"]]}, headers=staff)
    )
    household_a = await _ok(await client.post("/v1/households", json=household_payload(), headers=staff))
    household_b = await _ok(
        await client.post(
            "/v1/households", json=household_payload(applicant_names=["Robin Second", "Kit Second"]), headers=staff
        )
    )
    return {"children": made, "pair": pair, "household": household_a, "household_b": household_b}


def restricted(register: dict[str, Any]) -> list[str]:
    values = restricted_values(register)
    # The households' own names are not the children's, but no page needs them either.
    values += [*register["household"]["applicant_names"], *register["household_b"]["applicant_names"]]
    return values


async def register_app_client(engine: AsyncEngine, redirect_uri: str, scopes: str = APP_SCOPES) -> tuple[str, str]:
    """A signing key (if none) and the app's confidential client; returns its id and secret."""
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await rotate_signing_key(session)
        client, secret = await create_client(
            session,
            name="Adopters' app (test)",
            scopes=scopes.split(),
            agency_ref=None,
            redirect_uris=[redirect_uri],
            public=False,
        )
    assert secret is not None
    return client.client_id, secret


async def add_adopter(engine: AsyncEngine, household_ref: str, email: str) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await invite_adopter(session, household_ref=household_ref, email=email, password=PASSWORD)


def hidden_fields(page: str) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
