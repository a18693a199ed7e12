"""The IG lead's console: protocol register, protocols and their diffs, flows, withheld events, access log,
retention runs and retractions.

Each route checks the role and renders the page's shell (its GET form, whose fields are the page's query
parameters, and the containers); the page's script reads the same parameters and fetches every figure from the
API's /v1/ig/ endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from sharing_protocols.documents import SLUG_PATTERN
from warehouse.governance.keys import ROLES
from web.templating import render
from web.viewer import Viewer, role_page

router = APIRouter(prefix="/web/ig", include_in_schema=False)

IgLeadDep = Annotated[Viewer, Depends(role_page("ig_lead"))]
ProtocolId = Annotated[str, Path(max_length=80, pattern=SLUG_PATTERN)]


def _page(request: Request, viewer: Viewer, name: str, **context: Any) -> HTMLResponse:
    """The page's template with its query parameters (to fill the form's fields: the permalink restores them)."""
    return render(request, f"ig/{name}.html", viewer, params=dict(request.query_params), **context)


@router.get("/", response_class=HTMLResponse)
def register(request: Request, viewer: IgLeadDep) -> HTMLResponse:
    """The protocol register, those due for review or expiring within 90 days first."""
    return _page(request, viewer, "register")


@router.get("/protocols/{protocol_id}", response_class=HTMLResponse)
def protocol(request: Request, viewer: IgLeadDep, protocol_id: ProtocolId) -> HTMLResponse:
    """One protocol's clauses in plain words (a version: `?version=`)."""
    return _page(request, viewer, "protocol", protocol_id=protocol_id)


@router.get("/protocols/{protocol_id}/diff", response_class=HTMLResponse)
def protocol_diff(request: Request, viewer: IgLeadDep, protocol_id: ProtocolId) -> HTMLResponse:
    """What changed between two versions of a protocol (`?from=&to=`)."""
    return _page(request, viewer, "diff", protocol_id=protocol_id)


@router.get("/flows", response_class=HTMLResponse)
def flows(request: Request, viewer: IgLeadDep) -> HTMLResponse:
    """Events released and withheld, per partner, recipient and month."""
    return _page(request, viewer, "flows")


@router.get("/withheld", response_class=HTMLResponse)
def withheld(request: Request, viewer: IgLeadDep) -> HTMLResponse:
    """Events withheld, by reason."""
    return _page(request, viewer, "withheld")


@router.get("/access-log", response_class=HTMLResponse)
def access_log(request: Request, viewer: IgLeadDep) -> HTMLResponse:
    """Who queried what, when, under which protocols."""
    return _page(request, viewer, "access_log", roles=ROLES)


@router.get("/retention", response_class=HTMLResponse)
def retention(request: Request, viewer: IgLeadDep) -> HTMLResponse:
    """The field retention register, retention runs and retractions."""
    return _page(request, viewer, "retention")
