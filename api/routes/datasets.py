"""GET /v1/datasets: the datasets the caller may count, with the levels, categories and months it may ask for."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import CallerDep
from api.dependencies import RegisterDep, SessionDep
from api.reply import ReplyDep
from api.schemas.datasets import DatasetOut
from api.services import datasets as service

router = APIRouter(prefix="/v1", tags=["datasets"])


@router.get("/datasets", response_model=list[DatasetOut])
def datasets(caller: CallerDep, session: SessionDep, register: RegisterDep, reply: ReplyDep) -> list[DatasetOut]:
    """Each dataset the caller's protocols in force let it count: the levels and categories /v1/counts, /v1/rates
    and /v1/trends answer it at, and the first and last month with any of its events. No figures."""
    return reply(service.datasets(session, register, caller))
