"""Information-sharing protocols (ISPs) as data: the YAML document format, its models, and parsing from text.

Modelled on the WASPI information-sharing protocol template and the ICO Data Sharing Code: which data owner
provides which datasets, who receives them, for what purposes, under which legal gateways, and clause by clause
exactly which fields are released to whom at which precision. Parsing checks the document's shape and its
internal consistency; checks against the dataset catalogue and today's date are in `sharing_protocols.checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Annotated, Literal, get_args

from pydantic import BeforeValidator, Field, PrivateAttr, StringConstraints, field_validator, model_validator
from pydantic_core import ErrorDetails

from sharing_protocols.disclosure import DisclosureControl
from sharing_protocols.documents import (
    SLUG_MESSAGE,
    SLUG_PATTERN,
    DocumentError,
    DocumentFormat,
    FrozenModel,
    Problem,
    Slug,
    as_tuple,
)
from sharing_protocols.periods import shift_months
from sharing_protocols.perturbation import TABLE_REF_MESSAGE, TABLE_REF_PATTERN
from sharing_protocols.precision import SpatialPrecision, TemporalPrecision

Status = Literal["draft", "active", "suspended", "expired"]
Output = Literal["record_level", "aggregates_only"]
RecipientKind = Literal["csp", "organisation", "public"]
# The levels a geographic scope or a recipient's area is given at: ONS local authority district, Community Safety
# Partnership, county (or unitary authority) and police force area.
ScopeLevel = Literal["district", "csp", "county", "pfa"]
SCOPE_LEVELS: tuple[ScopeLevel, ...] = get_args(ScopeLevel)
# The ONS (GSS) code prefixes of each level in England and Wales, followed by six digits.
AREA_CODE_PREFIXES: Mapping[ScopeLevel, tuple[str, ...]] = {
    "district": ("E06", "E07", "E08", "E09", "W06"),
    "csp": ("E22", "W14"),
    "county": ("E06", "E08", "E09", "E10", "W06"),
    "pfa": ("E23", "W15"),
}

_FIELD_PATTERN = r"^[a-z][a-z0-9_]*$"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
FieldName = Annotated[str, StringConstraints(pattern=_FIELD_PATTERN, max_length=80)]

# Field names a clause may list for any dataset; the rest are the dataset's attribute names.

# A field whose name contains this is a linkage key: only clauses with pseudonym_linkage may list it.
PSEUDONYM_MARK = "pseudonym"

# The legal gateways the hub recognises (ref -> citation). "other" needs its own citation.
LEGAL_GATEWAYS: Mapping[str, str] = {
    "cda-1998-s115": "Crime and Disorder Act 1998, s115 (power to disclose information to relevant authorities)",
    "cda-1998-s17a": (
        "Crime and Disorder Act 1998, s17A (duty to share depersonalised information), with the Crime and "
        "Disorder (Prescribed Information) Regulations 2007 (SI 2007/1831)"
    ),
    "pcsc-2022-s16": "Police, Crime, Sentencing and Courts Act 2022, s16 (disclosure for the serious violence duty)",
    "uk-gdpr-art6-1c": "UK GDPR Article 6(1)(c) (legal obligation)",
    "uk-gdpr-art6-1e": "UK GDPR Article 6(1)(e) (task in the public interest or in the exercise of official authority)",
    "uk-gdpr-art9-2g": "UK GDPR Article 9(2)(g) (substantial public interest), with DPA 2018 Schedule 1 Part 2",
    "uk-gdpr-art10": "UK GDPR Article 10 (criminal offence data), with DPA 2018 s10 and Schedule 1",
    "dpa-2018-s8": "Data Protection Act 2018, s8 (processing necessary for a task in the public interest)",
    "dpa-2018-part3": "Data Protection Act 2018, Part 3 (law enforcement processing)",
    "dpa-2018-sch1-para10": "Data Protection Act 2018, Schedule 1 paragraph 10 (preventing or detecting unlawful acts)",
    "dpa-2018-sch1-para18": (
        "Data Protection Act 2018, Schedule 1 paragraph 18 (safeguarding of children and of individuals at risk)"
    ),
    "ogl-v3": "Open Government Licence v3.0 (information already published as open data)",
}
OTHER_GATEWAY = "other"


class ProtocolError(DocumentError):
    """A protocol document that cannot be used; `problems` says where and why."""


class Party(FrozenModel):
    """A data owner: an organisation whose events (EventEnvelope.partner == `id`) the protocol shares, for the
    `datasets` it provides under the protocol and no others."""

    id: Slug
    name: Text
    datasets: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)]


AreaCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=9)]


class Area(FrozenModel):
    """An area by its ONS code at one level, e.g. `{level: csp, code: E22000295}` (Eastbourne CSP), or several
    areas of one level that make it up (`codes: [...]`)."""

    level: ScopeLevel
    code: AreaCode | None = None
    codes: Annotated[tuple[AreaCode, ...], BeforeValidator(as_tuple), Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Area:
        if (self.code is None) == (self.codes is None):
            raise ValueError("give exactly one of code or codes")
        return self

    @property
    def all_codes(self) -> tuple[str, ...]:
        return (self.code,) if self.code is not None else self.codes or ()


class Recipient(FrozenModel):
    """An organisation, CSP or the public, receiving data under the protocol; `area` is the area it serves,
    which clauses scoped `of: recipient` limit it to."""

    id: Slug
    name: Text
    kind: RecipientKind
    area: Area | None = None


class Scope(FrozenModel):
    """A clause's geographic scope: each recipient's own area (`of: recipient`, optionally requiring its `level`),
    or the areas `codes` at `level` for every recipient. Events outside it are not released under the clause."""

    level: ScopeLevel | None = None
    of: Literal["recipient"] | None = None
    codes: Annotated[tuple[str, ...], BeforeValidator(as_tuple), Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one(self) -> Scope:
        if (self.of is None) == (self.codes is None):
            raise ValueError("give exactly one of `of: recipient` or `codes`")
        if self.codes is not None and self.level is None:
            raise ValueError("codes need the level they are given at")
        return self


class LegalGateway(FrozenModel):
    """A legal power or basis for the sharing: a known `ref`, or `other` with its own citation."""

    ref: str
    citation: Text | None = None

    @field_validator("ref")
    @classmethod
    def _known_ref(cls, ref: str) -> str:
        if ref != OTHER_GATEWAY and ref not in LEGAL_GATEWAYS:
            raise ValueError(f"is not a known legal gateway; known refs: {', '.join(LEGAL_GATEWAYS)}, other")
        return ref

    @model_validator(mode="after")
    def _other_is_cited(self) -> LegalGateway:
        if self.ref == OTHER_GATEWAY and self.citation is None:
            raise ValueError("a gateway with ref 'other' needs a citation")
        return self

    @property
    def text(self) -> str:
        """The citation written in the document, or the hub's standard one for the ref."""
        return self.citation or LEGAL_GATEWAYS[self.ref]


