"""The IG lead's console: protocol register, protocols and their diffs, flows, withheld events, access log,
retention runs and retractions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/web/ig", include_in_schema=False)
