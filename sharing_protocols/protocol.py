"""Information-sharing protocols (ISPs) as data: the YAML document format, its models, and parsing from text.

Modelled on the WASPI information-sharing protocol template and the ICO Data Sharing Code: who owns the data,
who receives it, for what purposes, under which legal gateways, and clause by clause exactly which fields are
released to whom at which precision. Parsing checks the document's shape and its internal consistency; checks
against the dataset catalogue and today's date are in `sharing_protocols.checks`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from sharing_protocols.precision import SpatialPrecision, TemporalPrecision

Status = Literal["draft", "active", "suspended", "expired"]
Output = Literal["record_level", "aggregates_only"]
RecipientKind = Literal["csp", "organisation", "public"]

_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_FIELD_PATTERN = r"^[a-z][a-z0-9_]*$"
Slug = Annotated[str, StringConstraints(pattern=_SLUG_PATTERN, max_length=80)]
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


def _as_tuple(value: object) -> object:
    """Lets a list field be written as a single string in YAML."""
    return (value,) if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(_Model):
    """An organisation that owns data shared under the protocol; `id` is its EventEnvelope.partner."""

    id: Slug
    name: Text


class Recipient(_Model):
    """An organisation, CSP or the public, receiving data under the protocol."""

    id: Slug
    name: Text
    kind: RecipientKind


class LegalGateway(_Model):
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


class Signatory(_Model):
    """Who signed for an organisation: a role, not a person."""

    role: Text
    organisation: Slug


class Retention(_Model):
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
        total = received.year * 12 + received.month - 1 + (self.months or 0)
        year, month = divmod(total, 12)
        month += 1
        return date(year, month, min(received.day, calendar.monthrange(year, month)[1]))

    def __str__(self) -> str:
        return f"{self.days} days" if self.days is not None else f"{self.months} months"


class DisclosureControl(_Model):
    """Statistical disclosure control for counts: suppress 1..min_cell_count-1, round the rest to `round_to`.

    Zero is shown as zero. Rounding is to the nearest multiple of `round_to`, halves up.
    """

    min_cell_count: int = Field(ge=1, le=1_000)
    round_to: int = Field(default=1, ge=1, le=1_000)

    @model_validator(mode="after")
    def _no_rounding_to_zero(self) -> DisclosureControl:
        if 2 * self.min_cell_count < self.round_to:
            raise ValueError("min_cell_count must be at least half of round_to, or a shown count could round to 0")
        return self

    def apply(self, count: int) -> int | None:
        """The count as it may be shown, or None when it must be suppressed."""
        if count < 0:
            raise ValueError("a count cannot be negative")
        if count == 0:
            return 0
        if count < self.min_cell_count:
            return None
        return (count + self.round_to // 2) // self.round_to * self.round_to

    def __str__(self) -> str:
        suppressed = f"1-{self.min_cell_count - 1} suppressed" if self.min_cell_count > 1 else "no suppression"
        rounding = f", rounded to {self.round_to}" if self.round_to > 1 else ""
        return suppressed + rounding


class Clause(_Model):
    """One grant: these recipients may receive these fields of these datasets, at this precision and output."""

    id: Slug
    recipients: Annotated[tuple[Slug, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
    datasets: Annotated[tuple[Slug, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
    fields: tuple[FieldName, ...] = Field(min_length=1)
    spatial_precision: SpatialPrecision | None = None
    temporal_precision: TemporalPrecision | None = None
    output: Output
    disclosure: DisclosureControl | None = None
    pseudonym_linkage: bool = False
    categories: Annotated[tuple[Text, ...], BeforeValidator(_as_tuple), Field(min_length=1)] | None = None

    def covers_category(self, category: str) -> bool:
        """Whether the clause's category filter (if any) lets this category through."""
        return self.categories is None or category in self.categories