class Signatory(FrozenModel):
    """Who signed for an organisation: a role, not a person."""

    role: Text
    organisation: Slug


class Retention(FrozenModel):
    """How long a recipient may keep what it received: `days` or `months`, exactly one."""

    days: int | None = Field(default=None, ge=1, le=36_500)
    months: int | None = Field(default=None, ge=1, le=1_200)

    @model_validator(mode="after")
    def _one(self) -> Retention:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of days or months")
        return self

    def keep_until(self, received: date) -> date:
        """The last day on which something received on `received` may be kept."""
        if self.days is not None:
            return received + timedelta(days=self.days)
        return shift_months(received, self.months or 0)

    def __str__(self) -> str:
        return f"{self.days} days" if self.days is not None else f"{self.months} months"


class Clause(FrozenModel):
    """One grant: these recipients may receive these fields of these datasets, at this precision and output."""

    id: Slug
    recipients: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)]
    datasets: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)]
    fields: tuple[FieldName, ...] = Field(min_length=1)
    spatial_precision: SpatialPrecision | None = None
    temporal_precision: TemporalPrecision | None = None
    output: Output
    disclosure: DisclosureControl | None = None
    pseudonym_linkage: bool = False
    categories: Annotated[tuple[Text, ...], BeforeValidator(as_tuple), Field(min_length=1)] | None = None
    scope: Scope | None = None

    def covers_category(self, category: str) -> bool:
        """Whether the clause's category filter (if any) lets this category through."""
        return self.categories is None or category in self.categories


