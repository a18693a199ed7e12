"""Areas of each level: their names, which ones lie within another area, and their shapes (from loaded wards).

Districts, CSPs, counties and forces are made of whole wards (via the ward -> district lookup and the district
lookups); where a district belongs to several CSPs the smallest code is used, as in every roll-up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from geography.settings import GeocoderSettings
from warehouse.queries.aggregates import Level

# A ward's code at each coarser level, from the ward's properties and the lookups (smallest parent wins), in the
# lookup vintage the geocoder uses (any, when none is configured).
_LAD = "w.properties->>'lad_code'"
_LOOKUP_VINTAGE = "(CAST(:lookups AS text) IS NULL OR l.vintage = :lookups)"


def _parent(child: str, level: str) -> str:
    return (
        f"(SELECT min(l.parent_code) FROM area_lookup l WHERE {_LOOKUP_VINTAGE} AND l.child_level = 'lad' "
        f"AND l.parent_level = '{level}' AND l.child_code = {child})"
    )


_WARD_PARENT = {
    Level.ward: "w.code",
    Level.lad: _LAD,
    Level.csp: _parent(_LAD, "csp"),
    Level.county: f"coalesce(w.properties->>'county_code', {_parent(_LAD, 'county')})",
    Level.pfa: _parent(_LAD, "pfa"),
}


_WARDS = "area w WHERE w.level = 'ward' AND w.vintage = :vintage"


def _vintages(geography: GeocoderSettings) -> dict[str, str | None]:
    """The ward and lookup vintages the geocoder places events in, as query parameters."""
    return {"vintage": geography.ward_vintage, "lookups": geography.lookup_vintage}


def _coded(level: Level) -> str:
    """SELECT code, geom of every area of `level` (LSOAs as loaded; the rest from wards)."""
    if level is Level.lsoa:
        return "SELECT a.code, a.geom, a.name FROM area a WHERE a.level = 'lsoa'"
    name = "w.name" if level is Level.ward else "NULL::text"
    return f"SELECT {_WARD_PARENT[level]} AS code, w.geom, {name} AS name FROM {_WARDS}"


def area_names(session: Session, level: Level, codes: Sequence[str]) -> dict[str, str]:
    """Names of areas (the code where no name is loaded: CSPs and forces)."""
    if not codes:
        return {}
    if level in (Level.ward, Level.lsoa):
        sql = "SELECT code, min(name) FROM area WHERE level = :level AND code = ANY(CAST(:codes AS text[])) GROUP BY 1"
    elif level in (Level.lad, Level.county):
        key = "lad" if level is Level.lad else "county"
        sql = (
            f"SELECT properties->>'{key}_code', min(properties->>'{key}_name') FROM area WHERE level = 'ward' "
            f"AND properties->>'{key}_code' = ANY(CAST(:codes AS text[])) GROUP BY 1"
        )
    else:
        sql = "SELECT NULL, NULL WHERE false"
    found = {str(r[0]): str(r[1]) for r in session.execute(text(sql), {"level": level.value, "codes": list(codes)})}
    return {code: found.get(code, code) for code in codes}


def areas_within(
    session: Session, geography: GeocoderSettings, level: Level, within_level: Level, within: Sequence[str]
) -> list[str]:
    """Every area of `level` inside the areas `within` (codes at `within_level`), from the geocoder's wards/LSOAs."""
    if level is Level.lsoa and within_level is Level.lsoa:
        sql = "SELECT DISTINCT a.code FROM area a WHERE a.level = 'lsoa' AND a.code = ANY(CAST(:within AS text[]))"
    elif level is Level.lsoa:
        sql = (
            "SELECT DISTINCT l.child_code FROM area_lookup l JOIN area w ON w.level = 'ward' "
            "AND w.vintage = :vintage AND w.code = l.parent_code "
            f"WHERE {_LOOKUP_VINTAGE} AND l.child_level = 'lsoa' AND l.parent_level = 'ward' "
            f"AND {_WARD_PARENT[within_level]} = ANY(CAST(:within AS text[]))"
        )
    else:
        sql = (
            f"SELECT DISTINCT {_WARD_PARENT[level]} FROM {_WARDS} "
            f"AND {_WARD_PARENT[within_level]} = ANY(CAST(:within AS text[]))"
        )
    rows = session.execute(text(sql), {**_vintages(geography), "within": list(within)})
    return sorted(str(r[0]) for r in rows if r[0] is not None)


def ward_parents(session: Session, geography: GeocoderSettings) -> dict[Level, dict[str, frozenset[str]]]:
    """The wards (of the geocoder's vintage) that make up each district, CSP, county and force, by level; a code
    with no ward loaded is missing."""
    levels = [level for level in _WARD_PARENT if level is not Level.ward]
    sql = f"SELECT w.code, {', '.join(_WARD_PARENT[level] for level in levels)} FROM {_WARDS}"
    found: dict[Level, dict[str, set[str]]] = {level: defaultdict(set) for level in levels}
    for ward, *codes in session.execute(text(sql), _vintages(geography)):
        for level, code in zip(levels, codes, strict=True):
            if code is not None:
                found[level][str(code)].add(str(ward))
    return {level: {code: frozenset(wards) for code, wards in made.items()} for level, made in found.items()}


def _per_code(
    session: Session, geography: GeocoderSettings, level: Level, codes: Sequence[str], shape: str
) -> Sequence[Row[str, Any]]:
    """(code, `shape`) for each of `codes` at `level`; `shape` is an aggregate SQL expression over `geom`."""
    return session.execute(
        text(f"SELECT code, {shape} FROM ({_coded(level)}) s WHERE code = ANY(CAST(:codes AS text[])) GROUP BY code"),
        {**_vintages(geography), "codes": list(codes)},
    ).all()


def area_shapes(
    session: Session, geography: GeocoderSettings, level: Level, codes: Sequence[str], wgs84: bool = True
) -> dict[str, Any]:
    """GeoJSON geometry per area code (WGS84 lon/lat, 6 decimals; else EPSG:27700 metres)."""
    if not codes:
        return {}
    geom = "ST_Transform(ST_Union(geom), 4326)" if wgs84 else "ST_Union(geom)"
    rows = _per_code(session, geography, level, codes, f"ST_AsGeoJSON({geom}, 6)")
    return {str(r[0]): json.loads(r[1]) for r in rows}


def area_shapes_wkb(
    session: Session, geography: GeocoderSettings, level: Level, codes: Sequence[str]
) -> dict[str, bytes]:
    """Each area's EPSG:27700 geometry as WKB (for spatial statistics)."""
    if not codes:
        return {}
    rows = _per_code(session, geography, level, codes, "ST_AsBinary(ST_Union(geom))")
    return {str(r[0]): bytes(r[1]) for r in rows}


def ward_vintage_loaded(session: Session, vintage: str) -> bool:
    """Whether any ward of `vintage` is loaded."""
    found = session.execute(
        text("SELECT 1 FROM area WHERE vintage = :v AND level = 'ward' LIMIT 1"), {"v": vintage}
    ).first()
    return found is not None
