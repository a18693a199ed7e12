"""OGC API - Features (Part 1: Core, GeoJSON) over monthly area counts, so that QGIS can add the hub as a layer.

Collections: one for each catalogue dataset and level (ward, lad) at which the caller's protocols allow counts,
named `{dataset}-{level}-monthly` (e.g. `police-uk-street-ward-monthly`). A feature is one area in one month with
events: properties area_code, area_name, month (YYYY-MM) and count; geometry the area in WGS84 lon/lat (CRS84).
Counts are disclosure-controlled exactly as GET /v1/counts (its `count_table`) over the collection's whole
temporal extent, before any bbox or datetime filter and paging: a feature's count is the same on every page and
under every filter, so comparing differently filtered answers reveals nothing more. Every feature's count is
recorded and guarded against the organisation's earlier figures as /v1/counts' (`api.released_figures.Recorder`).
Without a key the caller is the public and sees only what clauses granting the public allow; a partner key is Forbidden.

Items take bbox (WGS84 lon/lat: minlon,minlat,maxlon,maxlat; an area is in when its geometry intersects the box),
datetime (an RFC 3339 date-time or date, or an interval "a/b" with ".." or "" for an open end; a month is in when
it overlaps it), limit (default 100, larger values are capped at 10000) and offset; invalid values are BadRequest.
The API definition (rel service-desc) is the application's /openapi.json, labelled with the OpenAPI 3.0 media type
that QGIS looks for (FastAPI writes it as OpenAPI 3.1). Links are absolute, from the request's `base` URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from api.aggregate_query import AggregateParams, monthly_grants, recipient
from api.answer import Answer, GeoJson, feature, feature_collection
from api.bounds import check_day, check_year
from api.caller import Caller
from api.errors import BadRequest, NotFound
from api.perturbation_tables import PerturbationTables
from api.released_figures import Recorder
from api.rendering import GEOJSON_MEDIA_TYPE
from api.schemas.counts import CountOut
from api.services.counts import count_table
from api.ward_parents import WardParents
from geography.settings import GeocoderSettings
from sharing_protocols.catalogue import CATALOGUE
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.periods import PeriodType, add_months
from sharing_protocols.release_record import ReleasedAnswer
from warehouse.queries.aggregates import Level, coverage
from warehouse.queries.areas import area_shapes
from warehouse.queries.scope import ScopeFilter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
JSON_MEDIA_TYPE = "application/json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
LEVELS = {Level.ward: "ward", Level.lad: "district"}  # collection levels and what they are called


@dataclass(frozen=True)
class Collection:
    """Monthly counts of one dataset at one level, as the caller may see them."""

    dataset: str
    level: Level
    refs: tuple[str, ...]
    rule: str  # the description of the strictest disclosure rule of its clauses
    scopes: tuple[ScopeFilter, ...] = ()  # the caller's area under each scoped clause

    @property
    def id(self) -> str:
        return f"{self.dataset}-{self.level.value}-monthly"

    @property
    def title(self) -> str:
        return f"{CATALOGUE[self.dataset].title}: monthly counts by {LEVELS[self.level]}"


def collections_for(register: ProtocolRegister, caller: Caller) -> list[Collection]:
    """The collections the caller's protocols allow (Forbidden for a partner key)."""
    return [
        Collection(g.dataset, g.level, g.refs, g.rule.describe(), g.scopes)
        for g in monthly_grants(register, recipient(caller), LEVELS)
    ]


def collection_named(register: ProtocolRegister, caller: Caller, collection_id: str) -> Collection:
    """The caller's collection of that id, or NotFound."""
    for collection in collections_for(register, caller):
        if collection.id == collection_id:
            return collection
    raise NotFound(f"no collection {collection_id!r}")


def _rows(
    session: Session,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    collection: Collection,
) -> tuple[list[CountOut], dict[str, Any], ReleasedAnswer | None]:
    """Every feature's row (area x month, disclosure-controlled as /v1/counts), the disclosure member and the
    figures released: every feature's count (the same on every page and under every filter, so the caller can
    see them all), recorded and guarded as /v1/counts'."""
    found = coverage(session, collection.dataset, collection.level, collection.refs, collection.scopes)
    if found is None:
        return [], {}, None
    params = AggregateParams(
        datasets=(collection.dataset,),
        level=collection.level,
        start=found.first,
        end=found.last,
        period=PeriodType.month,
        by_category=False,
        by_dataset=False,
        areas=(),
        area_level=collection.level,
        categories=(),
        vintage=None,
        format="json",
    )
    recorder = Recorder(session, wards, caller, params, margins=False)
    _, body = count_table(session, register, tables, caller, params, recorder)
    return body.rows, {"disclosure": body.disclosure.model_dump(), "protocols": body.protocols}, recorder.record()


