"""The warehouse schema (EPSG:27700 geometry), as SQLAlchemy 2 tables; migrations create it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 27700

LOCATED = "located"
NO_LOCATION = "no_location"
OUTSIDE_COVERAGE = "outside_coverage"


class Base(DeclarativeBase):
    """Declarative base of the warehouse tables."""


class Area(Base):
    """A reference area (ward, district, ...) of one boundary vintage."""

    __tablename__ = "area"

    vintage: Mapped[str] = mapped_column(String, primary_key=True)
    code: Mapped[str] = mapped_column(String, primary_key=True)
    level: Mapped[str] = mapped_column(String, nullable=False)
    name: Mapped[str] = mapped_column(String, nullable=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)

    __table_args__ = (
        Index("ix_area_geom", "geom", postgresql_using="gist"),
        Index("ix_area_level_vintage", "level", "vintage"),
    )


class Event(Base):
    """One loaded event: its envelope fields, where it fell, and where it came from on the topic."""

    __tablename__ = "event"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    partner: Mapped[str] = mapped_column(String, nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    period_precision: Mapped[str] = mapped_column(String, nullable=False)
    period_month: Mapped[date] = mapped_column(Date, nullable=False)
    category: Mapped[str] = mapped_column(String, nullable=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    location_status: Mapped[str] = mapped_column(String, nullable=False)
    ward_code: Mapped[str | None] = mapped_column(String, nullable=True)
    ward_vintage: Mapped[str | None] = mapped_column(String, nullable=True)
    content_hash: Mapped[str] = mapped_column(String, nullable=False)
    source_topic: Mapped[str] = mapped_column(String, nullable=False)
    source_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        Index("ix_event_counts", "dataset", "period_month", "ward_code", "category"),
        Index("ix_event_geom", "geom", postgresql_using="gist"),
    )


class DeadLetter(Base):
    """A consumed message that could not be loaded, with the reason (never its payload)."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source_topic: Mapped[str] = mapped_column(String, nullable=False)
    source_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_key: Mapped[str | None] = mapped_column(String, nullable=True)
    dataset: Mapped[str | None] = mapped_column(String, nullable=True)
    partner: Mapped[str | None] = mapped_column(String, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (UniqueConstraint("source_topic", "source_partition", "source_offset"),)
