"""Validating Kubernetes manifests and the Compose file against their published schemas, offline.

Built-in kinds: the Kubernetes OpenAPI schemas `kubernetes-validate` ships, strict (an unknown field is an error),
for KUBERNETES_VERSION. Strimzi and CloudNativePG resources: the openAPIV3Schema of their released CRDs, vendored in
deploy/kubernetes/schemas/ (README.md there says where from), made strict the way the API server's pruning would
make an unknown field disappear: every object that lists its properties and does not preserve unknown fields
refuses others. CEL rules (`x-kubernetes-validations`) are not evaluated.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "deploy" / "kubernetes" / "schemas"
KUBERNETES_VERSION = "1.34"  # a release kubernetes-validate ships; the oldest the manifests are meant for


class ManifestError(ValueError):
    """A manifest that its schema refuses (the message names the resource and the place in it)."""


@cache
def custom_resource_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """The vendored CRD schemas, made strict, by (apiVersion, kind)."""
    schemas = {}
    for path in sorted(SCHEMAS.glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if "openAPIV3Schema" in document:
            schemas[document["apiVersion"], document["kind"]] = strict_schema(document["openAPIV3Schema"])
    return schemas


def strict_schema(node: Any) -> Any:
    """An OpenAPI v3 structural schema as JSON Schema: int-or-string and nullable spelled out, unknown fields
    refused where the schema lists the fields."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {key: strict_schema(value) for key, value in node.items() if not key.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.pop("nullable", False) and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    return schema


def validate_manifest(manifest: dict[str, Any]) -> None:
    """ManifestError unless `manifest` is valid for its kind and apiVersion."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    name = f"{kind} {manifest.get('metadata', {}).get('name')}"
    custom = custom_resource_schemas()
    if any(kind == known_kind for _, known_kind in custom):
        schema = custom.get((str(api_version), str(kind)))
        if schema is None:
            raise ManifestError(f"{name}: {api_version} is not a served version of the vendored {kind} CRD")
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
        if errors:
            raise ManifestError(f"{name}: at /{'/'.join(map(str, errors[0].absolute_path))}: {errors[0].message}")
        return
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise ManifestError(f"{name}: {exc}") from None
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise ManifestError(f"{name}: no schema ({exc})") from None


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON schema (vendored)."""
    loaded: dict[str, Any] = json.loads((SCHEMAS / "compose-spec" / "compose-spec.json").read_text(encoding="utf-8"))
    return loaded


def compose_errors(document: Any) -> list[str]:
    """What the Compose specification refuses in `document`, one line per problem naming where."""
    validator = jsonschema.Draft7Validator(compose_schema())
    return [
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
