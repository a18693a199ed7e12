"""The idempotent bulk sink: COPY a batch into staging, then upsert on the event id in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

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
    category: str
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


_EVENT_COLUMNS = (
    "event_id, dataset, partner, schema_version, period_start, period_end, period_precision, period_month, "
    "category, attributes, x, y, location_status, ward_code, ward_vintage, content_hash, "
    "source_topic, source_partition, source_offset"
)

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS stage_event (
    event_id uuid, dataset text, partner text, schema_version int, period_start date, period_end date,
    period_precision text, period_month date, category text, attributes jsonb, x float8, y float8,
    location_status text, ward_code text, ward_vintage text, content_hash text,
    source_topic text, source_partition int, source_offset bigint
) ON COMMIT DELETE ROWS
"""

_UPSERT = f"""
INSERT INTO event ({_EVENT_COLUMNS.replace("x, y", "geom")})
SELECT DISTINCT ON (event_id)
    event_id, dataset, partner, schema_version, period_start, period_end, period_precision, period_month,
    category, attributes,
    CASE WHEN x IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(x, y), 27700) END,
    location_status, ward_code, ward_vintage, content_hash, source_topic, source_partition, source_offset
FROM stage_event
ORDER BY event_id, source_partition, source_offset DESC
ON CONFLICT (event_id) DO UPDATE SET
    dataset = EXCLUDED.dataset, partner = EXCLUDED.partner, schema_version = EXCLUDED.schema_version,
    period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
    period_precision = EXCLUDED.period_precision, period_month = EXCLUDED.period_month,
    category = EXCLUDED.category, attributes = EXCLUDED.attributes, geom = EXCLUDED.geom,
    location_status = EXCLUDED.location_status, ward_code = EXCLUDED.ward_code,
    ward_vintage = EXCLUDED.ward_vintage, content_hash = EXCLUDED.content_hash,
    source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition,
    source_offset = EXCLUDED.source_offset, loaded_at = now()
WHERE (event.content_hash, event.ward_code, event.ward_vintage)
    IS DISTINCT FROM (EXCLUDED.content_hash, EXCLUDED.ward_code, EXCLUDED.ward_vintage)
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

    def write(self, events: Sequence[EventRow], dead_letters: Sequence[DeadLetterRow]) -> None:
        """Upsert `events` and record `dead_letters`, committed together, or raise with nothing written."""
        conn = self._connection()
        try:
            with conn.cursor() as cur:
                if events:
                    with cur.copy(f"COPY stage_event ({_EVENT_COLUMNS}) FROM STDIN") as copy:
                        for row in events:
                            copy.write_row(
                                (
                                    row.event_id,
                                    row.dataset,
                                    row.partner,
                                    row.schema_version,
                                    row.period_start,
                                    row.period_end,
                                    row.period_precision,
                                    row.period_month,
                                    row.category,
                                    row.attributes_json,
                                    row.x,
                                    row.y,
                                    row.location_status,
                                    row.ward_code,
                                    row.ward_vintage,
                                    row.content_hash,
                                    row.source_topic,
                                    row.source_partition,
                                    row.source_offset,
                                )
                            )
                    cur.execute(_UPSERT)
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
