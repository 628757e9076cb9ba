"""The floor for the load benchmark: a minimal FastAPI endpoint reading one row with asyncpg."""

import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=2, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/row")
async def row() -> dict:
    async with app.state.pool.acquire() as conn:
        record = await conn.fetchrow("SELECT ref, waiting_since FROM children ORDER BY id LIMIT 1")
    return {"ref": record["ref"], "waiting_since": record["waiting_since"].isoformat()}
