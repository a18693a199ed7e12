"""Response formats of aggregate endpoints: JSON (default), CSV (?format=csv) and GeoJSON (?format=geojson)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import Response
from sqlalchemy.orm import Session

from warehouse.aggregates import Level
from warehouse.areas import area_shapes
from warehouse.geocoder_settings import GeocoderSettings

GEOJSON_MEDIA_TYPE = "application/geo+json"


def csv_response(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], name: str, rule: str) -> Response:
    """Rows as CSV (a suppressed figure is an empty field); the disclosure rule goes in a response header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "X-Disclosure-Rule": rule},
    )


def feature(
    geometry: Mapping[str, Any] | None, properties: Mapping[str, Any], id_: str | None = None
) -> dict[str, Any]:
    """A GeoJSON Feature."""
    found: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": dict(properties)}
    if id_ is not None:
        found["id"] = id_
    return found


def geojson_response(features: Sequence[Mapping[str, Any]], **members: Any) -> Response:
    """A GeoJSON FeatureCollection (WGS84 lon/lat), with extra foreign members (rule, protocols, links ...)."""
    body = {"type": "FeatureCollection", **members, "features": list(features)}
    return Response(json.dumps(body), media_type=GEOJSON_MEDIA_TYPE)


def area_features(
    session: Session,
    geography: GeocoderSettings,
    level: Level,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> list[dict[str, Any]]:
    """One Feature per area-period row: the area's WGS84 shape and the row's `columns` as properties."""
    shapes = area_shapes(session, geography, level, sorted({str(r["area_code"]) for r in rows}))
    return [
        feature(shapes.get(str(r["area_code"])), {c: r.get(c) for c in columns}, f"{r['area_code']}/{r['period']}")
        for r in rows
    ]
