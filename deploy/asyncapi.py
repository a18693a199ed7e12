"""The hub's topics as an AsyncAPI 3.0 document, generated from the datasets' feeds and the Kafka settings.

One channel per dataset: its partner topics `{prefix}.events.{dataset}.{partner}` (events and retraction
tombstones), the partner a channel parameter; and one for the dead-letter topic. Each partner sends only to its own
topics, the warehouse loader alone receives from them (taking the partner from the topic) and sends what it cannot
load to the dead-letter topic. Message payloads are the event envelope's JSON Schema (pydantic) narrowed to the
dataset, with its attributes documented; each dataset's source row schema is a component too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel

from deploy.settings import KafkaSettings, LocalSettings
from producers.feed import Feed
from producers.feed_registry import FEEDS
from sharing_protocols import id_scheme
from sharing_protocols.dataset_spec import DatasetSpec
from sharing_protocols.envelope import ENVELOPE_VERSION, SLUG, EventEnvelope
from sharing_protocols.topics import events_prefix
from stream_processors.settings import loader_group

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMPONENT_REF = "#/components/schemas/"
Schema = dict[str, Any]
SECURITY_SCHEMES: dict[str, Schema] = {
    "scramSha512": {
        "type": "scramSha512",
        "description": (
            "SASL/SCRAM-SHA-512 over TLS (Kafka's SASL_SSL). Principals: `<prefix>.partner.<id>` (WRITE and DESCRIBE "
            "on its own topics only), `<prefix>.worker` (READ on the prefix's event topics, WRITE on the "
            "dead-letter topic); HUB_KAFKA_USERNAME, HUB_KAFKA_PASSWORD and HUB_KAFKA_CA_FILE configure a client."
        ),
    }
}


def default_kafka_settings() -> KafkaSettings:
    """KafkaSettings at their defaults whatever HUB_KAFKA_* says: the document describes the hub, not a deployment."""
    return KafkaSettings(**{name: info.default for name, info in KafkaSettings.model_fields.items()})


def _hoisted(schema: Schema, prefix: str, into: dict[str, Schema]) -> Schema:
    """`schema` without its `$defs`, which move into `into` under `prefix` + their name."""
    defs = schema.pop("$defs", {})
    for name, definition in defs.items():
        into[f"{prefix}{name}"] = definition
    return schema


def _asyncapi_dialect(node: Any) -> Any:
    """`node` with OpenAPI-style discriminators (pydantic's) as AsyncAPI's: the property name alone."""
    if isinstance(node, list):
        return [_asyncapi_dialect(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _asyncapi_dialect(value) for key, value in node.items()}
    if isinstance(out.get("discriminator"), dict):
        out["discriminator"] = out["discriminator"]["propertyName"]
    return out


def envelope_schemas(ref_root: str) -> dict[str, Schema]:
    """The EventEnvelope JSON Schema and its sub-models, by model name, referring to each other under `ref_root`."""
    schemas: dict[str, Schema] = {}
    envelope = EventEnvelope.model_json_schema(ref_template=ref_root + "{model}")
    schemas["EventEnvelope"] = _hoisted(envelope, "", schemas)
    return dict(sorted(schemas.items()))


def row_schema(feed: Feed[Any], ref_root: str | None = None) -> Schema:
    """The JSON Schema of the feed's source row (by column name); with `ref_root`, its `$defs` refer there."""
    model: type[BaseModel] = feed.row_model
    if ref_root is None:
        return model.model_json_schema(by_alias=True)
    return model.model_json_schema(by_alias=True, ref_template=ref_root + "{model}")


def _attribute(spec: DatasetSpec, name: str) -> Schema:
    """One attribute's documentation: what the producer does to it before it is published."""
    notes: list[str] = []
    schema: Schema = {}
    if name in spec.linkage:
        notes.append(
            f"A keyed pseudonym (HMAC) in linkage domain {spec.linkage[name]!r} by default; the identifier itself "
            "is never published."
        )
        schema["x-linkage-domain"] = spec.linkage[name]
    if name in spec.free_text:
        notes.append("Free text, scrubbed of identifiers by the producer.")
        schema["x-free-text"] = True
    if name in spec.time_of_day:
        notes.append("Time of day: null unless the feed's protocols grant timestamps.")
        schema["x-time-of-day"] = True
    return {"title": name, **({"description": " ".join(notes)} if notes else {}), **schema}


def dataset_envelope_schema(spec: DatasetSpec, ref_root: str) -> Schema:
    """The envelope of one dataset's events: EventEnvelope (under `ref_root`) with its name, version, attributes."""
    return {
        "title": f"{spec.name} event",
        "description": f"An event of {spec.title}. The attributes are the ones this dataset's mapping sets.",
        "allOf": [
            {"$ref": f"{ref_root}EventEnvelope"},
            {
                "type": "object",
                "properties": {
                    "dataset": {"const": spec.name},
                    "schema_version": {"const": spec.schema_version},
                    "attributes": {
                        "type": "object",
                        "properties": {name: _attribute(spec, name) for name in spec.attributes},
                    },
                },
            },
        ],
        "x-dataset-kind": spec.kind,
    }


def standalone_envelope_schema(spec: DatasetSpec) -> Schema:
    """The dataset's envelope as one self-contained JSON Schema document (for `hub schema FEED --envelope`)."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        **dataset_envelope_schema(spec, "#/$defs/"),
        "$defs": envelope_schemas("#/$defs/"),
    }


def _headers(spec: DatasetSpec, last: tuple[str, Schema]) -> Schema:
    """The record headers the publisher sets (UTF-8 strings), ending with `last`."""
    properties: dict[str, Schema] = {
        "dataset": {"const": spec.name, "description": "The dataset (also given by the topic)."},
        "partner": {
            "type": "string",
            "pattern": SLUG,
            "description": "The publishing partner (informative: the loader takes the partner from the topic).",
        },
        "schema_version": {
            "const": str(spec.schema_version),
            "description": "The row schema version the record was validated against (decimal).",
        },
        "envelope_version": {"const": str(ENVELOPE_VERSION), "description": "The envelope version (decimal)."},
        last[0]: last[1],
        id_scheme.HEADER: {
            "type": "string",
            "pattern": "^(public|keyed:[0-9a-f]{16})$",
            "description": "How the event id was made: `public` (uuid5, no record-id key) or `keyed:` and a one-way "
            "fingerprint of the partner's record-id key. The loader keeps each dataset and partner's first scheme and "
            "dead-letters records under another (`id_scheme_conflict`), so a record cannot load twice under two ids; "
            "records without the header (older producers) are not checked.",
        },
    }
    return {"type": "object", "properties": properties, "required": list(properties)}


KEY_SCHEMA: Schema = {
    "type": "string",
    "format": "uuid",
    "description": "The event id (UTF-8): the same source record always has the same id, so it keys compaction.",
}


def _messages(feed: Feed[Any]) -> dict[str, Schema]:
    """The event and retraction messages of one dataset, by component name."""
    spec = feed.spec
    bindings = {"kafka": {"key": KEY_SCHEMA, "bindingVersion": KAFKA_BINDING_VERSION}}
    event = {
        "name": "event",
        "title": spec.title,
        "summary": f"One {spec.name} event ({spec.kind}), schema version {spec.schema_version}.",
        **({"description": spec.description} if spec.description else {}),
        "contentType": "application/json",
        "headers": _headers(
            spec, ("content_type", {"const": "application/json", "description": "The value is the JSON envelope."})
        ),
        "payload": {"$ref": f"{COMPONENT_REF}{spec.name}.event"},
        "bindings": bindings,
    }
    retraction = {
        "name": "retraction",
        "title": f"{spec.title}: retraction",
        "summary": "A tombstone: the partner withdraws the event with this key.",
        "description": "The value is null. The loader removes the event from the warehouse and records the retraction, "
        "only when the partner whose topic carries the tombstone published the event (same dataset); a tombstone "
        "for another partner's event leaves it untouched and is dead-lettered (`retraction_not_publisher`). "
        + (
            "`hub publish` sends one for each row that marks its record withdrawn."
            if feed.retracted is not None
            else "This dataset's rows cannot mark a record withdrawn, so `hub publish` sends none for it."
        ),
        "headers": _headers(spec, ("retraction", {"const": "1", "description": "Marks the tombstone."})),
        "payload": {"type": "null"},
        "bindings": bindings,
    }
    return {f"{spec.name}.event": event, f"{spec.name}.retraction": retraction}


DEAD_LETTER: Schema = {
    "name": "dead-letter",
    "title": "Dead letter",
    "summary": "A consumed record the loader could not load, as it was consumed.",
    "description": "Key, value and headers are the original record's; the loader adds the two dlq headers.",
    "headers": {
        "type": "object",
        "properties": {
            "dlq.reason": {
                "type": "string",
                "description": "Why it was not loaded (fixed words, never payload content).",
            },
            "dlq.source": {"type": "string", "description": "Where it was consumed from: TOPIC/PARTITION/OFFSET."},
        },
        "required": ["dlq.reason", "dlq.source"],
    },
    "payload": {"description": "The original value, unchanged (possibly not JSON, possibly null)."},
    "bindings": {
        "kafka": {"key": {"description": "The original key, unchanged."}, "bindingVersion": KAFKA_BINDING_VERSION}
    },
}


def _channel(
    address: str,
    description: str,
    messages: Mapping[str, str],
    partitions: int,
    parameters: Mapping[str, Schema] | None = None,
) -> Schema:
    """A channel; with `parameters`, `address` is a template and the binding names no single topic."""
    kafka: Schema = {"partitions": partitions, "replicas": 1, "bindingVersion": KAFKA_BINDING_VERSION}
    return {
        "address": address,
        "description": description,
        **({"parameters": dict(parameters)} if parameters else {}),
        "messages": {name: {"$ref": f"#/components/messages/{ref}"} for name, ref in messages.items()},
        "bindings": {"kafka": kafka if parameters else {"topic": address, **kafka}},
    }


def _partner_parameter(feed: Feed[Any]) -> Schema:
    return {
        "description": "The publishing partner's id (a slug). Its topics are created by the hub operator "
        "(`hub partners add`), written only by that partner and read only by the warehouse loader.",
        "examples": [feed.default_partner],
    }


def _partner_channel_description(spec: DatasetSpec) -> str:
    return (
        f"{spec.title}: one topic per publishing partner, one record per event, keyed by event id. Source rows: "
        f"{spec.name}.row.\n\n"
        "Only the partner named in the topic may write it (broker ACLs), and only the warehouse loader reads it. "
        "The loader takes the dataset and the partner from the topic, not from the envelope: an envelope naming "
        "another partner is dead-lettered (`partner_mismatch`), another dataset likewise. An event id belongs to "
        "the partner that first published it: another partner's event or tombstone with that id is dead-lettered "
        "(`event_id_conflict`, `retraction_not_publisher`) and the event is left as it was."
    )


def _operation(action: str, channel: str, messages: tuple[str, ...], summary: str, group: str | None) -> Schema:
    operation: Schema = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in messages],
    }
    if group is not None:
        operation["bindings"] = {
            "kafka": {"groupId": {"type": "string", "const": group}, "bindingVersion": KAFKA_BINDING_VERSION}
        }
    return operation


def asyncapi_document(kafka: KafkaSettings | None = None, feeds: Mapping[str, Feed[Any]] = FEEDS) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the hub's topics (default: the default settings, every dataset's feed)."""
    kafka = kafka or default_kafka_settings()
    local = LocalSettings.model_fields["kafka_port"].default
    channels: dict[str, Schema] = {}
    operations: dict[str, Schema] = {}
    messages: dict[str, Schema] = {}
    schemas = envelope_schemas(COMPONENT_REF)
    for name in sorted(feeds):
        feed = feeds[name]
        spec = feed.spec
        messages.update(_messages(feed))
        schemas[f"{name}.event"] = dataset_envelope_schema(spec, COMPONENT_REF)
        row = _hoisted(row_schema(feed, f"{COMPONENT_REF}{name}.row."), f"{name}.row.", schemas)
        schemas[f"{name}.row"] = {**row, "x-source-formats": list(feed.formats)}
        channels[name] = _channel(
            f"{events_prefix(kafka.topic_prefix)}{name}.{{partner}}",
            _partner_channel_description(spec),
            {"event": f"{name}.event", "retraction": f"{name}.retraction"},
            kafka.partitions,
            {"partner": _partner_parameter(feed)},
        )
        operations[f"{name}.publish"] = _operation(
            "send",
            name,
            ("event", "retraction"),
            f"A partner publishes {name} on its own topic (`hub publish {name} FILE --partner PARTNER`).",
            None,
        )
        operations[f"{name}.load"] = _operation(
            "receive",
            name,
            ("event", "retraction"),
            "The warehouse loader consumes every partner's topic, those created while it runs too (`hub worker`).",
            loader_group(kafka.topic_prefix),
        )
    channels["dead-letter"] = _channel(
        kafka.dead_letter_topic,
        "Records the loader could not load: malformed, unknown dataset, another dataset than the topic's, "
        "`partner_mismatch` (the envelope names another partner than the topic's), key not the event id, "
        "`event_id_conflict` (another partner's event id), `retraction_not_publisher` (a tombstone for another "
        "partner's event), `id_scheme_invalid` (a `hub-id-scheme` header that is not a scheme, appears twice or "
        "contradicts the event id), `id_scheme_conflict` (an event id under another scheme than the feed's first), "
        "not a partner topic.",
        {"deadLetter": "dead-letter"},
        kafka.partitions,
    )
    messages["dead-letter"] = DEAD_LETTER
    operations["dead-letter.send"] = _operation(
        "send", "dead-letter", ("deadLetter",), "The warehouse loader dead-letters what it cannot load.", None
    )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "CSP information-sharing hub: partner event topics",
            "version": f"envelope-{ENVELOPE_VERSION}",
            "description": (
                "Generated by `hub asyncapi` from the dataset catalogue; do not edit. Each partner publishes each "
                "dataset on a topic of its own, `<prefix>.events.<dataset>.<partner>`, which it alone may write and "
                "the warehouse loader alone reads; the topic, not the envelope, says who sent an event. Topic names "
                f"use the default prefix {kafka.topic_prefix!r} (HUB_KAFKA_TOPIC_PREFIX changes it). Header values "
                "are UTF-8."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": f"127.0.0.1:{local}",
                "protocol": "kafka-secure",
                "description": (
                    "The embedded broker `hub up` starts (HUB_KAFKA_BOOTSTRAP names another cluster). Its only "
                    "client listener is SASL_SSL: TLS with the hub CA's certificate, then SASL/SCRAM-SHA-512. Each "
                    "partner is a principal that may write only its own topics (`hub partners add`)."
                ),
                "security": [{"$ref": "#/components/securitySchemes/scramSha512"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": _asyncapi_dialect(schemas),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, and shared parts in full (no anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(document: Mapping[str, Any]) -> str:
    """`document` as YAML, keys in their given order."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def render(kafka: KafkaSettings | None = None) -> str:
    """The AsyncAPI document as YAML, exactly as docs/asyncapi.yaml holds it."""
    return to_yaml(asyncapi_document(kafka))
