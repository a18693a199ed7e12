"""GET /v1/partner/...: a partner's own view: what the protocols let flow from its feeds, and how it publishes.

Its feeds' data quality is GET /v1/dq (api.routes.quality), which answers a partner for its own feeds only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth import CallerDep
from api.dependencies import RegisterDep, get_settings
from api.reply import ReplyDep
from api.schemas.partner import PartnerSettingsOut
from api.services import partner as service
from api.settings import ApiSettings
from sharing_protocols.documents import SLUG_PATTERN
from sharing_protocols.partner_flows import PartnerFlow

router = APIRouter(prefix="/v1/partner", tags=["partners"])


@router.get("/flows", response_model=list[PartnerFlow])
def flows(
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    dataset: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=64, description="one dataset")] = None,
    format: Literal["json", "csv"] = "json",
) -> list[PartnerFlow] | Response:
    """What the protocols let flow from the calling partner's datasets: to which recipients, which fields at which
    precision, as records or aggregates only, under which protocol version and clause (partners only)."""
    return reply(service.flows(register, caller, dataset), format)


@router.get("/settings", response_model=PartnerSettingsOut)
def settings(
    caller: CallerDep,
    register: RegisterDep,
    reply: ReplyDep,
    api: Annotated[ApiSettings, Depends(get_settings)],
) -> PartnerSettingsOut:
    """The calling partner's publishing settings: its partner id, broker username, datasets and their topics; never
    a secret (the broker's address, its CA file and the password come from the hub operator)."""
    return reply(service.settings(register, caller, api.topic_prefix))
