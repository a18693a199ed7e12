"""The CSP analyst's workspace: map, trends, scorecard, hot spots, repeats, cohorts and the performance pack."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from sharing_protocols.periods import PeriodType
from web.settings import WebSettings
from web.templating import render
from web.viewer import Viewer, role_page

router = APIRouter(prefix="/web/analyst", include_in_schema=False)
AnalystDep = Annotated[Viewer, Depends(role_page("analyst"))]

# The choices the aggregate endpoints answer (api.params): levels the map offers and the trend periods.
MAP_LEVELS = (("ward", "Ward"), ("lsoa", "LSOA (2021)"), ("lad", "District"))
MEASURES = (("counts", "Counts"), ("rates", "Rates per head of population"))
# The denominators /v1/rates answers (api.schemas.rates.DenominatorName), as the API describes them.
DENOMINATORS = (
    ("persons", "All residents (per 1,000)"),
    ("adults", "Adults 18 and over (per 1,000)"),
    ("adult_females", "Females 16 to 64 (per 10,000; districts and above)"),
)
TREND_PERIODS = (
    (PeriodType.month.value, "Month"),
    (PeriodType.quarter.value, "Quarter"),
    (PeriodType.financial_year.value, "Financial year (April to March)"),
    (PeriodType.rolling_12.value, "Rolling 12 months"),
)


def _basemap(request: Request) -> str | None:
    settings = getattr(request.app.state, "web_settings", None)
    return settings.basemap_url if isinstance(settings, WebSettings) else None


@router.get("/", response_class=HTMLResponse)
def analyst_map(request: Request, viewer: AnalystDep) -> HTMLResponse:
    """The map: counts or rates by ward, LSOA or district for a dataset, category and months, around the analyst's
    areas; the page script draws it from /v1/counts or /v1/rates (GeoJSON) with the table behind it."""
    return render(
        request,
        "analyst/map.html",
        viewer,
        query=request.query_params,
        levels=MAP_LEVELS,
        measures=MEASURES,
        denominators=DENOMINATORS,
        basemap_url=_basemap(request),
    )


@router.get("/trends", response_class=HTMLResponse)
def analyst_trends(request: Request, viewer: AnalystDep) -> HTMLResponse:
    """Trends: each period's count against the previous period and a year before, from /v1/trends."""
    return render(
        request,
        "analyst/trends.html",
        viewer,
        query=request.query_params,
        levels=MAP_LEVELS,
        periods=TREND_PERIODS,
    )
