"""Key rotation: a new key is published before it signs, old tokens verify until they expire,
and a compromised key is retired at once."""

from datetime import UTC, datetime, timedelta

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import TokenVerifier
from services.register.oauth.keys import PUBLISH_BEFORE_SIGNING, mint_access_token, rotate_signing_key, signing_key
from services.register.oauth.models import SigningKey
from services.register.oauth.repository import active_keys


async def backdate(session: AsyncSession, kid: str, age: timedelta) -> None:
    await session.execute(update(SigningKey).where(SigningKey.kid == kid).values(created_at=datetime.now(UTC) - age))


async def test_rotation_keeps_old_tokens_valid_then_retires_the_old_key(connection, make_app, settings):
    import httpx

    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        first = await rotate_signing_key(s)
        assert (await signing_key(s)).kid == first  # the only key signs at once
        await backdate(s, first, timedelta(days=30))
        old_token = mint_access_token(
            await signing_key(s), settings, subject="x", scopes=["agencies:read"], client_id="c"
        )
        second = await rotate_signing_key(s)
        # Published now, signing only once every verifier can have loaded it.
        assert (await signing_key(s)).kid == first
        await backdate(s, second, PUBLISH_BEFORE_SIGNING + timedelta(seconds=1))
        assert (await signing_key(s)).kid == second
        assert [k.kid for k in await active_keys(s)] == [first, second]
        await s.commit()
    app = await make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert {k["kid"] for k in jwks} == {first, second}
        response = await client.get("/v1/agencies", headers={"Authorization": f"Bearer {old_token}"})
        assert response.status_code == 200

    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        # Once the second key has signed for longer than a token lives, the first is retired.
        await backdate(s, first, timedelta(hours=3))
        await backdate(s, second, timedelta(minutes=65))  # signing for 55 minutes: first still needed
        third = await rotate_signing_key(s, timedelta(hours=1))
        assert [k.kid for k in await active_keys(s)] == [first, second, third]
        await backdate(s, second, timedelta(minutes=75))  # signing for 65 minutes
        fourth = await rotate_signing_key(s, timedelta(hours=1))
        assert [k.kid for k in await active_keys(s)] == [second, third, fourth]
        await s.commit()


async def test_a_compromised_key_is_retired_and_the_new_key_signs_at_once(connection):
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        first = await rotate_signing_key(s)
        await backdate(s, first, timedelta(days=1))
        second = await rotate_signing_key(s, compromised=True)
        assert [k.kid for k in await active_keys(s)] == [second]
        assert (await signing_key(s)).kid == second


async def test_a_verifier_with_no_keys_looks_for_the_first_key_at_once(settings):
    key = ECKey.generate_key("P-256", parameters={"kid": "k-first", "alg": "ES256"}, private=True)
    published: list[ECKey] = []
    loads = 0

    async def load() -> KeySet:
        nonlocal loads
        loads += 1
        return KeySet(list(published))

    verifier = TokenVerifier(issuer=settings.token_issuer, audience=settings.token_audience, load_keys=load)
    await verifier.refresh()
    published.append(key)  # the operator's first `keys rotate`, just after the pods started
    token = mint_access_token(key, settings, subject="x", scopes=["agencies:read"], client_id="c")
    assert (await verifier.verify(token))["sub"] == "x"
    assert loads == 2
