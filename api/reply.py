"""The one place a route's answer is recorded in the access log (its clauses and rows) and rendered."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal, TypeVar, overload

from fastapi import Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.access_log import Access, AccessDep, PublicAccessDep
from api.answer import Answer, Format, GeoJson
from api.dependencies import GeographyDep, SessionDep
from api.rendering import render
from geography.settings import GeocoderSettings
from warehouse.queries.areas import area_shapes

B = TypeVar("B")


@dataclass(frozen=True)
class Reply:
    """Records an answer in the request's access record, then renders it in the format asked for."""

    access: Access
    session: Session
    geography: GeocoderSettings  # the vintages of the areas whose shapes GeoJSON carries

    @overload
    def __call__(self, answer: Answer[GeoJson], format: Format = "json") -> Response: ...

    @overload
    def __call__(self, answer: Answer[B], format: Literal["json"] = "json") -> B: ...

    @overload
    def __call__(self, answer: Answer[B], format: Format) -> B | Response: ...

    def __call__(self, answer: Answer[Any], format: Format = "json") -> Any:
        self.access.protocols = list(answer.protocols)
        self.access.rows = answer.rows
        self.access.released = answer.released
        return render(answer, format, partial(area_shapes, self.session, self.geography))


async def reply(access: AccessDep, session: SessionDep, geography: GeographyDep) -> Reply:
    return Reply(access, session, geography)


async def public_reply(access: PublicAccessDep, session: SessionDep, geography: GeographyDep) -> Reply:
    """The reply of a public endpoint: recorded as the public, whatever key was sent."""
    return Reply(access, session, geography)


ReplyDep = Annotated[Reply, Depends(reply)]
PublicReplyDep = Annotated[Reply, Depends(public_reply)]
