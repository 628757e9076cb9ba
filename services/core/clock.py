"""The calendar: the one place the service reads today's date.

Routes take `Today` (a dependency tests can override); jobs and services take `today` as a
parameter, defaulting to `today()` only at their entry point (the CLI, the nightly job).
"""

from datetime import date
from typing import Annotated

from fastapi import Depends


def today() -> date:
    return date.today()


async def todays_date() -> date:
    """`today()` as a route dependency: async, so FastAPI calls it inline instead of in its
    thread pool (a thread hop per request for a date)."""
    return today()


Today = Annotated[date, Depends(todays_date)]
