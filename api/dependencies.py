"""FastAPI dependencies: the parts the app's lifespan put on `app.state`, and a session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, TypeVar

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.memo import AnswerMemos
from api.perturbation_tables import PerturbationTables
from api.settings import ApiSettings
from api.ward_parents import WardParents
from geography.settings import GeocoderSettings
from sharing_protocols.decision import ProtocolRegister
from warehouse.reference.geocoder_data import Geocoders

T = TypeVar("T")


def _part(request: Request, name: str, kind: type[T]) -> T:
    """`app.state.<name>`, which the lifespan of `api.factory.create_app` sets."""
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"app.state.{name} is not set: the app is used outside its lifespan")
    return value


async def get_engine(request: Request) -> Engine:
    return _part(request, "engine", Engine)


EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_settings(request: Request) -> ApiSettings:
    return _part(request, "settings", ApiSettings)


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """A warehouse session for the route, closed as soon as the route returns (before the response is sent, when the
    edge writes the access record on a connection of its own): a request never holds two pooled connections.

    The session connects at its first statement (in the route's thread), not here: made on the loop, it costs no
    threadpool hop; closing it returns the connection to the pool, in a thread. The engine's connections
    carry the API's statement timeout (`api.factory`; cancelled statements are a 503: `api.error_handlers`).
    """
    session = Session(engine)
    try:
        yield session
    finally:
        # as FastAPI exits a sync dependency: shielded from cancellation, and outside the threadpool's shared limit
        # (a limiter of its own per close), so returning a connection never waits behind requests that hold the
        # threadpool waiting for one
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(session.close, limiter=CapacityLimiter(1))


async def get_register(request: Request) -> ProtocolRegister:
    return _part(request, "register", ProtocolRegister)


async def get_perturbation_tables(request: Request) -> PerturbationTables:
    return _part(request, "perturbation_tables", PerturbationTables)


async def get_ward_parents(request: Request) -> WardParents:
    return _part(request, "ward_parents", WardParents)


async def get_memos(request: Request) -> AnswerMemos:
    return _part(request, "memos", AnswerMemos)


async def get_geocoders(request: Request) -> Geocoders:
    return _part(request, "geocoders", Geocoders)


async def get_geography(geocoders: Annotated[Geocoders, Depends(get_geocoders)]) -> GeocoderSettings:
    """The vintages the geocoder places events in, which area queries follow."""
    return geocoders.settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RegisterDep = Annotated[ProtocolRegister, Depends(get_register)]
TablesDep = Annotated[PerturbationTables, Depends(get_perturbation_tables)]
WardsDep = Annotated[WardParents, Depends(get_ward_parents)]
MemosDep = Annotated[AnswerMemos, Depends(get_memos)]
GeocodersDep = Annotated[Geocoders, Depends(get_geocoders)]
GeographyDep = Annotated[GeocoderSettings, Depends(get_geography)]
