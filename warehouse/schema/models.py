"""The warehouse schema (EPSG:27700 geometry), as SQLAlchemy 2 tables; migrations create it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 27700

# event.location_status: located, location_not_released, or the geocoder's reason (geography.geocoder.Unmatched).
LOCATED = "located"
LOCATION_NOT_RELEASED = "location_not_released"


class Base(DeclarativeBase):
    """Declarative base of the warehouse tables."""


class Area(Base):
    """A reference area (ward, district, ...) of one boundary vintage."""

    __tablename__ = "area"

    vintage: Mapped[str] = mapped_column(String, primary_key=True)
    code: Mapped[str] = mapped_column(String, primary_key=True)
    level: Mapped[str] = mapped_column(String, nullable=False)
    name: Mapped[str] = mapped_column(String, nullable=False)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)

    __table_args__ = (
        Index("ix_area_geom", "geom", postgresql_using="gist"),
        Index("ix_area_level_vintage", "level", "vintage"),
    )


class Event(Base):
    """One loaded event: its envelope fields, where it fell, and where it came from on the topic."""

    __tablename__ = "event"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    partner: Mapped[str] = mapped_column(String, nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    period_precision: Mapped[str] = mapped_column(String, nullable=False)
    period_month: Mapped[date] = mapped_column(Date, primary_key=True)  # the monthly partition key
    category: Mapped[str | None] = mapped_column(String, nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    location_status: Mapped[str] = mapped_column(String, nullable=False)
    ward_code: Mapped[str | None] = mapped_column(String, nullable=True)
    ward_vintage: Mapped[str | None] = mapped_column(String, nullable=True)
    content_hash: Mapped[str] = mapped_column(String, nullable=False)
    source_topic: Mapped[str] = mapped_column(String, nullable=False)
    source_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    lsoa_code: Mapped[str | None] = mapped_column(String, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String, nullable=True)
    spatial_precision: Mapped[str | None] = mapped_column(String, nullable=True)
    temporal_precision: Mapped[str | None] = mapped_column(String, nullable=True)
    period_label: Mapped[str | None] = mapped_column(String, nullable=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    retain_until: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    csp_code: Mapped[str | None] = mapped_column(String, nullable=True)
    county_code: Mapped[str | None] = mapped_column(String, nullable=True)
    pfa_code: Mapped[str | None] = mapped_column(String, nullable=True)
    geocode_method: Mapped[str | None] = mapped_column(String, nullable=True)
    geocode_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weight: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")  # what the event counts for
    # Per released part (category, attribute, location:<precision>, period:<precision>, clause:<ref>): the last
    # day a clause holds it; and what retention has removed (such an event is never rewritten by the sink).
    field_retain_until: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, server_default="{}")
    fields_retired: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    # The cell key method's record key (migration 0014): uniform random in 0..65535, kept for the event's life.
    record_key: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("(('x' || left(gen_random_uuid()::text, 4))::bit(16)::int)")
    )

    __table_args__ = (
        Index("ix_event_counts", "dataset", "period_month", "ward_code", "category"),
        {"postgresql_partition_by": "RANGE (period_month)"},
    )


class EventCount(Base):
    """Events per dataset, month, category, area codes, location status and clause set; kept by triggers on event."""

    __tablename__ = "event_count"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    period_month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    ward_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    ward_vintage: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    csp_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    county_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    pfa_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    location_status: Mapped[str] = mapped_column(String, primary_key=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)  # records
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)  # sum of weights (an aggregate's own count)
    key_sum: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")  # of record keys (0015)


class EventCountDistrict(Base):
    """`event_count` without the ward: events per dataset, month, category, district and coarser area codes,
    location status and clause set; kept by the same triggers on event (migration 0022)."""

    __tablename__ = "event_count_district"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    period_month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    csp_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    county_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    pfa_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    location_status: Mapped[str] = mapped_column(String, primary_key=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)  # records
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)  # sum of weights
    key_sum: Mapped[int] = mapped_column(BigInteger, nullable=False)  # of record keys


class EventCountWardTotal(Base):
    """`event_count` without the category: events per dataset, CSP, month, ward and the other area codes, location
    status and clause set, keyed for a CSP's wards; kept by the same triggers on event (migration 0031)."""

    __tablename__ = "event_count_ward_total"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    csp_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    period_month: Mapped[date] = mapped_column(Date, primary_key=True)
    ward_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    ward_vintage: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    county_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    pfa_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    location_status: Mapped[str] = mapped_column(String, primary_key=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)  # records
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)  # sum of weights
    key_sum: Mapped[int] = mapped_column(BigInteger, nullable=False)  # of record keys


