"""The CSP analyst's performance pages: the scorecard, hot spots, repeats, cohorts and the quarterly performance
pack. Each route checks the role and renders the page's form (GET: the URL is the permalink) and its empty
containers; the page's script fetches every figure from the API with the same parameters."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.dependencies import GeographyDep, RegisterDep, SessionDep
from web.caller_areas import Choice, caller_csps, caller_datasets, scorecard_datasets
from web.templating import render
from web.viewer import Viewer, role_page

router = APIRouter(prefix="/web/analyst", include_in_schema=False)

ANALYST = role_page("analyst")
AnalystDep = Annotated[Viewer, Depends(ANALYST)]


def viewer_csps(
    viewer: AnalystDep, session: SessionDep, geography: GeographyDep, register: RegisterDep
) -> list[Choice]:
    """The CSPs the signed-in analyst's organisation serves: the pages' CSP choice."""
    return caller_csps(session, geography, register, viewer.caller)


def viewer_datasets(viewer: AnalystDep, register: RegisterDep) -> list[str]:
    """The datasets the signed-in analyst's protocols grant: the pages' dataset choice."""
    return caller_datasets(register, viewer.caller)


def pack_datasets(viewer: AnalystDep, session: SessionDep, register: RegisterDep) -> list[str]:
    """The datasets a pack shows when none is asked for: those the CSP indicators count, of the analyst's own
    (all of theirs when none is)."""
    granted = caller_datasets(register, viewer.caller)
    return [d for d in granted if d in scorecard_datasets(session)] or granted


CspsDep = Annotated[list[Choice], Depends(viewer_csps)]
DatasetsDep = Annotated[list[str], Depends(viewer_datasets)]
PackDatasetsDep = Annotated[list[str], Depends(pack_datasets)]
Text = Annotated[str | None, Query(max_length=200)]
Codes = Annotated[list[str] | None, Query(max_length=200)]
From = Annotated[str | None, Query(alias="from", max_length=200)]  # `from` is a Python keyword

LEVELS = [
    Choice("lad", "District"),
    Choice("csp", "CSP"),
    Choice("county", "County"),
    Choice("pfa", "Police force area"),
]
QUARTERS_SHOWN = 12
_MONTH_NAMES = "January February March April May June July August September October November December".split()


def financial_quarters(today: date, count: int = QUARTERS_SHOWN) -> list[Choice]:
    """The financial-year quarters (April to June is Q1) from the one `today` is in back, newest first; each
    choice's value is the quarter's first month, YYYY-MM."""
    first = today.year * 12 + today.month - 1
    first -= (today.month - 4) % 3  # back to the quarter's first month (April, July, October, January)
    found = []
    for index in range(first, first - 3 * count, -3):
        year, month = divmod(index, 12)
        start = year if month >= 3 else year - 1
        quarter = (month - 3) % 12 // 3 + 1
        last_year, last_month = divmod(index + 2, 12)
        label = (
            f"Q{quarter} {start}/{(start + 1) % 100:02d} ({_MONTH_NAMES[month]} to {_MONTH_NAMES[last_month]} "
            f"{last_year})"
        )
        found.append(Choice(f"{year}-{month + 1:02d}", label))
    return found


def _offering(choices: list[Choice], asked: str | None) -> list[Choice]:
    """`choices`, and the value the URL asks for when it is not one of them (so the form shows what was asked and
    the API answers for it, or says why not)."""
    if asked and asked not in {c.value for c in choices}:
        return [*choices, Choice(asked, asked)]
    return choices


@router.get("/scorecard", response_class=HTMLResponse)
def scorecard(
    request: Request,
    viewer: AnalystDep,
    csps: CspsDep,
    csp: Text = None,
    as_of: Text = None,
) -> HTMLResponse:
    """The CSP scorecard: each indicator's actual, target, RAG, direction of travel and provisional months (of the
    analyst's first CSP when none is asked for)."""
    chosen = csp or (csps[0].value if csps else "")
    return render(request, "analyst/scorecard.html", viewer, csps=_offering(csps, csp), csp=chosen, as_of=as_of or "")


def _filled(fields: dict[str, str | None]) -> dict[str, str]:
    """A form's fields as the page's URL gives them, absent ones empty."""
    return {name: value or "" for name, value in fields.items()}


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots(
    request: Request,
    viewer: AnalystDep,
    datasets: DatasetsDep,
    dataset: Text = None,
    from_: From = None,
    to: Text = None,
    area: Text = None,
    area_level: Text = None,
    level: Text = None,
    category: Text = None,
) -> HTMLResponse:
    """Getis-Ord Gi* hot and cold spots: a map and the table of each area's count, z-score and class."""
    fields = {"dataset": dataset, "from": from_, "to": to, "area": area, "area_level": area_level, "level": level}
    fields["category"] = category
    return render(request, "analyst/hotspots.html", viewer, datasets=datasets, levels=LEVELS, fields=_filled(fields))


@router.get("/repeats", response_class=HTMLResponse)
def repeats(
    request: Request,
    viewer: AnalystDep,
    measure: Text = None,
    from_: From = None,
    to: Text = None,
    level: Text = None,
    area: Text = None,
    area_level: Text = None,
) -> HTMLResponse:
    """Domestic abuse repeat victimisation, or the MARAC repeat rate: table, chart and CSV."""
    fields = {"measure": measure, "from": from_, "to": to, "level": level, "area": area, "area_level": area_level}
    return render(request, "analyst/repeats.html", viewer, levels=LEVELS, fields=_filled(fields))


@router.get("/cohorts", response_class=HTMLResponse)
def cohorts(
    request: Request,
    viewer: AnalystDep,
    from_: From = None,
    to: Text = None,
    level: Text = None,
    area: Text = None,
    area_level: Text = None,
    cohort: Text = None,
) -> HTMLResponse:
    """Reoffending cohorts by CSP (or district), with the offenders not linked to an area: table, chart and CSV."""
    fields = {"from": from_, "to": to, "level": level, "area": area, "area_level": area_level, "cohort": cohort}
    return render(request, "analyst/cohorts.html", viewer, levels=LEVELS, fields=_filled(fields))


@router.get("/pack", response_class=HTMLResponse)
def pack(
    request: Request,
    viewer: AnalystDep,
    csps: CspsDep,
    datasets: DatasetsDep,
    defaults: PackDatasetsDep,
    csp: Text = None,
    quarter: Text = None,
    dataset: Codes = None,
) -> HTMLResponse:
    """The quarterly performance pack of one CSP: headline table, RAG scorecard, trends and a hot-spot map. Without
    parameters: the analyst's first CSP, the last complete quarter and the datasets the CSP indicators count."""
    quarters = financial_quarters(date.today())
    return render(
        request,
        "analyst/pack.html",
        viewer,
        csps=_offering(csps, csp),
        quarters=_offering(quarters, quarter),
        datasets=datasets,
        csp=csp or (csps[0].value if csps else ""),
        quarter=quarter or quarters[1].value,  # the first is the quarter today is in, not yet complete
        chosen=set(dataset or defaults),
    )
