"""Loads reference boundaries (GeoJSON) into the `area` table as a named vintage, in EPSG:27700."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from psycopg.types.json import Jsonb
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from warehouse.db import connect_raw
from warehouse.models import SRID


class ReferenceFileError(ValueError):
    """A boundary file that cannot be loaded; the message names the file, feature and field."""


@dataclass(frozen=True)
class AreaRecord:
    """One boundary ready to load."""

    code: str
    name: str
    properties: dict[str, Any]
    geom: MultiPolygon


def reproject(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """The geometry with every coordinate passed through `transformer` (x/y order)."""
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _source_crs(collection: dict[str, Any]) -> CRS:
    name = (collection.get("crs") or {}).get("properties", {}).get("name")
    return CRS.from_user_input(name) if name else CRS.from_epsg(4326)


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon | None:
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polygons = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    parts: list[Polygon] = []
    for polygon in polygons:
        parts.extend(polygon.geoms if isinstance(polygon, MultiPolygon) else [polygon])
    return MultiPolygon(parts) if parts else None


def read_areas(path: Path, code_field: str, name_field: str) -> list[AreaRecord]:
    """Read a GeoJSON FeatureCollection, reprojecting to EPSG:27700 and repairing invalid polygons."""
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReferenceFileError(f"{path}: cannot read GeoJSON ({exc})") from exc
    source = _source_crs(collection)
    transformer = None if source.to_epsg() == SRID else Transformer.from_crs(source, SRID, always_xy=True)
    records = []
    for index, feature in enumerate(collection.get("features", []), start=1):
        props = feature.get("properties") or {}
        for needed in (code_field, name_field):
            if not props.get(needed):
                raise ReferenceFileError(f"{path}, feature {index}, field {needed!r}: missing or empty")
        geom = shape(feature["geometry"])
        if transformer is not None:
            geom = reproject(geom, transformer)
        multi = _as_multipolygon(geom)
        if multi is None:
            raise ReferenceFileError(f"{path}, feature {index}, field 'geometry': not a polygon")
        records.append(AreaRecord(str(props[code_field]), str(props[name_field]), props, multi))
    return records


def load_areas(records: list[AreaRecord], vintage: str, level: str, url: str | None = None) -> int:
    """Replace the vintage's areas with `records`; returns how many were loaded."""
    with connect_raw(url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM area WHERE vintage = %s", (vintage,))
        cur.executemany(
            "INSERT INTO area (vintage, code, level, name, properties, geom) "
            "VALUES (%s, %s, %s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, %s)))",
            [(vintage, r.code, level, r.name, Jsonb(r.properties), r.geom.wkb, SRID) for r in records],
        )
    return len(records)