class EventClauseSet(Base):
    """The clause sets of each dataset's events, by district and coarser area codes (what a clause's scope looks
    at), with their number of events; kept by the same triggers on event (migration 0027)."""

    __tablename__ = "event_clause_set"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), primary_key=True)
    district_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    csp_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    county_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    pfa_code: Mapped[str | None] = mapped_column(String, primary_key=True, nullable=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)  # records (0: justifies nothing)


class FeedEvent(Base):
    """One event's data-quality state: its feed, decisions and content hashes, first and latest decision; kept by
    a trigger on decision, which adds each change of it to the per-feed tables (migration 0017)."""

    __tablename__ = "feed_event"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    partner: Mapped[str] = mapped_column(String, nullable=False)
    decisions: Mapped[int] = mapped_column(Integer, nullable=False)
    hashes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    first_decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    first_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)  # of the first decision
    latest_decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    latest_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    outcome: Mapped[str] = mapped_column(String, nullable=False)
    fields_present: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    fingerprint: Mapped[str | None] = mapped_column(String, nullable=True)
    geocoded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class FeedTotal(Base):
    """One feed's totals over its events' current states (migration 0017, kept by the trigger on decision)."""

    __tablename__ = "feed_total"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    partner: Mapped[str] = mapped_column(String, primary_key=True)
    decisions: Mapped[int] = mapped_column(BigInteger, nullable=False)
    versions: Mapped[int] = mapped_column(BigInteger, nullable=False)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)
    released: Mapped[int] = mapped_column(BigInteger, nullable=False)
    withheld: Mapped[int] = mapped_column(BigInteger, nullable=False)
    geocoded: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class FeedField(Base):
    """A feed's events whose latest decision has `field` present (migration 0017)."""

    __tablename__ = "feed_field"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    partner: Mapped[str] = mapped_column(String, primary_key=True)
    field: Mapped[str] = mapped_column(String, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)


class FeedFingerprint(Base):
    """A feed's events whose latest decision has this content fingerprint: more than one, duplicates (0017)."""

    __tablename__ = "feed_fingerprint"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    partner: Mapped[str] = mapped_column(String, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("feed_fingerprint_repeated", "dataset", "partner", postgresql_where=text("events > 1")),)


class FeedLateness(Base):
    """A feed's events by days from the end of their period to their first decision (migration 0017)."""

    __tablename__ = "feed_lateness"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    partner: Mapped[str] = mapped_column(String, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)


