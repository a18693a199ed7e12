"""Reference geography beyond boundaries: area roll-up lookups and postcodes (migration 0003)."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.models import SRID, Base


class AreaLookup(Base):
    """One child -> parent edge of a lookup vintage (ward -> lad, lad -> csp, lsoa -> ward, ...).

    Every row of the source file is kept, so a child can have several parents of one level (7 districts map
    to several legacy CSPs); roll-ups pick the smallest parent code (see `warehouse.reference.lookups.rollup`).
    """

    __tablename__ = "area_lookup"

    vintage: Mapped[str] = mapped_column(String, primary_key=True)
    child_level: Mapped[str] = mapped_column(String, primary_key=True)
    child_code: Mapped[str] = mapped_column(String, primary_key=True)
    parent_level: Mapped[str] = mapped_column(String, primary_key=True)
    parent_code: Mapped[str] = mapped_column(String, primary_key=True)

    __table_args__ = (Index("ix_area_lookup_parent", "vintage", "parent_level", "parent_code"),)


class Postcode(Base):
    """One postcode's grid reference (EPSG:27700) and the areas its source file assigns it to."""

    __tablename__ = "postcode"

    postcode_norm: Mapped[str] = mapped_column(String, primary_key=True)
    postcode: Mapped[str] = mapped_column(String, nullable=False)
    easting: Mapped[float] = mapped_column(Float, nullable=False)
    northing: Mapped[float] = mapped_column(Float, nullable=False)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lad_code: Mapped[str | None] = mapped_column(String, nullable=True)
    ward_code: Mapped[str | None] = mapped_column(String, nullable=True)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    sector: Mapped[str] = mapped_column(Text, nullable=False)
    district: Mapped[str] = mapped_column(Text, nullable=False)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)

    __table_args__ = (
        Index("ix_postcode_sector", "sector"),
        Index("ix_postcode_district", "district"),
        Index("ix_postcode_geom", "geom", postgresql_using="gist"),
    )
