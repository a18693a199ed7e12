"""Liveness (/healthz), readiness (/readyz) and Prometheus metrics (/metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.problems import problem_response
from api.readiness import WarehouseReadiness
from api.request_metrics import RequestMetrics

router = APIRouter(tags=["health"])
metrics_router = APIRouter(tags=["health"])  # included only when metrics are on
RETRY_AFTER_S = 10


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Ok while the process answers (asks nothing of the warehouse: an outage does not restart the API)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> JSONResponse | dict[str, str]:
    """Ok when the warehouse answers in time (asked at most once a second); else 503 naming the check."""
    readiness: WarehouseReadiness = request.app.state.readiness
    answer = await readiness.check()
    if answer.ready:
        return {"status": "ready"}
    detail = f"not ready: {answer.check}: {answer.reason}"
    return problem_response(503, detail, "/readyz", headers={"Retry-After": str(RETRY_AFTER_S)})


@metrics_router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """The API's Prometheus metrics (text exposition format)."""
    collected: RequestMetrics = request.app.state.request_metrics
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
