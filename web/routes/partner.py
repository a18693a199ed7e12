"""The partner's page: the data quality of its own feeds and what the protocols let flow from each, to whom."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.dependencies import RegisterDep
from web.templating import render
from web.viewer import Viewer, role_page

router = APIRouter(prefix="/web/partner", include_in_schema=False)

PartnerDep = Annotated[Viewer, Depends(role_page("partner"))]


@router.get("/", response_class=HTMLResponse)
def feeds(request: Request, viewer: PartnerDep, register: RegisterDep) -> HTMLResponse:
    """The shell: a form (dataset, days before a record counts as late) whose fields are the page's query, and the
    containers the page script fills from /v1/dq, /v1/partner/flows and /v1/partner/settings."""
    datasets = sorted(register.provided_datasets().get(viewer.caller.org, frozenset()))
    return render(request, "partner/feeds.html", viewer, datasets=datasets)
