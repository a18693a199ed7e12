"""The one renderer of answers: JSON (default), CSV (?format=csv) and GeoJSON (?format=geojson)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from fastapi.responses import Response

from api.answer import Answer, Format, GeoJson, Table, feature, feature_collection
from warehouse.queries.aggregates import Level

GEOJSON_MEDIA_TYPE = "application/geo+json"
CSV_MEDIA_TYPE = "text/csv"
ShapeLookup = Callable[[Level, Sequence[str]], Mapping[str, Any]]
B = TypeVar("B")
_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]")  # a table's name may carry a parameter's value (a CSP code)


def render(answer: Answer[B], format: Format, shapes: ShapeLookup) -> B | Response:
    """The answer in the format asked for; a GeoJSON body is GeoJSON unless CSV is asked for and the answer has a
    table (its features' properties). `shapes` gives areas' WGS84 shapes."""
    if isinstance(answer.body, GeoJson):
        if format == "csv" and answer.table is not None:
            return csv_response(answer.table)
        return geojson_response(answer.body)
    if format == "json":
        return answer.body
    if answer.table is None:
        raise ValueError(f"this answer has no {format} form")
    if format == "csv":
        return csv_response(answer.table)
    return geojson_response(area_collection(answer.table, shapes))


def csv_response(table: Table) -> Response:
    """Rows as CSV (a suppressed figure is an empty field); the disclosure rule goes in a response header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table.columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(table.records())
    return Response(
        out.getvalue(),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_NOT_IN_FILE_NAMES.sub("_", table.name)}.csv"',
            "X-Disclosure-Rule": table.rule,
        },
    )


def geojson_response(body: GeoJson) -> Response:
    """A GeoJSON document as the response."""
    return Response(json.dumps(body.document), media_type=GEOJSON_MEDIA_TYPE)


def area_collection(table: Table, shapes: ShapeLookup) -> GeoJson:
    """One Feature per area-period record: the area's WGS84 shape and the record's columns as properties."""
    if table.level is None:
        raise ValueError("a table without areas has no GeoJSON form")
    records = table.records()
    found = shapes(table.level, sorted({str(r["area_code"]) for r in records}))
    features = [
        feature(found.get(str(r["area_code"])), {c: r.get(c) for c in table.columns}, f"{r['area_code']}/{r['period']}")
        for r in records
    ]
    return feature_collection(features, **table.members)
