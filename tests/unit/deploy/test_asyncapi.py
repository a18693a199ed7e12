"""docs/asyncapi.yaml is what the generator makes now, covers every dataset, and matches what the publisher sends."""

from __future__ import annotations

import csv
import re
import uuid
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from deploy.asyncapi import asyncapi_document, render, row_schema
from producers.feed_registry import get_feed
from producers.generators.registry import all_generators
from producers.publish import PublishSummary, SourceOptions, outgoing, unlinked
from producers.publisher import record
from sharing_protocols.catalogue import CATALOGUE, get_dataset
from sharing_protocols.envelope import Retraction
from sharing_protocols.topics import topic_source
from tests.support.feeds import generated
from tests.support.open_data import EASTBOURNE_STREET, ROOT, SHARED_DATA

COMMITTED = ROOT / "docs" / "asyncapi.yaml"
FIXTURE = SHARED_DATA / EASTBOURNE_STREET
DOCUMENT = asyncapi_document()


def test_the_committed_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "docs/asyncapi.yaml is stale: run `hub asyncapi --out docs/asyncapi.yaml` and commit it"
    )


def test_the_document_is_yaml_of_the_generated_dict() -> None:
    assert yaml.safe_load(render()) == DOCUMENT
    assert DOCUMENT["asyncapi"] == "3.0.0"


def _resolve(ref: str) -> Any:
    node: Any = DOCUMENT
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_every_reference_resolves() -> None:
    for ref in _refs(DOCUMENT):
        assert ref.startswith("#/"), ref
        _resolve(ref)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_dataset_has_a_channel_operations_and_messages(name: str) -> None:
    channel = DOCUMENT["channels"][name]
    assert channel["address"] == f"hub.events.{name}.{{partner}}"
    assert set(channel["parameters"]) == {"partner"}
    assert "topic" not in channel["bindings"]["kafka"]  # one topic per partner: the address is a template
    assert set(channel["messages"]) == {"event", "retraction"}
    messages = DOCUMENT["components"]["messages"]
    assert messages[f"{name}.event"]["payload"] == {"$ref": f"#/components/schemas/{name}.event"}
    assert messages[f"{name}.retraction"]["payload"] == {"type": "null"}
    assert DOCUMENT["operations"][f"{name}.publish"]["action"] == "send"
    assert DOCUMENT["operations"][f"{name}.load"]["action"] == "receive"
    spec = get_dataset(name)
    attributes = _resolve(f"#/components/schemas/{name}.event")["allOf"][1]["properties"]["attributes"]
    assert list(attributes["properties"]) == list(spec.attributes)
    for attribute, documented in attributes["properties"].items():
        assert documented.get("x-free-text", False) == (attribute in spec.free_text)
        assert documented.get("x-time-of-day", False) == (attribute in spec.time_of_day)
        assert documented.get("x-linkage-domain") == spec.linkage.get(attribute)


def test_the_dead_letter_channel() -> None:
    channel = DOCUMENT["channels"]["dead-letter"]
    assert channel["address"] == "hub.dead-letter"
    headers = _resolve(channel["messages"]["deadLetter"]["$ref"])["headers"]
    assert set(headers["properties"]) == {"dlq.reason", "dlq.source"}
    for reason in ("partner_mismatch", "event_id_conflict", "retraction_not_publisher"):
        assert reason in channel["description"]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_partner_channel_says_who_writes_reads_and_retracts(name: str) -> None:
    channel = DOCUMENT["channels"][name]
    described = " ".join(channel["description"].split())
    assert "Only the partner named in the topic may write it" in described
    assert "only the warehouse loader reads it" in described
    assert "`partner_mismatch`" in described
    retraction = DOCUMENT["components"]["messages"][f"{name}.retraction"]["description"]
    assert "only when the partner whose topic carries the tombstone published the event" in retraction
    example = channel["parameters"]["partner"]["examples"][0]
    assert topic_source("hub", channel["address"].replace("{partner}", example)) is not None


def _sent_records() -> list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]:
    """The records the publisher makes for an event of the fixture and for a retraction."""
    feed = get_feed("police-uk-street")
    spec = feed.spec
    options = SourceOptions(feed.default_partner, unlinked)
    event = next(outgoing(feed, FIXTURE, options, PublishSummary(str(FIXTURE), spec.name)))
    retraction = Retraction(
        event_id=event.event_id, dataset=spec.name, partner=event.partner, schema_version=spec.schema_version
    )
    return [record(event, options.id_scheme), record(retraction, options.id_scheme)]


def _header_matches(schema: dict[str, Any], value: str) -> bool:
    if "const" in schema:
        return bool(schema["const"] == value)
    if "pattern" in schema:
        return re.fullmatch(schema["pattern"].strip("^$"), value) is not None
    return schema.get("type") == "string"


def test_key_and_headers_are_what_the_publisher_sends() -> None:
    messages = DOCUMENT["components"]["messages"]
    event, retraction = _sent_records()
    for (key, value, headers), message in zip(
        (event, retraction),
        (messages["police-uk-street.event"], messages["police-uk-street.retraction"]),
        strict=True,
    ):
        documented = message["headers"]
        assert [name for name, _ in headers] == list(documented["properties"]) == documented["required"]
        for name, raw in headers:
            assert _header_matches(documented["properties"][name], raw.decode()), name
        assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
        uuid.UUID(key.decode())
        assert (value is None) == (message["payload"] == {"type": "null"})


def _json_type_ok(schema: dict[str, Any], value: Any) -> bool:
    """Whether `value` (from JSON) has one of the types `schema` allows (a type check, not full validation)."""
    options = schema.get("anyOf", [schema])
    names = {option.get("type") for option in options}
    if None in names or "const" in schema or "enum" in schema:
        return True
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "number": (int, float),
        "integer": int,
        "boolean": bool,
        "null": type(None),
    }
    return any(isinstance(value, kinds[name]) for name in names if name in kinds)


def _sample_rows() -> dict[str, dict[str, str]]:
    """One real source row per dataset: police.uk from the Eastbourne fixture, the rest from their generators."""
    with FIXTURE.open(newline="", encoding="utf-8") as handle:
        rows = {"police-uk-street": next(csv.DictReader(handle))}
    for name, generator in all_generators().items():
        if name in CATALOGUE and name not in rows:
            rows[name] = generated(generator, rows=1)[0]
    return rows


SAMPLES = _sample_rows()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_row_schema_describes_a_real_row(name: str) -> None:
    feed = get_feed(name)
    schema = row_schema(feed)
    model: type[BaseModel] = feed.row_model
    aliases = [
        info.validation_alias if isinstance(info.validation_alias, str) else info.alias or field
        for field, info in model.model_fields.items()
    ]
    assert list(schema["properties"]) == aliases
    raw = SAMPLES[name]
    assert set(schema.get("required", [])) <= set(raw), "a required column is missing from the sample row"
    parsed = model.model_validate(raw).model_dump(mode="json", by_alias=True)
    for column, value in parsed.items():
        assert _json_type_ok(schema["properties"][column], value), column
    assert DOCUMENT["components"]["schemas"][f"{name}.row"]["properties"].keys() == schema["properties"].keys()


def test_the_server_takes_only_sasl_ssl_with_scram_sha_512() -> None:
    server = DOCUMENT["servers"]["local"]
    schemes = [DOCUMENT["components"]["securitySchemes"][ref["$ref"].rsplit("/", 1)[1]] for ref in server["security"]]
    assert (server["protocol"], [scheme["type"] for scheme in schemes]) == ("kafka-secure", ["scramSha512"])
