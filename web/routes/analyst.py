"""The CSP analyst's workspace: map, trends, scorecard, hot spots, repeats, cohorts and the performance pack."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/web/analyst", include_in_schema=False)
