"""The scorecard indicator registry, for any caller with a key."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.answer import Answer
from api.caller import PUBLIC, Caller
from api.errors import NotAuthenticated
from api.schemas.indicators import IndicatorOut
from warehouse.reference.indicator_store import read_indicators


def indicators(session: Session, caller: Caller) -> Answer[list[IndicatorOut]]:
    """The indicators of the scorecard: definition, owner, direction of good, baseline, targets and data lag."""
    if caller.role == PUBLIC:
        raise NotAuthenticated("the indicator registry needs an API key")
    out = [
        IndicatorOut(
            **entry.indicator.model_dump(exclude={"categories"}),
            categories=None if entry.indicator.categories is None else list(entry.indicator.categories),
            loaded_at=entry.loaded_at,
        )
        for entry in read_indicators(session)
    ]
    return Answer(out, rows=len(out))
