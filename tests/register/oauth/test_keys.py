"""Key rotation: new tokens use the new key, old tokens verify until they expire."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.register.oauth.keys import active_keys, mint_access_token, rotate_signing_key, signing_key
from services.register.oauth.models import SigningKey


async def test_rotation_keeps_old_tokens_valid_then_retires_the_old_key(connection, make_app, settings):
    import httpx

    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        first = await rotate_signing_key(s)
        old_token = mint_access_token(await signing_key(s), settings, subject="x", scopes=["agencies:read"],
                                      client_id="c")
        second = await rotate_signing_key(s)
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
        for kid, hours in ((first, 3), (second, 2)):
            await s.execute(update(SigningKey).where(SigningKey.kid == kid)
                            .values(created_at=datetime.now(UTC) - timedelta(hours=hours)))
        third = await rotate_signing_key(s, timedelta(hours=1))
        assert [k.kid for k in await active_keys(s)] == [second, third]
        await s.commit()
