"""Rendering a kustomization in Python, for the tests that check deploy/kubernetes/ without a kustomize binary.

Handles what the hub's kustomizations use, nothing more: `resources` (files, or directories with a
kustomization.yaml), `patches` whose file is a JSON 6902 list (with a `target`) or a merge patch (its target
named by the patch's own kind and name, or by `target`), and `images`. A merge patch merges mappings key by key
and replaces lists whole, as kustomize does for custom resources; for built-in kinds kustomize merges some lists
by key, so the hub's patches of built-in kinds set no list. tests/unit/deploy/test_kubernetes_manifests.py
compares this rendering with `kubectl kustomize` wherever kubectl is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]


class KustomizeError(ValueError):
    """A kustomization this renderer cannot resolve (the message names the file and what is wrong)."""


def load_documents(path: Path) -> list[Manifest]:
    """The YAML documents of `path` that are not empty."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def render(directory: Path) -> list[Manifest]:
    """The resources the kustomization in `directory` produces, in kustomize's resource order."""
    kustomization_file = directory / "kustomization.yaml"
    if not kustomization_file.is_file():
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    [spec] = load_documents(kustomization_file)
    unknown = set(spec) - {"apiVersion", "kind", "resources", "patches", "images"}
    if unknown:
        raise KustomizeError(f"{kustomization_file}: fields this renderer does not handle: {sorted(unknown)}")
    resources: list[Manifest] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        resources.extend(render(path) if path.is_dir() else load_documents(path))
    for patch in spec.get("patches", []):
        _apply_patch(resources, directory / patch["path"], patch.get("target"), kustomization_file)
    for image in spec.get("images", []):
        _set_image(resources, image)
    return resources


def _matches(resource: Manifest, target: dict[str, str]) -> bool:
    group, _, version = resource["apiVersion"].rpartition("/")
    metadata = resource.get("metadata", {})
    labels = metadata.get("labels", {})
    selector = dict(item.split("=", 1) for item in target.get("labelSelector", "").split(",") if item)
    return (
        target.get("group", group) == group
        and target.get("version", version) == version
        and target.get("kind", resource["kind"]) == resource["kind"]
        and target.get("name", metadata.get("name")) == metadata.get("name")
        and target.get("namespace", metadata.get("namespace")) == metadata.get("namespace")
        and all(labels.get(key) == value for key, value in selector.items())
    )


def _apply_patch(resources: list[Manifest], path: Path, target: dict[str, str] | None, source: Path) -> None:
    [body] = load_documents(path)
    if isinstance(body, list):  # JSON 6902
        if target is None:
            raise KustomizeError(f"{source}: the JSON 6902 patch {path.name} needs a target")
        matched = [resource for resource in resources if _matches(resource, target)]
        for resource in matched:
            for operation in body:
                _json6902(resource, operation, path)
    else:
        target = target or {
            "kind": body["kind"],
            "name": body["metadata"]["name"],
            **({"namespace": body["metadata"]["namespace"]} if "namespace" in body["metadata"] else {}),
        }
        matched = [resource for resource in resources if _matches(resource, target)]
        for resource in matched:
            merged = merge(resource, body)
            resource.clear()
            resource.update(merged)
    if not matched:
        raise KustomizeError(f"{source}: the patch {path.name} matches no resource")


def merge(base: Any, patch: Any) -> Any:
    """`patch` merged into `base`: mappings key by key (null deletes a key), anything else replaced."""
    if not (isinstance(base, dict) and isinstance(patch, dict)):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(merged.get(key), value)
    return merged


def _json6902(resource: Manifest, operation: dict[str, Any], path: Path) -> None:
    op, pointer = operation["op"], operation["path"]
    keys = [key.replace("~1", "/").replace("~0", "~") for key in pointer.lstrip("/").split("/")]
    parent: Any = resource
    for key in keys[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    last = keys[-1]
    if op in ("replace", "add") and isinstance(parent, dict):
        if op == "replace" and last not in parent:
            raise KustomizeError(f"{path.name}: {pointer} is not in {resource['kind']} {resource['metadata']['name']}")
        parent[last] = copy.deepcopy(operation["value"])
    elif op == "remove" and isinstance(parent, dict):
        del parent[last]
    else:
        raise KustomizeError(f"{path.name}: operation {op} on {pointer} is not handled here")


def _set_image(resources: list[Manifest], image: dict[str, str]) -> None:
    for resource in resources:
        pod = resource.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                new_name = image.get("newName", name)
                new_tag = image.get("newTag", tag)
                container["image"] = f"{new_name}@{image['digest']}" if "digest" in image else f"{new_name}:{new_tag}"


def pod_specs(resources: list[Manifest]) -> dict[str, Manifest]:
    """The pod spec of every workload (Deployment, Job), by `<kind>/<name>`."""
    return {
        f"{resource['kind']}/{resource['metadata']['name']}": resource["spec"]["template"]["spec"]
        for resource in resources
        if resource["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet")
    }