class GeographyVintage(Base):
    """One loaded boundary vintage: its level, source file and number of areas."""

    __tablename__ = "geography_vintage"

    vintage: Mapped[str] = mapped_column(String, primary_key=True)
    level: Mapped[str] = mapped_column(String, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    areas: Mapped[int] = mapped_column(Integer, nullable=False)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Population(Base):
    """A population denominator: an area's ONS estimate (or a sum derived from them) by sex and age band."""

    __tablename__ = "population"

    level: Mapped[str] = mapped_column(String, primary_key=True)
    area_code: Mapped[str] = mapped_column(String, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    sex: Mapped[str] = mapped_column(String, primary_key=True)
    age_band: Mapped[str] = mapped_column(String, primary_key=True)
    population: Mapped[Decimal] = mapped_column(Numeric, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)


class DeadLetter(Base):
    """A consumed message that could not be loaded, with the reason (never its payload)."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source_topic: Mapped[str] = mapped_column(String, nullable=False)
    source_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_key: Mapped[str | None] = mapped_column(String, nullable=True)
    dataset: Mapped[str | None] = mapped_column(String, nullable=True)
    partner: Mapped[str | None] = mapped_column(String, nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (UniqueConstraint("source_topic", "source_partition", "source_offset"),)


class FeedIdScheme(Base):
    """The id scheme a (dataset, partner) publishes its event ids under: its first (sharing_protocols.id_scheme).

    The worker inserts it once (if absent) and reads it; a message under another scheme is dead-lettered.
    """

    __tablename__ = "feed_id_scheme"

    dataset: Mapped[str] = mapped_column(String, primary_key=True)
    partner: Mapped[str] = mapped_column(String, primary_key=True)
    scheme: Mapped[str] = mapped_column(String, nullable=False)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (CheckConstraint("scheme ~ '^(public|keyed:[0-9a-f]{16})$'", name="feed_id_scheme_grammar"),)


class Decision(Base):
    """The protocol decision for one version of one event: released (under which clauses) or withheld (why)."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    content_hash: Mapped[str] = mapped_column(String, nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    partner: Mapped[str] = mapped_column(String, nullable=False)
    period_month: Mapped[date] = mapped_column(Date, nullable=False)
    outcome: Mapped[str] = mapped_column(String, nullable=False)
    code: Mapped[str | None] = mapped_column(String, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    fields_dropped: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    spatial_precision: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    temporal_precision: Mapped[str | None] = mapped_column(String, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    # For data-quality reports: which fields the partner filled in, the content without its identity (to find
    # duplicates), when the event ended (to find late records) and whether it could be placed on the map.
    fields_present: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    fingerprint: Mapped[str | None] = mapped_column(String, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    geocoded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # The `hub replay` run that made the decision (None: the worker); part of what makes a decision unique.
    replay_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("replay_run.id"), nullable=True)

    __table_args__ = (
        Index(
            "decision_once",
            "event_id",
            "content_hash",
            "outcome",
            "protocols",
            "replay_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_decision_outcome_month", "outcome", "period_month"),
        Index("decision_feed", "dataset", "partner", "decided_at"),
        Index("decision_decided_at", "decided_at"),
    )


class Retraction(Base):
    """A partner withdrawing one of its records (a tombstone on the topic); append-only."""

    __tablename__ = "retraction"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    partner: Mapped[str | None] = mapped_column(String, nullable=True)
    source_topic: Mapped[str] = mapped_column(String, nullable=False)
    source_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    source_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False)  # whether a stored event was deleted
    retracted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        UniqueConstraint("source_topic", "source_partition", "source_offset", name="retraction_source_key"),
    )


class AccessLog(Base):
    """One API query: who asked, what, under which protocols, and how many rows it returned."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    org: Mapped[str] = mapped_column(String, nullable=False)
    role: Mapped[str] = mapped_column(String, nullable=False)
    endpoint: Mapped[str] = mapped_column(String, nullable=False)
    query: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_access_log_org_id", "org", "id"), Index("ix_access_log_at", "at"))


class ReleasedFigure(Base):
    """One figure released (or suppressed: value NULL) to an organisation, with the answer's access record."""

    __tablename__ = "released_figure"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    access_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("access_log.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    org: Mapped[str] = mapped_column(String, nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    level: Mapped[str] = mapped_column(String, nullable=False)
    areas: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    first_month: Mapped[date] = mapped_column(Date, nullable=False)
    last_month: Mapped[date] = mapped_column(Date, nullable=False)
    period: Mapped[str] = mapped_column(String, nullable=False)
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_cell_count: Mapped[int] = mapped_column(Integer, nullable=False)
    round_to: Mapped[int] = mapped_column(Integer, nullable=False)
    clauses: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    base_level: Mapped[str] = mapped_column(String, nullable=False)  # the areas as the guard compares them (0019)
    base_areas: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)


class ReleasedDigest(Base):
    """The digest of an answer's figures released to an organisation, with the first access that released exactly
    them and the range of ids of its released_figure rows (migration 0028)."""

    __tablename__ = "released_digest"

    org: Mapped[str] = mapped_column(String, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)  # SHA-256: 32 bytes
    access_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("access_log.id"), nullable=False, unique=True)
    first_figure_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_figure_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ReleasedAgain(Base):
    """An answer that released exactly the figures of an earlier access to the same organisation, recorded as that:
    the release record's view `release_record` shows it with those figures, at its own time (migration 0028)."""

    __tablename__ = "released_again"

    access_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("access_log.id"), primary_key=True)
    of_access_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("released_digest.access_id"), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    org: Mapped[str] = mapped_column(String, nullable=False)


