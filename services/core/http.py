"""HTTP conventions shared by every resource: ETags, If-Match, cursor pages."""

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from services.core.errors import InvalidInput, PreconditionFailed, PreconditionRequired

T = TypeVar("T")
R = TypeVar("R")

# Every list pages the same way, within these limits.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


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


def paging(
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page")] = DEFAULT_PAGE_SIZE,
) -> Paging:
    return Paging(cursor=cursor, limit=limit)


PagingParams = Annotated[Paging, Depends(paging)]
