"""HTTP for scorecards (`scorecards:read`): JSON, or CSV with `?format=csv` or Accept."""

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from services.core.clock import Today
from services.core.errors import ERROR_RESPONSES, NotFound
from services.permissions import ScorecardReader
from services.register.scorecards import service
from services.register.scorecards.schemas import Scorecard

router = APIRouter(prefix="/v1/scorecards", tags=["scorecards"], responses=ERROR_RESPONSES)

Year = Annotated[
    int | None,
    Query(
        ge=2000,
        le=2100,
        description="Financial year (2025 = April 2025 to March 2026); default: the rolling three years",
    ),
]
Format = Annotated[Literal["json", "csv"] | None, Query(description="Default: JSON, or CSV if Accept asks for it")]


def _respond(cards: list[Scorecard], request: Request, fmt: str | None, name: str) -> Response | list[Scorecard]:
    if fmt == "csv" or (fmt is None and "text/csv" in request.headers.get("accept", "")):
        rows = [service.flat(card) for card in cards]
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return Response(
            out.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'}
        )
    return cards


@router.get("", response_model=list[Scorecard], responses={200: {"content": {"text/csv": {}}}})
async def list_scorecards(
    ctx: ScorecardReader,
    request: Request,
    today: Today,
    year: Year = None,
    level: Literal["national", "raa", "la"] = "national",
    format: Format = None,
) -> Response | list[Scorecard]:
    cards = await service.scorecards(
        ctx.session,
        today=today,
        year=year,
        level=level,
        agency_ref=None,
        minimum=request.app.state.settings.scorecard_min_children,
    )
    return _respond(cards, request, format, f"scorecards-{level}-{year or 'rolling'}")


@router.get("/{agency_ref}", response_model=list[Scorecard], responses={200: {"content": {"text/csv": {}}}})
async def agency_scorecard(
    ctx: ScorecardReader, agency_ref: str, request: Request, today: Today, year: Year = None, format: Format = None
) -> Response | list[Scorecard]:
    """One RAA's or local authority's scorecard, with the national one to compare."""
    minimum = request.app.state.settings.scorecard_min_children
    cards = await service.scorecards(
        ctx.session, today=today, year=year, level=None, agency_ref=agency_ref, minimum=minimum
    )
    if not cards:
        # Not echoing the ref: adopters call this too, and their responses carry no case reference.
        raise NotFound("No RAA or local authority has that reference.")
    national = await service.scorecards(
        ctx.session, today=today, year=year, level="national", agency_ref=None, minimum=minimum
    )
    return _respond(cards + national, request, format, f"scorecard-{agency_ref}-{year or 'rolling'}")
