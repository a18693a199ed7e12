"""`hub retention run`: remove each field of an event once no clause that released it holds it any more, delete
events none of whose clauses holds them, and record both in the append-only `retention_run`.

An event's `field_retain_until` (written by the sink from the protocol decision) gives, per released part, the
last day a clause holds it: `category` and each attribute, `location:<precision>`, `period:<precision>` and
`clause:<ref>`. One run, in one transaction, as if on `today`:

1. pseudonym attributes (names containing "pseudonym", the linkage keys) no longer held are removed, first;
2. then the other attributes, and the category (set to NULL);
3. the location is coarsened to the finest precision still held: the point is dropped (or snapped to its 100 m
   square when only grid_100m is held), then the LSOA, ward (the event becomes `location_not_released`) and
   district (with its CSP, county and force);
4. the period is coarsened to the finest precision still held (timestamp -> day -> month; with none held, the
   month is kept, as for an event no clause releases the period of: it is the row's partition);
5. clauses that no longer hold the event leave its `protocols` (so their recipients no longer query it);
6. events whose `retain_until` has passed are deleted (and remembered in `retired_event`).

Steps 1-5 touch only events that step 6 keeps, and only events with a map (loaded since migration 0012). What
was removed is appended to `fields_retired`, and the sink never rewrites such an event. `event_count` follows
through its triggers on event. The run takes the writers' lock exclusively (`warehouse/writers.py`): no sink batch
is written while it runs (the workers wait; run it when loading is quiet), nor does it run inside one.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from sharing_protocols.protocol import PSEUDONYM_MARK
from warehouse.writers import writers_lock

# Events trimmed by steps 1-5: loaded with a field-retention map and still held as a whole on :today.
_LIVE = "e.field_retain_until <> '{}' AND e.retain_until >= :today"

_ATTRIBUTES = f"""
WITH expired AS (
    SELECT e.event_id, e.period_month, e.dataset, array_agg(k.key ORDER BY k.key) AS keys
    FROM event e CROSS JOIN LATERAL jsonb_object_keys(e.attributes) AS k(key)
    WHERE {_LIVE} AND (strpos(k.key, :mark) > 0) = :pseudonyms
      AND NOT hub_holds(e.field_retain_until, k.key, :today)
    GROUP BY e.event_id, e.period_month, e.dataset
), trimmed AS (
    UPDATE event e SET attributes = e.attributes - x.keys, fields_retired = e.fields_retired || x.keys
    FROM expired x WHERE e.event_id = x.event_id AND e.period_month = x.period_month
    RETURNING x.dataset, x.keys
)
SELECT dataset, field FROM trimmed CROSS JOIN LATERAL unnest(keys) AS field
"""

_CATEGORY = f"""
UPDATE event e SET category = NULL, fields_retired = e.fields_retired || '{{category}}'::text[]
WHERE {_LIVE} AND e.category IS NOT NULL AND NOT hub_holds(e.field_retain_until, 'category', :today)
RETURNING e.dataset, 'category'
"""

# Which stored location parts go, each judged on the row as it was. The point column holds the finest place
# when that is a point or a 100 m square (spatial_precision says which).
_LOCATION = f"""
WITH old AS (
    SELECT e.event_id, e.period_month, e.dataset, e.spatial_precision AS was,
        e.geom IS NOT NULL AND NOT hub_holds(e.field_retain_until, 'location:' || e.spatial_precision, :today)
            AS point_gone,
        e.spatial_precision = 'point' AND hub_holds(e.field_retain_until, 'location:grid_100m', :today) AS snap,
        e.lsoa_code IS NOT NULL AND NOT hub_holds(e.field_retain_until, 'location:lsoa', :today) AS lsoa_gone,
        e.ward_code IS NOT NULL AND NOT hub_holds(e.field_retain_until, 'location:ward', :today) AS ward_gone,
        e.district_code IS NOT NULL AND NOT hub_holds(e.field_retain_until, 'location:district', :today)
            AS district_gone,
        (SELECT p FROM unnest(CAST(:precisions AS text[])) WITH ORDINALITY AS u(p, i)
         WHERE hub_holds(e.field_retain_until, 'location:' || p, :today) ORDER BY i LIMIT 1) AS finest
    FROM event e WHERE {_LIVE}
), gone AS (
    SELECT *, ARRAY_REMOVE(ARRAY[
        CASE WHEN point_gone THEN 'location:' || was END, CASE WHEN lsoa_gone THEN 'location:lsoa' END,
        CASE WHEN ward_gone THEN 'location:ward' END, CASE WHEN district_gone THEN 'location:district' END
    ], NULL) AS parts
    FROM old WHERE point_gone OR lsoa_gone OR ward_gone OR district_gone
), trimmed AS (
    UPDATE event e SET
        geom = CASE WHEN NOT g.point_gone THEN e.geom
            WHEN g.snap THEN ST_SetSRID(ST_MakePoint(
                floor(ST_X(e.geom) / 100) * 100, floor(ST_Y(e.geom) / 100) * 100), 27700) END,
        lsoa_code = CASE WHEN g.lsoa_gone THEN NULL ELSE e.lsoa_code END,
        ward_code = CASE WHEN g.ward_gone THEN NULL ELSE e.ward_code END,
        ward_vintage = CASE WHEN g.ward_gone THEN NULL ELSE e.ward_vintage END,
        location_status = CASE WHEN g.ward_gone AND e.location_status = 'located' THEN 'location_not_released'
            ELSE e.location_status END,
        district_code = CASE WHEN g.district_gone THEN NULL ELSE e.district_code END,
        csp_code = CASE WHEN g.district_gone THEN NULL ELSE e.csp_code END,
        county_code = CASE WHEN g.district_gone THEN NULL ELSE e.county_code END,
        pfa_code = CASE WHEN g.district_gone THEN NULL ELSE e.pfa_code END,
        spatial_precision = g.finest,
        geocode_method = CASE WHEN g.finest IS NULL THEN NULL ELSE e.geocode_method END,
        geocode_quality = CASE WHEN g.finest IS NULL THEN NULL ELSE e.geocode_quality END,
        fields_retired = e.fields_retired || g.parts
    FROM gone g WHERE e.event_id = g.event_id AND e.period_month = g.period_month
    RETURNING g.dataset, g.parts
)
SELECT dataset, field FROM trimmed CROSS JOIN LATERAL unnest(parts) AS field
"""

# The period at the finest precision still held; labels as sharing_protocols.precision.coarsen_period writes them.
_PERIOD = f"""
WITH old AS (
    SELECT e.event_id, e.period_month, e.dataset, e.temporal_precision AS was,
        (SELECT p FROM unnest(ARRAY['timestamp', 'day', 'month']) WITH ORDINALITY AS u(p, i)
         WHERE hub_holds(e.field_retain_until, 'period:' || p, :today) ORDER BY i LIMIT 1) AS finest
    FROM event e
    WHERE {_LIVE} AND e.temporal_precision IS NOT NULL
      AND NOT hub_holds(e.field_retain_until, 'period:' || e.temporal_precision, :today)
), trimmed AS (
    UPDATE event e SET
        temporal_precision = o.finest,
        period_start = CASE WHEN o.finest = 'day' THEN e.period_start
            ELSE date_trunc('month', e.period_start)::date END,
        period_end = CASE WHEN o.finest = 'day' THEN e.period_end
            ELSE (date_trunc('month', e.period_end) + interval '1 month - 1 day')::date END,
        period_precision = CASE WHEN o.finest = 'day' THEN e.period_precision ELSE 'month' END,
        period_label = CASE
            WHEN o.finest IS NULL THEN NULL
            WHEN o.finest = 'day' AND e.period_start = e.period_end THEN to_char(e.period_start, 'YYYY-MM-DD')
            WHEN o.finest = 'day'
                THEN to_char(e.period_start, 'YYYY-MM-DD') || '/' || to_char(e.period_end, 'YYYY-MM-DD')
            WHEN date_trunc('month', e.period_start) = date_trunc('month', e.period_end)
                THEN to_char(e.period_start, 'YYYY-MM')
            ELSE to_char(e.period_start, 'YYYY-MM') || '/' || to_char(e.period_end, 'YYYY-MM') END,
        fields_retired = e.fields_retired || ('period:' || o.was)
    FROM old o WHERE e.event_id = o.event_id AND e.period_month = o.period_month
    RETURNING o.dataset, 'period:' || o.was
)
SELECT * FROM trimmed
"""

_CLAUSES = f"""
WITH expired AS (
    SELECT e.event_id, e.period_month, e.dataset, array_agg(p ORDER BY p) AS refs
    FROM event e CROSS JOIN LATERAL unnest(e.protocols) AS p
    WHERE {_LIVE} AND NOT hub_holds(e.field_retain_until, 'clause:' || p, :today)
    GROUP BY e.event_id, e.period_month, e.dataset
), trimmed AS (
    UPDATE event e SET
        protocols = ARRAY(SELECT p FROM unnest(e.protocols) AS p WHERE NOT p = ANY(x.refs) ORDER BY p),
        fields_retired = e.fields_retired || ARRAY(SELECT 'clause:' || r FROM unnest(x.refs) AS r)
    FROM expired x WHERE e.event_id = x.event_id AND e.period_month = x.period_month
    RETURNING x.dataset, x.refs
)
SELECT dataset, 'clause:' || ref FROM trimmed CROSS JOIN LATERAL unnest(refs) AS ref
"""

_SPATIAL_ORDER = ["point", "grid_100m", "lsoa", "postcode_sector", "ward", "district"]


def run_retention(session: Session, today: date) -> dict[str, int]:
    """Remove expired fields, then delete events whose retain_until is before `today`; record both.

    Returns the events deleted per dataset; `field_removals` gives the fields. Deleted events are remembered in
    `retired_event`, so re-publishing them cannot bring them back.
    """
    return run_field_retention(session, today)[0]


def run_field_retention(session: Session, today: date) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """As `run_retention`, also returning how many events lost each field, per (dataset, field)."""
    session.execute(text(writers_lock(exclusive=True)))  # no sink batch between its read and write meanwhile
    params: dict[str, object] = {"today": today, "mark": PSEUDONYM_MARK}
    removed: Counter[tuple[str, str]] = Counter()
    for pseudonyms in (True, False):  # the linkage keys first
        removed.update(
            (d, f) for d, f in session.execute(text(_ATTRIBUTES), {**params, "pseudonyms": pseudonyms}).all()
        )
    removed.update((d, f) for d, f in session.execute(text(_CATEGORY), params).all())
    removed.update((d, f) for d, f in session.execute(text(_LOCATION), {**params, "precisions": _SPATIAL_ORDER}).all())
    removed.update((d, f) for d, f in session.execute(text(_PERIOD), params).all())
    removed.update((d, f) for d, f in session.execute(text(_CLAUSES), params).all())

    deleted = session.execute(
        text("DELETE FROM event WHERE retain_until < :today RETURNING event_id, dataset"), {"today": today}
    ).all()
    counts: dict[str, int] = dict(Counter(dataset for _, dataset in deleted))
    if deleted:
        session.execute(
            text("INSERT INTO retired_event (event_id) SELECT unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING"),
            {"ids": [str(event_id) for event_id, _ in deleted]},
        )
    for (dataset, name), count in sorted(removed.items()):
        session.execute(
            text("INSERT INTO retention_run (today, dataset, field, deleted) VALUES (:t, :d, :f, :n)"),
            {"t": today, "d": dataset, "f": name, "n": count},
        )
    for dataset, count in sorted(counts.items()):
        session.execute(
            text("INSERT INTO retention_run (today, dataset, deleted) VALUES (:t, :d, :n)"),
            {"t": today, "d": dataset, "n": count},
        )
    return dict(sorted(counts.items())), dict(sorted(removed.items()))
