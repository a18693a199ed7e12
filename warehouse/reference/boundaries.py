"""Loads reference boundaries (GeoJSON, GeoPackage, Shapefile) into `area` as a named vintage, in EPSG:27700."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from psycopg.types.json import Jsonb
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from warehouse.schema.db import connect_raw
from warehouse.schema.models import SRID

LEVELS = ("ward", "lsoa", "lad", "county", "pfa")

# Property names tried, in order, when a level's code/name fields are not given. "<yy>" stands for a two-digit
# year (ONS style: WD24CD, LSOA11NM, ...); among such matches the latest year wins.
FIELD_CANDIDATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ward": (("ward_code", "WD<yy>CD", "ward<yy>_code"), ("ward_name", "WD<yy>NM", "ward<yy>_name")),
    "lsoa": (
        ("lsoa_code", "lsoa<yy>_code", "LSOA<yy>CD"),
        ("lsoa_name", "lsoa<yy>_name", "LSOA<yy>NM"),
    ),
    "lad": (("lad_code", "LAD<yy>CD", "ltla<yy>_code"), ("lad_name", "LAD<yy>NM", "ltla<yy>_name")),
    "county": (
        ("county_code", "CTYUA<yy>CD", "CTY<yy>CD", "ctyua<yy>_code"),
        ("county_name", "CTYUA<yy>NM", "CTY<yy>NM", "ctyua<yy>_name"),
    ),
    "pfa": (("pfa_code", "PFA<yy>CD", "pfa<yy>_code"), ("pfa_name", "PFA<yy>NM", "pfa<yy>_name")),
}

_OGR_SUFFIXES = {".gpkg", ".shp"}


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


def _pattern(candidate: str) -> re.Pattern[str]:
    return re.compile(re.escape(candidate).replace("<yy>", r"(\d{2})"), re.IGNORECASE)


def detect_field(path: Path, level: str, kind: str, names: Iterable[str]) -> str:
    """The property holding the `kind` ('code' or 'name') of `level` areas, among `names`, by FIELD_CANDIDATES."""
    if level not in FIELD_CANDIDATES:
        raise ReferenceFileError(
            f"{path}: level {level!r} has no known {kind} fields (known levels: {', '.join(LEVELS)}); "
            f"give --{kind}-field"
        )
    candidates = FIELD_CANDIDATES[level][0 if kind == "code" else 1]
    available = list(names)
    for candidate in candidates:
        pattern = _pattern(candidate)
        matches = [(m.group(1) if m.groups() else "", name) for name in available if (m := pattern.fullmatch(name))]
        if matches:
            return max(matches)[1]
    raise ReferenceFileError(
        f"{path}: no {kind} field for level {level!r}: tried {', '.join(candidates)} ('<yy>' = a two-digit year); "
        f"the file has {', '.join(available) or 'no properties'}"
    )


def _plain(value: Any) -> Any:
    """A property value as plain JSON (numpy scalars unwrapped, NaN as null)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _read_geojson(path: Path) -> tuple[CRS, list[str], Iterator[tuple[dict[str, Any], BaseGeometry | None]]]:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReferenceFileError(f"{path}: cannot read GeoJSON ({exc})") from exc
    features = collection.get("features", [])
    names = list(dict.fromkeys(key for f in features for key in (f.get("properties") or {})))

    def rows() -> Iterator[tuple[dict[str, Any], BaseGeometry | None]]:
        for feature in features:
            geometry = feature.get("geometry")
            yield (feature.get("properties") or {}), (shape(geometry) if geometry else None)

    return _source_crs(collection), names, rows()


def _read_ogr(path: Path) -> tuple[CRS, list[str], Iterator[tuple[dict[str, Any], BaseGeometry | None]]]:
    import pyogrio.raw

    try:
        meta, _, wkb, field_data = pyogrio.raw.read(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError hierarchy
        raise ReferenceFileError(f"{path}: cannot read ({exc})") from exc
    if not meta.get("crs"):
        raise ReferenceFileError(f"{path}: no coordinate reference system (e.g. a Shapefile without its .prj)")
    names = [str(n) for n in meta["fields"]]
    geoms = shapely.from_wkb(wkb) if wkb is not None else [None] * (len(field_data[0]) if field_data else 0)

    def rows() -> Iterator[tuple[dict[str, Any], BaseGeometry | None]]:
        for index, geom in enumerate(geoms):
            yield {name: _plain(column[index]) for name, column in zip(names, field_data, strict=True)}, geom

    return CRS.from_user_input(meta["crs"]), names, rows()


def read_areas(
    path: Path, code_field: str | None = None, name_field: str | None = None, level: str = "ward"
) -> list[AreaRecord]:
    """Read boundaries (GeoJSON, GeoPackage or Shapefile), reprojecting to EPSG:27700 and repairing invalid polygons.

    Code and name fields not given are detected for `level` (see FIELD_CANDIDATES).
    """
    if path.suffix.lower() in _OGR_SUFFIXES:
        source, names, rows = _read_ogr(path)
    else:
        source, names, rows = _read_geojson(path)
    code_field = code_field or detect_field(path, level, "code", names)
    name_field = name_field or detect_field(path, level, "name", names)
    transformer = None if source.to_epsg() == SRID else Transformer.from_crs(source, SRID, always_xy=True)
    records = []
    for index, (props, geom) in enumerate(rows, start=1):
        for needed in (code_field, name_field):
            if props.get(needed) in (None, ""):
                raise ReferenceFileError(f"{path}, feature {index}, field {needed!r}: missing or empty")
        if geom is None:
            raise ReferenceFileError(f"{path}, feature {index}, field 'geometry': missing")
        if transformer is not None:
            geom = reproject(geom, transformer)
        multi = _as_multipolygon(geom)
        if multi is None:
            raise ReferenceFileError(f"{path}, feature {index}, field 'geometry': not a polygon")
        records.append(AreaRecord(str(props[code_field]), str(props[name_field]), props, multi))
    return records


def load_areas(records: Sequence[AreaRecord], vintage: str, level: str, url: str, source: str | None = None) -> int:
    """Replace the vintage's areas with `records`; returns how many were loaded.

    The vintage is recorded in `geography_vintage` with its level, `source` (the file or a description; "not given"
    when None) and number of areas.
    """
    with connect_raw(url) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM area WHERE vintage = %s", (vintage,))
        cur.executemany(
            "INSERT INTO area (vintage, code, level, name, properties, geom) "
            "VALUES (%s, %s, %s, %s, %s, ST_Multi(ST_GeomFromWKB(%s, %s)))",
            [(vintage, r.code, level, r.name, Jsonb(r.properties), r.geom.wkb, SRID) for r in records],
        )
        cur.execute(
            "INSERT INTO geography_vintage (vintage, level, source, areas, loaded_at) VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT (vintage) DO UPDATE SET level = EXCLUDED.level, source = EXCLUDED.source, "
            "areas = EXCLUDED.areas, loaded_at = EXCLUDED.loaded_at",
            (vintage, level, source or "not given", len(records)),
        )
    return len(records)
