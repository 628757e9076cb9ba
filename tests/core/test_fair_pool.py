"""Waiting requests get pooled connections in the order they came (services/core/pool.py)."""

import asyncio

import pytest

from services.core.database import create_engine
from services.core.pool import FairAsyncPool, FairQueue
from services.core.settings import Settings


async def test_an_item_given_back_goes_to_the_longest_waiter_not_to_a_newcomer():
    queue: FairQueue[str] = FairQueue()
    served: list[tuple[str, str]] = []

    async def wait(name: str) -> None:
        served.append((name, await queue.get()))

    first, second = asyncio.create_task(wait("first")), asyncio.create_task(wait("second"))
    await asyncio.sleep(0)
    queue.put_nowait("a")
    # Before `first` has run, a newcomer asks: asyncio.Queue would give it "a".
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    newcomer = asyncio.create_task(wait("newcomer"))
    await asyncio.sleep(0)
    queue.put_nowait("b")
    queue.put_nowait("c")
    await asyncio.gather(first, second, newcomer)
    assert served == [("first", "a"), ("second", "b"), ("newcomer", "c")]


async def test_asyncio_queue_lets_a_newcomer_take_what_a_waiter_was_woken_for():
    """Why the pool needs FairQueue: the unfairness the test above rules out."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")
    assert queue.get_nowait() == "a"
    waiter.cancel()


async def test_an_item_handed_to_a_waiter_that_gave_up_goes_to_the_next():
    queue: FairQueue[str] = FairQueue()
    first, second = asyncio.create_task(queue.get()), asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")  # handed to `first` ...
    first.cancel()  # ... which gives up (a timeout) before it runs
    assert await second == "a"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_waiter_that_timed_out_leaves_the_line():
    queue: FairQueue[str] = FairQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("a")
    assert queue.get_nowait() == "a"


async def test_a_connection_given_back_goes_to_the_requests_already_waiting(database_url):
    engine = create_engine(database_url, Settings(database_pool_size=1))
    assert isinstance(engine.pool, FairAsyncPool)
    order: list[str] = []
    try:
        holder = await engine.connect()

        async def wait(name: str) -> None:
            async with engine.connect():
                order.append(name)
                await asyncio.sleep(0.01)

        waiting = [asyncio.create_task(wait("first")), asyncio.create_task(wait("second"))]
        await asyncio.sleep(0.05)
        await holder.close()
        # The holder asks again at once, before the waiters have run: it is served last.
        async with engine.connect():
            order.append("holder again")
        await asyncio.gather(*waiting)
    finally:
        await engine.dispose()
    assert order == ["first", "second", "holder again"]