class Protocol(_Model):
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
    datasets: Annotated[tuple[Slug, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
    retention: Retention
    signatories: tuple[Signatory, ...] = Field(min_length=1)
    clauses: tuple[Clause, ...] = Field(min_length=1)

    @property
    def label(self) -> str:
        """The stable label `id@version` that decisions cite."""
        return f"{self.id}@{self.version}"

    @property
    def owner_ids(self) -> frozenset[str]:
        return frozenset(owner.id for owner in self.data_owners)

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a protocol document: the source (file name), the field path and what is wrong."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path or '(document)'}: {self.message}"


class ProtocolError(ValueError):
    """A protocol document that cannot be used; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def format_path(loc: Iterable[int | str]) -> str:
    """('clauses', 1, 'fields', 3) -> 'clauses[1].fields[3]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found a duplicate key", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source_name: str) -> object:
    """The YAML document in `text`; ProtocolError with the line and column on a syntax error."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProtocolError([Problem(source_name, "", f"YAML syntax error{where}: {exc.problem}")]) from None
    except yaml.YAMLError:
        raise ProtocolError([Problem(source_name, "", "YAML syntax error")]) from None


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the protocol format",
    "tuple_type": "must be a list",
}
_PATTERNS = {
    _SLUG_PATTERN: "must be an id of lower-case letters, digits and hyphens",
    _FIELD_PATTERN: "must be a field name of lower-case letters, digits and underscores",
}


def _schema_problems(exc: ValidationError, source_name: str) -> list[Problem]:
    """Pydantic's errors as Problems with field paths; input values are never included."""
    errors = exc.errors(include_input=False, include_url=False)
    locs = [tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))) for e in errors]
    problems = []
    for error, loc in zip(errors, locs, strict=True):
        if error["type"] == "too_short" and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs):
            continue  # pydantic counts only the items that validated; the items' own errors say more
        path = format_path(loc)
        ctx = error.get("ctx", {})
        if path == "legal_gateways" and error["type"] in ("missing", "too_short"):
            message = "at least one legal gateway is required (e.g. cda-1998-s115)"
        elif error["type"] == "too_short":
            message = f"must have at least {ctx.get('min_length', 1)} item(s)"
        elif error["type"] == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERNS:
            message = _PATTERNS[ctx["pattern"]]
        else:
            message = _MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
        problems.append(Problem(source_name, path, message))
    return problems


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
    _duplicates([r.id for r in protocol.recipients], "recipients", "id", "recipient", add)
    _duplicates(list(protocol.datasets), "datasets", None, "dataset", add)
    _duplicates([c.id for c in protocol.clauses], "clauses", "id", "clause id", add)
    _duplicates([g.ref for g in protocol.legal_gateways if g.ref != OTHER_GATEWAY], "legal_gateways", "ref", "ref", add)
    parties = protocol.owner_ids | {r.id for r in protocol.recipients if r.kind != "public"}
    for i, signatory in enumerate(protocol.signatories):
        if signatory.organisation not in parties:
            add(f"signatories[{i}].organisation", "is not a declared data owner or (non-public) recipient")
    recipient_ids = {r.id for r in protocol.recipients}
    for i, clause in enumerate(protocol.clauses):
        at = f"clauses[{i}]"
        for j, recipient in enumerate(clause.recipients):
            if recipient not in recipient_ids:
                add(f"{at}.recipients[{j}]", "is not declared in recipients")
        for j, dataset in enumerate(clause.datasets):
            if dataset not in protocol.datasets:
                add(f"{at}.datasets[{j}]", "is not declared in datasets")
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
    if not isinstance(data, Mapping):
        raise ProtocolError([Problem(source_name, "", "the document must be a YAML mapping of protocol fields")])
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(_schema_problems(exc, source_name)) from None


def build_protocol(data: object, source_name: str) -> Protocol:
    """A Protocol from parsed YAML (or any mapping), checked for shape and consistency; ProtocolError if not."""
    protocol = validate_schema(data, source_name)
    problems = consistency_problems(protocol, source_name)
    if problems:
        raise ProtocolError(problems)
    return protocol


def parse_protocol(text: str, source_name: str) -> Protocol:
    """The protocol in the YAML `text`; `source_name` (e.g. the file name) is used in problems only."""
    return build_protocol(load_yaml(text, source_name), source_name)