class Protocol(FrozenModel):
    """An information-sharing protocol, at one version."""

    id: Slug
    version: int = Field(ge=1, strict=True)
    title: Text
    status: Status
    valid_from: date
    review_due: date
    expires: date | None = None
    dpia_reference: Text | None = None
    data_owners: tuple[Party, ...] = Field(min_length=1)
    recipients: tuple[Recipient, ...] = Field(min_length=1)
    purposes: tuple[Text, ...] = Field(min_length=1)
    legal_gateways: tuple[LegalGateway, ...] = Field(min_length=1)
    datasets: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)]
    retention: Retention
    signatories: tuple[Signatory, ...] = Field(min_length=1)
    clauses: tuple[Clause, ...] = Field(min_length=1)
    _scope_areas: dict[tuple[str, Scope, str], tuple[ScopeLevel, frozenset[str]]] = PrivateAttr(default_factory=dict)

    @property
    def label(self) -> str:
        """The stable label `id@version` that decisions cite."""
        return f"{self.id}@{self.version}"

    def recipient(self, recipient_id: str) -> Recipient | None:
        """The declared recipient with this id, if any."""
        return next((r for r in self.recipients if r.id == recipient_id), None)

    def scope_areas(self, clause: Clause, recipient_id: str) -> tuple[ScopeLevel, frozenset[str]] | None:
        """The level and area codes `recipient_id` sees under `clause`, or None when the clause has no scope.

        A recipient without an area under an `of: recipient` scope sees nothing (an empty set of codes). Worked out
        once per clause and recipient: the worker asks for every event.
        """
        scope = clause.scope
        if scope is None:
            return None
        key = (clause.id, scope, recipient_id)
        if key not in self._scope_areas:
            self._scope_areas[key] = self._areas_under(scope, recipient_id)
        return self._scope_areas[key]

    def _areas_under(self, scope: Scope, recipient_id: str) -> tuple[ScopeLevel, frozenset[str]]:
        if scope.codes is not None and scope.level is not None:
            return scope.level, frozenset(scope.codes)
        found = self.recipient(recipient_id)
        if found is None or found.area is None or scope.level not in (None, found.area.level):
            return scope.level or "district", frozenset()
        return found.area.level, frozenset(found.area.all_codes)

    @property
    def owner_ids(self) -> frozenset[str]:
        return frozenset(owner.id for owner in self.data_owners)

    def provides(self, partner: str, dataset: str) -> bool:
        """Whether `partner` is a data owner of this protocol that provides `dataset` under it."""
        return any(owner.id == partner and dataset in owner.datasets for owner in self.data_owners)

    def providers(self, dataset: str) -> frozenset[str]:
        """The data owners that provide `dataset` under this protocol."""
        return frozenset(owner.id for owner in self.data_owners if dataset in owner.datasets)

    def not_in_force_reason(self, on: date) -> str | None:
        """Why the protocol releases nothing on `on` (status, dates, overdue review), or None if it is in force."""
        if self.status != "active":
            return f"status is {self.status}"
        if on < self.valid_from:
            return f"not valid until {self.valid_from.isoformat()}"
        if self.expires is not None and on > self.expires:
            return f"expired on {self.expires.isoformat()}"
        if on > self.review_due:
            return f"review overdue since {self.review_due.isoformat()}"
        return None