class KnownFigure(Base):
    """One figure an organisation was shown (or shown suppressed: value NULL), however often: the differencing
    guard's history, kept by a trigger on released_figure (migration 0025); `first_id` is its first release's."""

    __tablename__ = "known_figure"

    first_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    org: Mapped[str] = mapped_column(String, nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    base_level: Mapped[str] = mapped_column(String, nullable=False)
    base_areas: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    categories: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    first_month: Mapped[date] = mapped_column(Date, nullable=False)
    last_month: Mapped[date] = mapped_column(Date, nullable=False)
    period: Mapped[str] = mapped_column(String, nullable=False)  # the least label it was shown under
    value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_cell_count: Mapped[int] = mapped_column(Integer, nullable=False)
    round_to: Mapped[int] = mapped_column(Integer, nullable=False)


class ApiKey(Base):
    """An API key of one organisation and role; only a SHA-256 of its random secret is kept.

    Refused once revoked or at `expires_at`; `last_used_at` is recorded at most once a minute.
    """

    __tablename__ = "api_key"

    key_id: Mapped[str] = mapped_column(String, primary_key=True)
    org: Mapped[str] = mapped_column(String, nullable=False)
    role: Mapped[str] = mapped_column(String, nullable=False)
    secret_sha256: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A web sign-in (issue 15) with an API key: only a SHA-256 of its random token is kept.

    Refused from `expires_at` (absolute), when idle too long since `last_seen_at`, once `ended_at` (signed out),
    and as soon as its key is revoked or expires.
    """

    __tablename__ = "web_session"

    token_sha256: Mapped[str] = mapped_column(String, primary_key=True)
    key_id: Mapped[str] = mapped_column(String, ForeignKey("api_key.key_id"), nullable=False, index=True)
    org: Mapped[str] = mapped_column(String, nullable=False)
    role: Mapped[str] = mapped_column(String, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RetentionRun(Base):
    """What one `hub retention run` removed, per dataset: whole events (`field` NULL) or one field of `deleted`
    events (`field` names it: an attribute, `category`, `location:<precision>`, `period:<precision>`,
    `clause:<ref>`)."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    today: Mapped[date] = mapped_column(Date, nullable=False)
    dataset: Mapped[str] = mapped_column(String, nullable=False)
    deleted: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReplayRun(Base):
    """One `hub replay`: why it ran, its scope, who ran it, the protocol versions in force, and what the messages it
    read became (the counts are set once, when it finishes; NULL while it runs or if it stopped part-way)."""

    __tablename__ = "replay_run"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    dataset: Mapped[str | None] = mapped_column(String, nullable=True)  # the scope: None for every dataset
    partner: Mapped[str | None] = mapped_column(String, nullable=True)  # the scope: None for every partner
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    end_offsets: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False)  # "topic/partition" -> end offset
    run_by: Mapped[str] = mapped_column(String, nullable=False)
    protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)  # id@version in force
    messages: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    released: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    withheld: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    retracted: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dead_lettered: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RetiredEvent(Base):
    """An event deleted by retention: the sink never loads it again."""

    __tablename__ = "retired_event"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