def _bounds(shapes: dict[str, Any]) -> list[float] | None:
    if not shapes:
        return None
    boxes = [shape(geometry).bounds for geometry in shapes.values()]
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def _url(base: str, path: str, **query: str | int) -> str:
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def collection_document(
    base: str, session: Session, geography: GeocoderSettings, collection: Collection
) -> dict[str, Any]:
    """The collection's description: id, title, links, extent (areas' bbox, months) and CRS."""
    path = f"/collections/{collection.id}"
    document: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": (
            f"Events per {LEVELS[collection.level]} and month of {collection.dataset} released under "
            f"{', '.join(collection.refs)}, disclosure-controlled as GET /v1/counts (each items response states the "
            f"rule applied). The strictest rule of these clauses: {collection.rule}"
        ),
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(_url(base, path, f="json"), "self", JSON_MEDIA_TYPE, "This collection"),
            _link(_url(base, path + "/items", f="json"), "items", GEOJSON_MEDIA_TYPE, "Area counts by month"),
            _link(_url(base, "/collections", f="json"), "parent", JSON_MEDIA_TYPE, "All collections"),
        ],
    }
    found = coverage(session, collection.dataset, collection.level, collection.refs, collection.scopes)
    if found is not None:
        bounds = _bounds(area_shapes(session, geography, collection.level, found.areas))
        extent: dict[str, Any] = {}
        if bounds is not None:
            extent["spatial"] = {"bbox": [bounds], "crs": CRS84}
        end = add_months(found.last, 1) - timedelta(days=1)
        extent["temporal"] = {
            "interval": [[f"{found.first:%Y-%m-%d}T00:00:00Z", f"{end:%Y-%m-%d}T23:59:59Z"]],
            "trs": GREGORIAN,
        }
        document["extent"] = extent
    return document


def parse_bbox(value: str) -> BaseGeometry:
    """bbox=minlon,minlat,maxlon,maxlat (or six numbers with heights) as a WGS84 box; across the antimeridian
    when minlon > maxlon. BadRequest when it is not one."""
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise BadRequest("bbox must be four numbers: minlon,minlat,maxlon,maxlat")
    west, south, east, north = numbers
    if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
        raise BadRequest("bbox must be WGS84 lon/lat with minlat <= maxlat")
    if west > east:
        return box(west, south, 180, north).union(box(-180, south, east, north))
    return box(west, south, east, north)


def _instant(value: str, end: bool) -> datetime | None:
    """One end of a datetime interval as a UTC bound: None when open; a date covers its whole day (end: the
    next midnight); an end date-time includes itself (the next microsecond)."""
    if value in ("", ".."):
        return None
    try:
        if "t" in value.lower():
            # A "+" left unencoded in a query string arrives as a space.
            moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "+"))
            check_year("datetime", moment.year)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            return moment + timedelta(microseconds=1) if end else moment
        day = check_day("datetime", date.fromisoformat(value))
    except (ValueError, OverflowError):
        raise BadRequest("datetime is not an RFC 3339 date-time or date (or interval of them)") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def parse_datetime(value: str) -> tuple[datetime | None, datetime | None]:
    """datetime=instant, a/b, ../b or a/.. as the half-open UTC range [from, until) (None: open); BadRequest if
    invalid."""
    parts = value.split("/")
    if len(parts) == 1:
        if value in ("", ".."):
            raise BadRequest("datetime must name an instant or an interval")
        return _instant(value, False), _instant(value, True)
    if len(parts) != 2 or (parts[0] in ("", "..") and parts[1] in ("", "..")):
        raise BadRequest("datetime interval must be start/end with at most one end open")
    start, until = _instant(parts[0], False), _instant(parts[1], True)
    if start is not None and until is not None and until <= start:
        raise BadRequest("datetime interval ends before it starts")
    return start, until


def month_overlaps(month: date, start: datetime | None, until: datetime | None) -> bool:
    """Whether the month [first day, first day of the next) overlaps [start, until)."""
    first = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = datetime.combine(add_months(month, 1), datetime.min.time(), UTC)
    return (start is None or following > start) and (until is None or first < until)


def _paging(limit: str | None, offset: str | None, f: str | None) -> tuple[int, int]:
    if f not in (None, "json", "geojson"):
        raise BadRequest("f must be json (GeoJSON is the only encoding)")
    try:
        size = DEFAULT_LIMIT if limit is None else int(limit)
        start = 0 if offset is None else int(offset)
    except ValueError:
        raise BadRequest("limit and offset must be integers") from None
    if size < 1 or start < 0:
        raise BadRequest("limit must be at least 1 and offset at least 0")
    return min(size, MAX_LIMIT), start


def feature_id(row: CountOut) -> str:
    """A feature's id: area code and month, e.g. E05011234.2019-01."""
    return f"{row.area_code}.{row.period}"


def _feature(row: CountOut, geometry: Any) -> dict[str, Any]:
    properties = {"area_code": row.area_code, "area_name": row.area_name, "month": row.period, "count": row.count}
    return feature(geometry, properties, feature_id(row))


def _month(row: CountOut) -> date:
    return date(int(row.period[:4]), int(row.period[5:7]), 1)