_PATTERNS = {
    SLUG_PATTERN: SLUG_MESSAGE,
    _FIELD_PATTERN: "must be a field name of lower-case letters, digits and underscores",
    TABLE_REF_PATTERN: TABLE_REF_MESSAGE,
}


def _reword(path: str, error: ErrorDetails, message: str) -> str:
    """The protocol format's own wording: a missing legal gateway, and too few items."""
    if path == "legal_gateways" and error["type"] in ("missing", "too_short"):
        return "at least one legal gateway is required (e.g. cda-1998-s115)"
    if error["type"] == "too_short":
        return f"must have at least {error.get('ctx', {}).get('min_length', 1)} item(s)"
    return message


PROTOCOL_FORMAT = DocumentFormat("protocol", Protocol, ProtocolError, _PATTERNS, _reword)


def consistency_problems(protocol: Protocol, source_name: str) -> list[Problem]:
    """Rules that make a well-formed document self-consistent; independent of the catalogue and of today."""
    problems: list[Problem] = []

    def add(path: str, message: str) -> None:
        problems.append(Problem(source_name, path, message))

    if protocol.expires is not None and protocol.expires < protocol.valid_from:
        add("expires", "is before valid_from")
    if protocol.review_due < protocol.valid_from:
        add("review_due", "is before valid_from")
    _duplicates([o.id for o in protocol.data_owners], "data_owners", "id", "data owner", add)
    for i, owner in enumerate(protocol.data_owners):
        _duplicates(list(owner.datasets), f"data_owners[{i}].datasets", None, "dataset", add)
        for j, dataset in enumerate(owner.datasets):
            if dataset not in protocol.datasets:
                add(f"data_owners[{i}].datasets[{j}]", "is not declared in datasets: the protocol does not cover it")
    _duplicates([r.id for r in protocol.recipients], "recipients", "id", "recipient", add)
    _duplicates(list(protocol.datasets), "datasets", None, "dataset", add)
    _duplicates([c.id for c in protocol.clauses], "clauses", "id", "clause id", add)
    _duplicates([g.ref for g in protocol.legal_gateways if g.ref != OTHER_GATEWAY], "legal_gateways", "ref", "ref", add)
    parties = protocol.owner_ids | {r.id for r in protocol.recipients if r.kind != "public"}
    for i, signatory in enumerate(protocol.signatories):
        if signatory.organisation not in parties:
            add(f"signatories[{i}].organisation", "is not a declared data owner or (non-public) recipient")
    for i, declared in enumerate(protocol.recipients):
        area = declared.area
        if area is None:
            continue
        at_path = [(area.code, "code")] if area.code is not None else []
        at_path += [(code, f"codes[{j}]") for j, code in enumerate(area.codes or ())]
        for code, where in at_path:
            _check_code(area.level, code, f"recipients[{i}].area.{where}", add)
    recipient_ids = {r.id for r in protocol.recipients}
    for i, clause in enumerate(protocol.clauses):
        at = f"clauses[{i}]"
        _scope_problems(protocol, clause, at, add)
        for j, recipient in enumerate(clause.recipients):
            if recipient not in recipient_ids:
                add(f"{at}.recipients[{j}]", "is not declared in recipients")
        for j, dataset in enumerate(clause.datasets):
            if dataset not in protocol.datasets:
                add(f"{at}.datasets[{j}]", "is not declared in datasets")
            elif not protocol.providers(dataset):
                add(
                    f"{at}.datasets[{j}]",
                    "is provided by no data owner of this protocol (list it in the datasets of the data owner "
                    "that provides it)",
                )
        _duplicates(list(clause.recipients), f"{at}.recipients", None, "recipient", add)
        _duplicates(list(clause.datasets), f"{at}.datasets", None, "dataset", add)
        _duplicates(list(clause.fields), f"{at}.fields", None, "field", add)
        for j, name in enumerate(clause.fields):
            if PSEUDONYM_MARK in name and not clause.pseudonym_linkage:
                add(f"{at}.fields[{j}]", "is a pseudonym (linkage key): the clause needs pseudonym_linkage: true")
        for name, given in (("spatial_precision", "location"), ("temporal_precision", "period")):
            listed = given in clause.fields
            if listed and getattr(clause, name) is None:
                add(f"{at}.{name}", f"is required because fields lists {given}")
            if not listed and getattr(clause, name) is not None:
                add(f"{at}.{name}", f"is given but fields does not list {given}")
        for earlier in range(i):
            overlap = _overlap(protocol.clauses[earlier], clause)
            if overlap:
                add(
                    at,
                    f"overlaps clauses[{earlier}] ({protocol.clauses[earlier].id}) for {overlap}: at most one clause "
                    "may grant a recipient a dataset (or, with category filters, a category of it)",
                )
    return problems


