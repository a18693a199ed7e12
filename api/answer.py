"""What a service answers: the response body, the clauses it was answered under and the rows it returned.

The route hands the answer to `api.reply.Reply`, which records `protocols` and `rows` in the access log and renders
the body as JSON, or its `table` as CSV or GeoJSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from sharing_protocols.release_record import ReleasedAnswer
from warehouse.queries.aggregates import Level

Format = Literal["json", "csv", "geojson"]
B = TypeVar("B")


def _dump(row: Any) -> Mapping[str, Any]:
    if not isinstance(row, BaseModel):
        raise TypeError("a table row is a response model unless the table says how to flatten it")
    return row.model_dump()


@dataclass(frozen=True)
class Table:
    """An answer's rows as flat records: CSV columns, and the properties of GeoJSON features of their areas."""

    rows: Sequence[Any]
    columns: Sequence[str]
    name: str  # the CSV file name, without ".csv"
    rule: str  # the disclosure rule, sent with CSV in the X-Disclosure-Rule header
    level: Level | None = None  # the level of the records' area_code (GeoJSON geometry)
    members: Mapping[str, Any] = field(default_factory=dict)  # GeoJSON foreign members
    flatten: Callable[[Any], Mapping[str, Any]] = _dump

    def records(self) -> list[Mapping[str, Any]]:
        return [self.flatten(row) for row in self.rows]


@dataclass(frozen=True)
class GeoJson:
    """A GeoJSON document (a FeatureCollection or a Feature) built by the service: the whole body."""

    document: dict[str, Any]


@dataclass(frozen=True)
class Answer(Generic[B]):
    """A service's answer and what the access log records of it (with `released`, the figures for the release
    record)."""

    body: B
    protocols: Sequence[str] = ()
    rows: int = 0
    table: Table | None = None
    released: ReleasedAnswer | None = None


def feature(
    geometry: Mapping[str, Any] | None, properties: Mapping[str, Any], id_: str | None = None
) -> dict[str, Any]:
    """A GeoJSON Feature."""
    found: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": dict(properties)}
    if id_ is not None:
        found["id"] = id_
    return found


def feature_collection(features: Sequence[Mapping[str, Any]], **members: Any) -> GeoJson:
    """A GeoJSON FeatureCollection (WGS84 lon/lat), with extra foreign members (rule, protocols, links ...)."""
    return GeoJson({"type": "FeatureCollection", **members, "features": list(features)})
