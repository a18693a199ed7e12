"""The partner's page: the data quality of its own feeds and what the protocols let flow from each, to whom."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/web/partner", include_in_schema=False)