def _check_code(level: ScopeLevel, code: str, path: str, add: Callable[[str, str], None]) -> None:
    prefixes = AREA_CODE_PREFIXES[level]
    if not (len(code) == 9 and code[:3] in prefixes and code[3:].isdigit()):
        add(path, f"is not an ONS {level} code (9 characters: {', '.join(prefixes)} and six digits)")


def _scope_problems(protocol: Protocol, clause: Clause, at: str, add: Callable[[str, str], None]) -> None:
    """A scope's codes must be ONS codes of its level; `of: recipient` needs every recipient to have an area (at
    the scope's level, when it names one)."""
    scope = clause.scope
    if scope is None:
        return
    if scope.codes is not None and scope.level is not None:
        for j, code in enumerate(scope.codes):
            _check_code(scope.level, code, f"{at}.scope.codes[{j}]", add)
        _duplicates(list(scope.codes), f"{at}.scope.codes", None, "code", add)
        return
    for j, recipient_id in enumerate(clause.recipients):
        recipient = protocol.recipient(recipient_id)
        if recipient is None:
            continue  # reported as undeclared
        if recipient.area is None:
            add(
                f"{at}.recipients[{j}]",
                f"recipient {recipient_id} has no area, but the clause's scope is `of: recipient` (give the "
                "recipient an area, e.g. area: {level: csp, code: E22000295})",
            )
        elif scope.level is not None and recipient.area.level != scope.level:
            add(
                f"{at}.recipients[{j}]",
                f"recipient {recipient_id}'s area is a {recipient.area.level}, but the clause's scope is at "
                f"{scope.level} level",
            )


def _duplicates(values: list[str], path: str, key: str | None, what: str, add: Callable[[str, str], None]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            add(f"{path}[{i}]" + (f".{key}" if key else ""), f"repeats a {what} given earlier")
        seen.add(value)


def _overlap(a: Clause, b: Clause) -> str | None:
    """The shared recipient and dataset of two clauses whose category filters intersect, if any."""
    recipients = sorted(set(a.recipients) & set(b.recipients))
    datasets = sorted(set(a.datasets) & set(b.datasets))
    if not recipients or not datasets:
        return None
    if a.categories is not None and b.categories is not None and not set(a.categories) & set(b.categories):
        return None
    return f"recipient {recipients[0]} and dataset {datasets[0]}"


def validate_schema(data: object, source_name: str) -> Protocol:
    """A Protocol from parsed YAML (or any mapping), checking its shape only; ProtocolError on problems."""
    return PROTOCOL_FORMAT.validate(data, source_name)


def build_protocol(data: object, source_name: str) -> Protocol:
    """A Protocol from parsed YAML (or any mapping), checked for shape and consistency; ProtocolError if not."""
    return PROTOCOL_FORMAT.build(data, source_name, consistency_problems)


def parse_protocol(text: str, source_name: str) -> Protocol:
    """The protocol in the YAML `text`; `source_name` (e.g. the file name) is used in problems only."""
    return build_protocol(PROTOCOL_FORMAT.load_yaml(text, source_name), source_name)
