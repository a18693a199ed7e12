"""One renderer: the body as it is for JSON, the table as CSV or as GeoJSON features of its areas."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from api.answer import Answer, Table, feature_collection
from api.rendering import render
from warehouse.queries.aggregates import Level


class Row(BaseModel):
    area_code: str
    period: str
    count: int | None


ROWS = [
    Row(area_code="E05000001", period="2024-01", count=10),
    Row(area_code="E05000002", period="2024-01", count=None),
]
TABLE = Table(ROWS, ["area_code", "period", "count"], "counts", "NHS rule", Level.ward, {"protocols": ["P#1"]})
ANSWER = Answer(ROWS, ["P#1"], 2, TABLE)


def no_shapes(level: Level, codes: Sequence[str]) -> Mapping[str, Any]:
    return {}


def square(level: Level, codes: Sequence[str]) -> Mapping[str, Any]:
    return {code: {"type": "Point", "coordinates": [0, 0]} for code in codes if code.endswith("1")}


def test_json_is_the_body_itself() -> None:
    assert render(ANSWER, "json", no_shapes) is ROWS


def test_csv_has_the_columns_an_empty_field_for_a_suppressed_count_and_the_rule_in_a_header() -> None:
    response = render(ANSWER, "csv", no_shapes)
    assert not isinstance(response, list)
    assert response.body == b"area_code,period,count\nE05000001,2024-01,10\nE05000002,2024-01,\n"
    assert response.headers["content-disposition"] == 'attachment; filename="counts.csv"'
    assert response.headers["x-disclosure-rule"] == "NHS rule"
    assert response.media_type == "text/csv; charset=utf-8"


def test_geojson_is_one_feature_per_row_with_its_area_shape_and_the_foreign_members() -> None:
    response = render(ANSWER, "geojson", square)
    assert not isinstance(response, list)
    assert response.media_type == "application/geo+json"
    body = json.loads(bytes(response.body))
    assert list(body) == ["type", "protocols", "features"]
    assert [f["id"] for f in body["features"]] == ["E05000001/2024-01", "E05000002/2024-01"]
    assert [f["geometry"] for f in body["features"]] == [{"type": "Point", "coordinates": [0, 0]}, None]


def test_a_geojson_body_is_geojson_whatever_the_format() -> None:
    document = feature_collection([], numberMatched=0)
    response = render(Answer(document), "json", no_shapes)
    assert isinstance(response, Response)
    assert json.loads(bytes(response.body)) == {"type": "FeatureCollection", "numberMatched": 0, "features": []}


def test_a_geojson_answer_with_a_table_is_csv_when_asked_and_geojson_otherwise() -> None:
    """Hot spots: the features' properties as CSV records (a suppressed count an empty field); GeoJSON else."""
    properties = [{"code": "E05000001", "count": 10}, {"code": "E05000002", "count": None}]
    body = feature_collection([{"type": "Feature", "geometry": None, "properties": p} for p in properties])
    table = Table(properties, ["code", "count"], "hotspots", "NHS rule", flatten=dict)
    answer = Answer(body, ["P#1"], 2, table)
    csv_form = render(answer, "csv", no_shapes)
    assert isinstance(csv_form, Response) and csv_form.media_type == "text/csv; charset=utf-8"
    assert bytes(csv_form.body).decode() == "code,count\nE05000001,10\nE05000002,\n"
    assert csv_form.headers["X-Disclosure-Rule"] == "NHS rule"
    for format in ("json", "geojson"):
        shown = render(answer, format, no_shapes)
        assert isinstance(shown, Response) and json.loads(bytes(shown.body)) == body.document


def test_a_geojson_answer_without_a_table_stays_geojson() -> None:
    body = feature_collection([])
    shown = render(Answer(body), "csv", no_shapes)
    assert isinstance(shown, Response) and shown.media_type == "application/geo+json"


def test_a_csv_file_name_keeps_only_letters_digits_dots_dashes_and_underscores() -> None:
    """A table's name may carry a parameter's value: quotes, line breaks and slashes never reach the header."""
    table = Table(rows=[], columns=["a"], name='scorecard-E2"\r\nSet-Cookie: x=1/../é', rule="r")
    response = render(Answer(None, [], 0, table), "csv", lambda level, codes: {})
    assert isinstance(response, Response)
    assert response.headers["content-disposition"] == 'attachment; filename="scorecard-E2___Set-Cookie__x_1_..__.csv"'
