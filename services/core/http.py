"""HTTP conventions shared by every resource: ETags, If-Match, cursor pages, the caller's address."""

import base64
import ipaddress
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Generic, Protocol, TypeVar

import orjson
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.core.errors import InvalidInput, PreconditionFailed, PreconditionRequired

T = TypeVar("T")
R = TypeVar("R")

# Every list pages the same way, within these limits.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# Any date a caller sends: wide enough for every real record, narrow enough that date
# arithmetic on it (instalments, ages, periods) can never overflow.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)
RecordDate = Annotated[date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]


# Strings callers send, each with a ceiling (surrounding blanks are stripped first, so a
# blank name is empty and refused).
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# A reference of a record or agency ("C-7KQ2M9XH", "RAA-N"): letters, digits and hyphens.
RefText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
]
# Free text PostgreSQL can store: anything but the NUL character.
STORABLE_TEXT = r"^[^\x00]*$"
# A note or reason that says something, stated so the schema tells the truth about the blanks
# stripped before the length is checked: at least three characters from the first non-blank
# one to the last, and no NUL. Use with min_length=3.
STATED_TEXT = r"^\s*[^\s\x00][^\x00]+[^\s\x00]\s*$"


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(request: Request) -> int:
    """The version the caller last read, from `If-Match`; writes without one are refused."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired("Read the record first and send its ETag in an If-Match header.")
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise PreconditionFailed('If-Match must be an ETag this service returned, for example "3".')
    return int(value)


def check_version(request: Request, current: int) -> None:
    if expected_version(request) != current:
        raise PreconditionFailed(
            f"The record is now at version {current}; read it again and reapply your change.",
            extra={"current_version": current},
        )


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def next_cursor(rows: Sequence[T], limit: int, key: Callable[[T], list[Any]]) -> str | None:
    """The cursor after a page: callers fetch `limit + 1` rows, and a row beyond the page
    means there is a next one, which starts after the page's last row."""
    return encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None


def decode_cursor(cursor: str, length: int) -> list[str | int]:
    """The values of a cursor made by `encode_cursor`: strings and integers only."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise InvalidInput("The cursor is not valid; use next_cursor from a previous page.") from exc
    valid = (
        isinstance(values, list)
        and len(values) == length
        and all(isinstance(v, str | int) and not isinstance(v, bool) for v in values)
    )
    if not valid:
        raise InvalidInput("The cursor is not valid; use next_cursor from a previous page.")
    return values


def parse_cursor(cursor: str, *parsers: Callable[[Any], Any]) -> tuple[Any, ...]:
    """Decode a cursor and convert each value; anything off is the caller's input error."""
    values = decode_cursor(cursor, len(parsers))
    try:
        return tuple(parse(value) for parse, value in zip(parsers, values, strict=True))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("The cursor is not valid; use next_cursor from a previous page.") from exc


@dataclass(frozen=True)
class Paging:
    """A list request's page: where to start (an opaque cursor) and how many rows.

    Repositories fetch `fetch` rows (one more than the page) so `page()` can tell whether
    there is a next page without counting."""

    cursor: str | None
    limit: int

    @property
    def fetch(self) -> int:
        return self.limit + 1

    def after(self, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
        """The cursor's values, converted by `parsers`, or None on the first page."""
        return parse_cursor(self.cursor, *parsers) if self.cursor else None

    def page(self, rows: Sequence[R], key: Callable[[R], list[Any]], item: Callable[[R], T]) -> "Page[T]":
        return Page(items=[item(row) for row in rows[: self.limit]], next_cursor=self.next(rows, key))

    def next(self, rows: Sequence[R], key: Callable[[R], list[Any]]) -> str | None:
        """The cursor of the page after `rows` (None on the last page)."""
        return next_cursor(rows, self.limit, key)

    def page_response(
        self, rows: Sequence[R], key: Callable[[R], list[Any]], item: Callable[[R], dict[str, Any]]
    ) -> Response:
        """`page()` for the busiest lists: items built as plain dicts of the route's
        response model's fields and sent as JSON at once (`json_response`)."""
        return json_response({"items": [item(row) for row in rows[: self.limit]], "next_cursor": self.next(rows, key)})


def json_response(content: Any, status_code: int = 200) -> Response:
    """JSON by orjson, for a hot route that returns plain values instead of pydantic models:
    FastAPI then neither validates nor serialises again. orjson writes dates, UTC times
    (as "Z", like pydantic) and enum values as the models would; the route keeps its
    response_model for the OpenAPI document, and tests/test_round_trips.py checks the body
    against it."""
    return Response(orjson.dumps(content, option=orjson.OPT_UTC_Z), status_code, media_type="application/json")


# A page's query parameters as fields of a route's query-parameter model (the hot lists take
# their filters and page as one model, `Annotated[Model, Query()]`: one dependency node and
# one validation), documented exactly as `paging` documents them.
PageCursor = Annotated[str | None, Field(max_length=200, description="next_cursor of the previous page")]
PageLimit = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description="Rows per page")]


class PagedQuery(Protocol):
    cursor: str | None
    limit: int


def paging_of(query: PagedQuery) -> Paging:
    """The page asked for by a query-parameter model with PageCursor and PageLimit fields."""
    return Paging(cursor=query.cursor, limit=query.limit)


async def paging(  # async: no I/O, so FastAPI calls it inline, not in its thread pool
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page")] = DEFAULT_PAGE_SIZE,
) -> Paging:
    return Paging(cursor=cursor, limit=limit)


PagingParams = Annotated[Paging, Depends(paging)]


def client_address(request: Request) -> str:
    """The caller's real address. X-Forwarded-For is read only when the connection comes from
    a trusted proxy (`TRUSTED_PROXIES`), right to left, skipping the trusted hops: the first
    untrusted address is the one the nearest trusted proxy saw. Anyone else could write any
    address they liked there."""
    trusted = request.app.state.settings.trusted_proxies
    peer = request.client.host if request.client else "unknown"
    if not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
