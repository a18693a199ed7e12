"""The scorecard indicator registry's tables (migration 0008)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.models import Base


class IndicatorRow(Base):
    """One indicator: its searchable fields in columns and the whole document as loaded."""

    __tablename__ = "indicator"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str] = mapped_column(String, nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    measure: Mapped[str] = mapped_column(String, nullable=False)
    direction: Mapped[str] = mapped_column(String, nullable=False)
    level: Mapped[str] = mapped_column(String, nullable=False)
    data_lag_months: Mapped[int] = mapped_column(Integer, nullable=False)
    provisional_months: Mapped[int] = mapped_column(Integer, nullable=False)
    tolerance_pct: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    baseline_year: Mapped[str] = mapped_column(String, nullable=False)
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric, nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class IndicatorTargetRow(Base):
    """One target of an indicator for a financial year, for one area or (area_code NULL) for every area."""

    __tablename__ = "indicator_target"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String, ForeignKey("indicator.id", ondelete="CASCADE"), nullable=False)
    area_code: Mapped[str | None] = mapped_column(String, nullable=True)
    year: Mapped[str] = mapped_column(String, nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric, nullable=False)

    __table_args__ = (
        UniqueConstraint(
            "indicator_id", "area_code", "year", name="uq_indicator_target", postgresql_nulls_not_distinct=True
        ),
    )
