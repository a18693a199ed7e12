"""The idempotent bulk sink: COPY a batch into staging, then upsert on the event id in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter

import psycopg

from warehouse.db import connect_raw


@dataclass(frozen=True)
class EventRow:
    """One event as the warehouse stores it; x/y are EPSG:27700 metres or None."""

    event_id: uuid.UUID
    dataset: str
    partner: str
    schema_version: int
    period_start: date
    period_end: date
    period_precision: str
    period_month: date
    category: str | None
    attributes_json: str
    x: float | None
    y: float | None
    location_status: str
    ward_code: str | None
    ward_vintage: str | None
    content_hash: str
    source_topic: str
    source_partition: int
    source_offset: int
    lsoa_code: str | None = None
    district_code: str | None = None
    spatial_precision: str | None = None
    temporal_precision: str | None = None
    period_label: str | None = None
    protocols: tuple[str, ...] = ()
    retain_until: date | None = None
    csp_code: str | None = None
    county_code: str | None = None
    pfa_code: str | None = None
    geocode_method: str | None = None
    geocode_quality: int | None = None
    batch_seq: int = 0  # position in the batch: of two versions of an event, the later one wins


@dataclass(frozen=True)
class DecisionRow:
    """The audit record of one protocol decision (never the event's contents)."""

    event_id: uuid.UUID
    content_hash: str
    dataset: str
    partner: str
    period_month: date
    outcome: str
    code: str | None
    reason: str | None
    protocols: tuple[str, ...]
    fields_dropped: tuple[str, ...]
    spatial_precision: tuple[str, ...]
    temporal_precision: str | None


@dataclass(frozen=True)
class DeadLetterRow:
    """A message that could not be loaded, and why."""

    source_topic: str
    source_partition: int
    source_offset: int
    event_key: str | None
    dataset: str | None
    partner: str | None
    reason: str


# Staging columns, in EventRow's field order (attributes_json is loaded into the `attributes` column).
_EVENT_FIELDS = tuple(f.name for f in fields(EventRow))
_EVENT_COLUMNS = ", ".join("attributes" if name == "attributes_json" else name for name in _EVENT_FIELDS)
_event_values = attrgetter(*_EVENT_FIELDS)
_PROTOCOLS = _EVENT_FIELDS.index("protocols")

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stage_event (
    event_id uuid, dataset text, partner text, schema_version int, period_start date, period_end date,
    period_precision text, period_month date, category text, attributes jsonb, x float8, y float8,
    location_status text, ward_code text, ward_vintage text, content_hash text,
    source_topic text, source_partition int, source_offset bigint, lsoa_code text, district_code text,
    spatial_precision text, temporal_precision text, period_label text, protocols text[], retain_until date,
    csp_code text, county_code text, pfa_code text, geocode_method text, geocode_quality int, batch_seq int
) ON COMMIT DELETE ROWS
"""

_UPSERT = f"""
INSERT INTO event ({_EVENT_COLUMNS.replace("x, y", "geom").removesuffix(", batch_seq")})
SELECT DISTINCT ON (event_id)
    event_id, dataset, partner, schema_version, period_start, period_end, period_precision, period_month,
    category, attributes,
    CASE WHEN x IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x, y), 27700) END,
    location_status, ward_code, ward_vintage, content_hash, source_topic, source_partition, source_offset,
    lsoa_code, district_code, spatial_precision, temporal_precision, period_label, protocols, retain_until,
    csp_code, county_code, pfa_code, geocode_method, geocode_quality
FROM stage_event s
WHERE NOT EXISTS (SELECT 1 FROM retired_event r WHERE r.event_id = s.event_id)
ORDER BY event_id, batch_seq DESC
ON CONFLICT (event_id) DO UPDATE SET
    dataset = EXCLUDED.dataset, partner = EXCLUDED.partner, schema_version = EXCLUDED.schema_version,
    period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
    period_precision = EXCLUDED.period_precision, period_month = EXCLUDED.period_month,
    category = EXCLUDED.category, attributes = EXCLUDED.attributes, geom = EXCLUDED.geom,
    location_status = EXCLUDED.location_status, ward_code = EXCLUDED.ward_code,
    ward_vintage = EXCLUDED.ward_vintage, content_hash = EXCLUDED.content_hash,
    source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition,
    source_offset = EXCLUDED.source_offset, lsoa_code = EXCLUDED.lsoa_code, district_code = EXCLUDED.district_code,
    spatial_precision = EXCLUDED.spatial_precision, temporal_precision = EXCLUDED.temporal_precision,
    period_label = EXCLUDED.period_label, protocols = EXCLUDED.protocols,
    retain_until = LEAST(event.retain_until, EXCLUDED.retain_until),
    csp_code = EXCLUDED.csp_code, county_code = EXCLUDED.county_code, pfa_code = EXCLUDED.pfa_code,
    geocode_method = EXCLUDED.geocode_method, geocode_quality = EXCLUDED.geocode_quality,
    loaded_at = now()
WHERE (event.content_hash, event.protocols, event.ward_code, event.ward_vintage, event.lsoa_code,
       event.district_code, event.csp_code, event.county_code, event.pfa_code)
    IS DISTINCT FROM (EXCLUDED.content_hash, EXCLUDED.protocols, EXCLUDED.ward_code, EXCLUDED.ward_vintage,
       EXCLUDED.lsoa_code, EXCLUDED.district_code, EXCLUDED.csp_code, EXCLUDED.county_code, EXCLUDED.pfa_code)
"""

_DECISION = """
INSERT INTO decision (event_id, content_hash, dataset, partner, period_month, outcome, code, reason, protocols,
                      fields_dropped, spatial_precision, temporal_precision)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id, content_hash, outcome, protocols) DO NOTHING
"""

_DEAD_LETTER = """
INSERT INTO dead_letter (source_topic, source_partition, source_offset, event_key, dataset, partner, reason)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING
"""


class WarehouseSink:
    """Writes batches of events and dead letters; each batch is one transaction."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = connect_raw(self._url)
            self._conn.execute(_STAGE)
            self._conn.commit()
        return self._conn

    def write(
        self,
        events: Sequence[EventRow],
        dead_letters: Sequence[DeadLetterRow],
        decisions: Sequence[DecisionRow] = (),
        withdrawn: Sequence[uuid.UUID] = (),
    ) -> None:
        """Upsert `events`, record `decisions` and `dead_letters`, all in one commit, or raise with none written."""
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                if events:
                    with cur.copy(f"COPY stage_event ({_EVENT_COLUMNS}) FROM STDIN") as copy:
                        for row in events:
                            values = list(_event_values(row))
                            values[_PROTOCOLS] = list(row.protocols)
                            copy.write_row(values)
                    cur.execute(_UPSERT)
                if withdrawn:
                    cur.execute("DELETE FROM event WHERE event_id = ANY(%s)", (list(withdrawn),))
                if decisions:
                    cur.executemany(
                        _DECISION,
                        [
                            (
                                d.event_id,
                                d.content_hash,
                                d.dataset,
                                d.partner,
                                d.period_month,
                                d.outcome,
                                d.code,
                                d.reason,
                                list(d.protocols),
                                list(d.fields_dropped),
                                list(d.spatial_precision),
                                d.temporal_precision,
                            )
                            for d in decisions
                        ],
                    )
                if dead_letters:
                    cur.executemany(
                        _DEAD_LETTER,
                        [
                            (
                                d.source_topic,
                                d.source_partition,
                                d.source_offset,
                                d.event_key,
                                d.dataset,
                                d.partner,
                                d.reason,
                            )
                            for d in dead_letters
                        ],
                    )
            conn.commit()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
