"""Response schemas of the information-governance endpoints (/v1/ig/...)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from sharing_protocols.protocol_words import ClauseTerms


class ProtocolOut(BaseModel):
    label: str
    id: str
    version: int
    title: str
    status: str
    in_force: bool
    not_in_force_reason: str | None
    valid_from: date
    review_due: date
    expires: date | None
    dpia_reference: str | None
    signatories: list[str]  # "role, organisation"
    data_owners: list[str]
    datasets_by_owner: dict[str, list[str]]
    recipients: list[str]
    datasets: list[str]
    legal_gateways: list[str]
    clauses: list[dict[str, Any]]  # each clause as its document states it, and `rule`: its rule in plain words


class ProtocolTermsOut(BaseModel):
    """One version of a protocol with its clauses in plain words, and the versions of it the caller may see."""

    protocol: ProtocolOut
    versions: list[int]
    purposes: list[str]
    legal_gateways: list[str]  # in words
    retention: str
    terms: list[ClauseTerms]  # each clause in plain words, as sharing_protocols.protocol_words says it


class ChangeOut(BaseModel):
    """One change between two versions (sharing_protocols.protocol_diff.Change) and its line in words."""

    kind: str  # added, removed or changed
    what: str
    within: str | None  # "clause <id>", "data owner <id>"; None: the protocol itself
    clause: str | None
    before: str | None
    after: str | None
    detail: str | None
    words: str


class ProtocolDiffOut(BaseModel):
    id: str
    from_version: int
    to_version: int
    changes: list[ChangeOut]


class FlowOut(BaseModel):
    protocol: str
    clause: str
    partner: str
    recipient: str
    period: str
    events: int | None  # None: suppressed under the clause's disclosure rule


class WithheldOut(BaseModel):
    code: str
    dataset: str
    partner: str
    period: str
    events: int


class AccessOut(BaseModel):
    at: datetime
    org: str
    role: str
    endpoint: str
    query: dict[str, Any]
    protocols: list[str]
    rows: int
    status: int


class RetentionRunOut(BaseModel):
    """What one retention run removed of one dataset: whole events (`field` None) or one field of events."""

    run_at: datetime
    today: date
    dataset: str
    field: str | None
    deleted: int


class RetractionOut(BaseModel):
    """Records a partner withdrew, by dataset, partner and day: how many, and how many deleted a stored event."""

    day: date
    dataset: str
    partner: str  # "unknown" when neither the retraction nor the retracted event names one
    retractions: int
    removed: int


class FieldRetentionOut(BaseModel):
    dataset: str
    field: str  # category, an attribute, location:<precision> or period:<precision>
    retention: str  # as the protocol states it: "13 months", "400 days"
    months: int | None
    days: int | None
    keep_until: date  # the last day the field of an event loaded on `on` is kept
    clauses: list[str]  # the clause(s) giving this retention, protocol@version#clause
    released_by: list[str]  # every clause in force releasing the field


class ReleasedFigureOut(BaseModel):
    """One figure released to an organisation: what it counts and what was shown (None: suppressed)."""

    at: datetime
    org: str
    dataset: str
    level: str
    areas: list[str]
    categories: list[str] | None  # None: every category
    period: str
    first_month: date
    last_month: date
    value: int | None
    suppressed: bool
    rule: str  # e.g. "min 8, round 5"
    clauses: list[str]


class ReleaseSummaryOut(BaseModel):
    """Per organisation, dataset and level: how many figures were released, shown and suppressed."""

    org: str
    dataset: str
    level: str
    figures: int
    shown: int
    suppressed: int


class ReleasesOut(BaseModel):
    summary: list[ReleaseSummaryOut]
    figures: list[ReleasedFigureOut]
