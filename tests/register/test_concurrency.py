"""Concurrent writers on committed data (no rolled-back outer transaction here)."""

import asyncio

import httpx

from tests.factories import child_payload


async def test_concurrent_updates_of_one_child_exactly_one_wins(committed_client, auth):
    client, prefix, _ = committed_client
    created = await client.post("/v1/children", json=child_payload(la_ref=prefix + "LA-N1"), headers=auth())
    assert created.status_code == 201, created.text
    url, etag = f"/v1/children/{created.json()['ref']}", created.headers["ETag"]

    async def edit(i: int) -> httpx.Response:
        return await client.patch(url, json={"profile_text": f"edit {i}"}, headers={**auth(), "If-Match": etag})

    responses = await asyncio.gather(*(edit(i) for i in range(4)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 412, 412, 412]
    winner = next(r for r in responses if r.status_code == 200).json()["profile_text"]
    final = (await client.get(url, headers=auth())).json()
    assert final["profile_text"] == winner and final["version"] == 2