def landing_page(base: str, title: str) -> dict[str, Any]:
    """The OGC API landing page: links to the API definition, the conformance classes and the collections."""
    return {
        "title": title,
        "description": "Disclosure-controlled monthly counts by ward and district, as OGC API - Features.",
        "links": [
            _link(_url(base, "/", f="json"), "self", JSON_MEDIA_TYPE, "This document"),
            _link(_url(base, "/openapi.json"), "service-desc", OPENAPI_MEDIA_TYPE, "The API definition"),
            _link(_url(base, "/docs"), "service-doc", "text/html", "The API documentation"),
            _link(_url(base, "/conformance", f="json"), "conformance", JSON_MEDIA_TYPE, "Conformance classes"),
            _link(_url(base, "/collections", f="json"), "data", JSON_MEDIA_TYPE, "The collections"),
        ],
    }


def collections(
    base: str, session: Session, geography: GeocoderSettings, register: ProtocolRegister, caller: Caller
) -> Answer[dict[str, Any]]:
    """The collections the caller may see: one per dataset and level (ward, district) allowed."""
    found = collections_for(register, caller)
    body = {
        "links": [_link(_url(base, "/collections", f="json"), "self", JSON_MEDIA_TYPE, "The collections")],
        "collections": [collection_document(base, session, geography, c) for c in found],
    }
    return Answer(body, sorted({ref for c in found for ref in c.refs}), len(found))


def collection(
    base: str,
    session: Session,
    geography: GeocoderSettings,
    register: ProtocolRegister,
    caller: Caller,
    collection_id: str,
) -> Answer[dict[str, Any]]:
    """One collection's description, with its extent."""
    found = collection_named(register, caller, collection_id)
    return Answer(collection_document(base, session, geography, found), list(found.refs), 1)


@dataclass(frozen=True)
class ItemFilter:
    """The items query: bbox, datetime, limit, offset and f, as sent."""

    bbox: str | None = None
    when: str | None = None  # the datetime parameter
    limit: str | None = None
    offset: str | None = None
    f: str | None = None


def _page_links(base: str, found: Collection, wanted: ItemFilter, size: int, start: int, matched: int) -> list[Any]:
    path = f"/collections/{found.id}/items"
    query = {k: v for k, v in {"bbox": wanted.bbox, "datetime": wanted.when}.items() if v is not None}

    def page(offset: int, rel: str, title: str) -> dict[str, str]:
        return _link(_url(base, path, **query, limit=size, offset=offset, f="json"), rel, GEOJSON_MEDIA_TYPE, title)

    links = [page(start, "self", "This page")]
    if start + size < matched:
        links.append(page(start + size, "next", "Next page"))
    if start > 0:
        links.append(page(max(start - size, 0), "prev", "Previous page"))
    links.append(_link(_url(base, f"/collections/{found.id}", f="json"), "collection", JSON_MEDIA_TYPE, found.title))
    return links


def items(
    base: str,
    session: Session,
    geography: GeocoderSettings,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    collection_id: str,
    wanted: ItemFilter,
) -> Answer[GeoJson]:
    """The collection's features (area x month), filtered by bbox and datetime, a page at a time."""
    found = collection_named(register, caller, collection_id)
    size, start = _paging(wanted.limit, wanted.offset, wanted.f)
    area = parse_bbox(wanted.bbox) if wanted.bbox is not None else None
    start_time, until = parse_datetime(wanted.when) if wanted.when is not None else (None, None)
    rows, members, released = _rows(session, wards, register, tables, caller, found)
    rows = [r for r in rows if month_overlaps(_month(r), start_time, until)]
    shapes: dict[str, Any] = {}
    if area is not None:
        shapes = area_shapes(session, geography, found.level, sorted({r.area_code for r in rows}))
        inside = {code for code, geometry in shapes.items() if shape(geometry).intersects(area)}
        rows = [r for r in rows if r.area_code in inside]
    page = rows[start : start + size]
    missing = sorted({r.area_code for r in page} - set(shapes))
    shapes.update(area_shapes(session, geography, found.level, missing))
    body = feature_collection(
        [_feature(r, shapes.get(r.area_code)) for r in page],
        numberMatched=len(rows),
        numberReturned=len(page),
        timeStamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        links=_page_links(base, found, wanted, size, start, len(rows)),
        **members,
    )
    return Answer(body, list(found.refs), len(page), released=released)


def item(
    base: str,
    session: Session,
    geography: GeocoderSettings,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    collection_id: str,
    wanted: str,
) -> Answer[GeoJson]:
    """One feature: an area's count in a month (NotFound when the collection has no such feature)."""
    found = collection_named(register, caller, collection_id)
    rows, members, released = _rows(session, wards, register, tables, caller, found)
    match = [r for r in rows if feature_id(r) == wanted]
    if not match:
        raise NotFound(f"no feature {wanted!r} in {found.id}")
    [row] = match
    body = _feature(row, area_shapes(session, geography, found.level, [row.area_code]).get(row.area_code))
    body["links"] = [
        _link(_url(base, f"/collections/{found.id}/items/{wanted}", f="json"), "self", GEOJSON_MEDIA_TYPE, wanted),
        _link(_url(base, f"/collections/{found.id}", f="json"), "collection", JSON_MEDIA_TYPE, found.title),
    ]
    body.update(members)
    return Answer(GeoJson(body), list(found.refs), 1, released=released)
