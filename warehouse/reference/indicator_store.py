"""The indicator registry in the warehouse: replaced as a whole by `load_indicators`, read back by `read_indicators`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warehouse.reference.indicator_registry import Indicator, build_indicator
from warehouse.schema.indicator_models import IndicatorRow, IndicatorTargetRow


def _numeric(value: float) -> Decimal:
    """A float as the decimal it was written as (33.8, not 33.799999...)."""
    return Decimal(repr(value))


def load_indicators(session: Session, indicators: Sequence[Indicator]) -> int:
    """Replace the registry (every indicator and target) with `indicators`; returns how many were loaded."""
    ids = [indicator.id for indicator in indicators]
    if len(set(ids)) != len(ids):
        raise ValueError("two indicators have the same id")
    session.execute(delete(IndicatorTargetRow))
    session.execute(delete(IndicatorRow))
    for indicator in indicators:
        session.add(
            IndicatorRow(
                id=indicator.id,
                title=indicator.title,
                definition=indicator.definition,
                owner=indicator.owner,
                dataset=indicator.dataset,
                measure=indicator.measure,
                direction=indicator.direction,
                level=indicator.level,
                data_lag_months=indicator.data_lag_months,
                provisional_months=indicator.provisional_months,
                tolerance_pct=_numeric(indicator.tolerance_pct),
                baseline_year=indicator.baseline.year,
                baseline_value=None if indicator.baseline.value is None else _numeric(indicator.baseline.value),
                document=indicator.model_dump(mode="json"),
            )
        )
    session.flush()  # the indicators exist before their targets refer to them
    session.add_all(
        IndicatorTargetRow(indicator_id=indicator.id, area_code=area, year=year, value=_numeric(value))
        for indicator in indicators
        for area, year, value in indicator.target_rows()
    )
    session.flush()
    return len(indicators)


@dataclass(frozen=True)
class RegisteredIndicator:
    """An indicator of the warehouse registry and when it was loaded."""

    indicator: Indicator
    loaded_at: datetime


def read_indicators(session: Session) -> list[RegisteredIndicator]:
    """The registry, by id; each document is validated again (IndicatorError if one no longer parses)."""
    rows = session.execute(
        select(IndicatorRow.id, IndicatorRow.document, IndicatorRow.loaded_at).order_by(IndicatorRow.id)
    )
    return [
        RegisteredIndicator(build_indicator(document, f"warehouse indicator {id_}"), loaded_at)
        for id_, document, loaded_at in rows
    ]
