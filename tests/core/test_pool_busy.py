"""Every pooled connection busy for the pool timeout (there is no overflow): the request is
refused with 503 problem+json and Retry-After, not a 500."""

import httpx
from sqlalchemy.ext.asyncio import create_async_engine


async def test_a_request_finding_no_free_connection_gets_503(make_app, committed_database_url, auth):
    engine = create_async_engine(committed_database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    app = await make_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/v1/children", headers=auth())).status_code == 200
        async with engine.connect():  # the pool's only connection, held
            busy = await client.get("/v1/children", headers=auth())
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert busy.headers["retry-after"] == "2"
        assert (await client.get("/v1/children", headers=auth())).status_code == 200
    await engine.dispose()
