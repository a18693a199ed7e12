"""deploy/kubernetes/: every manifest valid against its schema, broken ones refused, and what they name (topics,
principals and their ACLs, settings, roles, Secrets) the same as the code says.

Rendered by tests/support/kustomize.py (compared with `kubectl kustomize` where kubectl is installed); built-in kinds
checked by kubernetes-validate, Strimzi and CloudNativePG resources by their released CRDs' schemas
(tests/support/manifest_schemas.py). No cluster is needed.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import typer
import yaml
from psycopg.conninfo import conninfo_to_dict
from pydantic_settings import BaseSettings

from deploy import settings as deploy_settings
from deploy.broker_principals import leader_topic, partner_acls, worker_acls, worker_principal
from deploy.cli import app as hub_cli
from deploy.protocol_files import configured_register
from deploy.topics import protocol_topics
from producers.anonymisation.linkage_keys import ENV_PREFIX as LINKAGE_KEY_PREFIX
from sharing_protocols.topics import dead_letter_topic, partner_principal, topic_source
from tests.support.kustomize import KustomizeError, Manifest, pod_specs, render
from tests.support.manifest_schemas import REPO, ManifestError, validate_manifest
from warehouse.schema.db import libpq_url

KUBERNETES = REPO / "deploy" / "kubernetes"
KUSTOMIZATIONS = {"base": KUBERNETES / "base", "england-and-wales": KUBERNETES / "overlays" / "england-and-wales"}
# Secrets the operators' tools make, by name: the keys the manifests may read from them (docs/deploy.md).
OPERATOR_SECRETS = {"hub-db-owner": {"password"}, "hub-db-worker": {"password"}, "hub-db-api": {"password"}}
DATABASE_ROLE_SECRETS = {"hub_owner": "hub-db-owner", "hub_worker": "hub-db-worker", "hub_api": "hub-db-api"}


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    return render(KUSTOMIZATIONS[request.param])


def only(resources: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    [found] = [r for r in resources if r["kind"] == kind and name in (None, r["metadata"]["name"])]
    return found


def of_kind(resources: list[Manifest], kind: str) -> list[Manifest]:
    return [r for r in resources if r["kind"] == kind]


def settings_of(resources: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = only(resources, "ConfigMap", "hub-settings")["data"]
    return data


def base() -> list[Manifest]:
    return render(KUSTOMIZATIONS["base"])


# --- rendering and schemas --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("name", sorted(KUSTOMIZATIONS))
def test_the_renderer_agrees_with_kubectl_kustomize(name: str) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZATIONS[name])], check=True, capture_output=True, text=True
    ).stdout
    by_kubectl = sorted(json.dumps(doc, sort_keys=True) for doc in yaml.safe_load_all(out) if doc is not None)
    by_python = sorted(json.dumps(doc, sort_keys=True) for doc in render(KUSTOMIZATIONS[name]))
    assert by_python == by_kubectl


def test_every_manifest_matches_its_schema(rendered: list[Manifest]) -> None:
    assert len(rendered) > 30
    for manifest in rendered:
        validate_manifest(manifest)


def test_every_name_is_a_kubernetes_name(rendered: list[Manifest]) -> None:
    subdomain = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
    for manifest in rendered:
        name = manifest["metadata"]["name"]
        assert subdomain.fullmatch(name) and len(name) <= 253, f"{manifest['kind']} {name}"
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == "csp-hub", f"{manifest['kind']} {name}"


def _set(path: str, value: Any) -> Callable[[Manifest], None]:
    def mutate(manifest: Manifest) -> None:
        *parents, last = path.split("/")
        node: Any = manifest
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return mutate


BROKEN: list[tuple[str, str, Callable[[Manifest], None], str]] = [
    ("Kafka", "hub", _set("spec/kafka/listners", []), "listners"),
    ("Kafka", "hub", _set("spec/kafka/listeners/0/type", "bogus"), "bogus"),
    ("Kafka", "hub", _set("apiVersion", "kafka.strimzi.io/v1beta2"), "not a served version"),
    ("KafkaNodePool", "kraft", _set("spec/roles", ["leader"]), "leader"),
    ("KafkaTopic", "hub.dead-letter", _set("spec/partitions", "three"), "integer"),
    ("KafkaUser", "hub.worker", _set("spec/authorization/acls/0/resource/patternType", "PREFIXED"), "PREFIXED"),
    ("KafkaUser", "hub.worker", _set("spec/authorization/acls/0/operations", ["Reed"]), "Reed"),
    ("Cluster", "hub-warehouse", _set("spec/instance", 2), "instance"),
    ("Cluster", "hub-warehouse", _set("spec/managed/roles/0/passwordSecret/key", "password"), "key"),
    ("Deployment", "hub-worker", _set("spec/template/spec/containers/0/envFrm", []), "envFrm"),
    ("Deployment", "hub-worker", _set("spec/replicas", "3"), "integer"),
    ("Deployment", "hub-api", _set("spec/template/spec/containers/0/ports/0/containerPort", "http"), "integer"),
    ("HorizontalPodAutoscaler", "hub-api", _set("spec/maxReplicas", None), "None"),
    ("Job", "hub-db-upgrade", _set("spec/template/spec/restartPolicy", ["Never"]), "string"),
    ("NetworkPolicy", "default-deny", _set("spec/policyType", ["Ingress"]), "policyType"),
    ("ConfigMap", "hub-settings", _set("data/HUB_KAFKA_PARTITIONS", 3), "string"),
    ("Service", "hub-api", _set("apiVersion", "v2"), "schema"),
]


@pytest.mark.parametrize(("kind", "name", "mutate", "named"), BROKEN, ids=[f"{k}-{w}" for k, _, _, w in BROKEN])
def test_a_broken_manifest_is_refused_naming_the_fault(
    kind: str, name: str, mutate: Callable[[Manifest], None], named: str
) -> None:
    manifest = copy.deepcopy(only(base(), kind, name))
    validate_manifest(manifest)
    mutate(manifest)
    with pytest.raises(ManifestError, match=named) as refused:
        validate_manifest(manifest)
    assert f"{kind} {name}" in str(refused.value)


# --- Kafka: topics, principals, ACLs ----------------------------------------------------------------------------


def test_the_topics_are_the_hubs(rendered: list[Manifest]) -> None:
    config = settings_of(rendered)
    prefix, partitions = config["HUB_KAFKA_TOPIC_PREFIX"], int(config["HUB_KAFKA_PARTITIONS"])
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in of_kind(rendered, "KafkaTopic")}
    partner = protocol_topics(prefix, configured_register())
    assert set(topics) == {*partner, dead_letter_topic(prefix), leader_topic(prefix)}
    retention = deploy_settings.KafkaSettings(retention_days=int(config["HUB_KAFKA_RETENTION_DAYS"])).topic_configs
    for name in partner:
        assert topics[name]["spec"]["partitions"] == partitions, name
        assert topics[name]["metadata"]["labels"]["csp-hub/topic-kind"] == "partner"
    for name in [*partner, dead_letter_topic(prefix)]:
        assert {k: str(v) for k, v in topics[name]["spec"]["config"].items() if k == "retention.ms"} == retention
    assert topics[leader_topic(prefix)]["spec"]["partitions"] == 1  # faust elects the group's leader on partition 0
    for topic in topics.values():
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == only(rendered, "Kafka")["metadata"]["name"]


def test_the_cluster_is_three_kraft_nodes_with_tls_and_scram_on_every_listener(rendered: list[Manifest]) -> None:
    kafka, pool = only(rendered, "Kafka"), only(rendered, "KafkaNodePool")
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["tls"] is True, listener["name"]
        assert listener["authentication"]["type"] == "scram-sha-512", listener["name"]
    assert settings_of(rendered)["HUB_KAFKA_MECHANISM"] == "SCRAM-SHA-512"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    config = kafka["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    bootstrap = settings_of(rendered)["HUB_KAFKA_BOOTSTRAP"]
    internal = next(listener for listener in kafka["spec"]["kafka"]["listeners"] if listener["type"] == "internal")
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:{internal['port']}"


def _acl_tuples(user: Manifest) -> set[tuple[str, str, str, str, str]]:
    principal = f"User:{user['metadata']['name']}"
    return {
        (principal, op.upper(), acl["resource"]["type"].upper(), acl["resource"]["name"],
         {"literal": "LITERAL", "prefix": "PREFIXED"}[acl["resource"]["patternType"]])
        for acl in user["spec"]["authorization"]["acls"]
        for op in acl["operations"]
        if acl.get("type", "allow") == "allow" and acl["host"] == "*"
    }  # fmt: skip


def _code_tuples(acls: list[Any]) -> set[tuple[str, str, str, str, str]]:
    return {
        (acl.principal, acl.operation.name, acl.resource_pattern.resource_type.name,
         acl.resource_pattern.resource_name, acl.resource_pattern.pattern_type.name)
        for acl in acls
    }  # fmt: skip


def test_the_principals_have_exactly_the_acls_the_hub_grants(rendered: list[Manifest]) -> None:
    prefix = settings_of(rendered)["HUB_KAFKA_TOPIC_PREFIX"]
    users = {u["metadata"]["name"]: u for u in of_kind(rendered, "KafkaUser")}
    owners: dict[str, list[str]] = {}
    for topic in protocol_topics(prefix, configured_register()):
        source = topic_source(prefix, topic)
        assert source is not None
        owners.setdefault(source.partner, []).append(topic)
    expected = {worker_principal(prefix): _code_tuples(worker_acls(prefix))} | {
        partner_principal(prefix, partner): _code_tuples(partner_acls(prefix, partner, topics))
        for partner, topics in owners.items()
    }
    assert set(users) == set(expected)  # the API has no principal
    for name, user in users.items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert _acl_tuples(user) == expected[name], name
        assert all(acl.get("type", "allow") == "allow" for acl in user["spec"]["authorization"]["acls"])


def test_a_changed_acl_is_caught() -> None:
    resources = base()
    user = only(resources, "KafkaUser", "hub.worker")
    user["spec"]["authorization"]["acls"][0]["operations"].append("Write")
    with pytest.raises(AssertionError):
        test_the_principals_have_exactly_the_acls_the_hub_grants(resources)


# --- the worker, the API and the migrations ---------------------------------------------------------------------


def test_the_worker_never_outnumbers_the_partitions(rendered: list[Manifest]) -> None:
    worker = only(rendered, "Deployment", "hub-worker")
    assert 1 <= worker["spec"]["replicas"] <= int(settings_of(rendered)["HUB_KAFKA_PARTITIONS"])
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["worker"]
    env = {e["name"]: e for e in container["env"]}
    prefix = settings_of(rendered)["HUB_KAFKA_TOPIC_PREFIX"]
    assert env["HUB_KAFKA_USERNAME"]["value"] == worker_principal(prefix)
    password = env["HUB_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": worker_principal(prefix), "key": "password"}
    # A static member of its group by its pod's name, which a container restarted in place keeps; its session
    # outlasts such a restart (a worker starts in well under 30 s).
    assert env["HUB_WORKER_INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert 30 <= float(settings_of(rendered)["HUB_WORKER_SESSION_TIMEOUT_SECONDS"]) <= 90
    port = int(settings_of(rendered)["HUB_WORKER_METRICS_PORT"])
    assert settings_of(rendered)["HUB_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"] == [port]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_api_scales_behind_a_service_and_has_no_broker_credential(rendered: list[Manifest]) -> None:
    api = only(rendered, "Deployment", "hub-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    [container] = api["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["api"]
    assert not {e["name"] for e in container["env"]} & {"HUB_KAFKA_USERNAME", "HUB_KAFKA_PASSWORD"}
    assert "replicas" not in api["spec"]  # the autoscaler's
    hpa = only(rendered, "HorizontalPodAutoscaler", "hub-api")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hub-api"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    service, pdb = only(rendered, "Service", "hub-api"), only(rendered, "PodDisruptionBudget", "hub-api")
    assert service["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    port = int(settings_of(rendered)["HUB_API_PORT"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert settings_of(rendered)["HUB_API_HOST"] == "0.0.0.0"
    assert (container["livenessProbe"]["httpGet"]["path"], container["readinessProbe"]["httpGet"]["path"]) == (
        "/healthz",
        "/readyz",
    )


def test_the_commands_the_pods_run_are_hub_commands(rendered: list[Manifest]) -> None:
    cli: Any = typer.main.get_command(hub_cli)  # a click group (typer's own click)
    for name, pod in pod_specs(rendered).items():
        for container in pod["containers"]:
            command = cli
            for word in container["args"]:
                assert hasattr(command, "get_command"), f"{name}: `hub {' '.join(container['args'])}` is no command"
                command = command.get_command(command.context_class(command), word)
                assert command is not None, f"{name}: `hub {' '.join(container['args'])}` is no command"
            assert not hasattr(command, "get_command"), f"{name}: `hub {' '.join(container['args'])}` is a group"
    job = only(rendered, "Job", "hub-db-upgrade")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]


def _known_settings() -> tuple[set[str], tuple[str, ...]]:
    """Every HUB_* name deploy/settings.py reads, and the prefixes it reads by (linkage keys)."""
    names = set()
    for value in vars(deploy_settings).values():
        if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings:
            prefix = value.model_config.get("env_prefix", "")
            names |= {f"{prefix}{field}".upper() for field in value.model_fields}
    return names, (LINKAGE_KEY_PREFIX,)


def test_every_setting_named_is_one_the_hub_reads(rendered: list[Manifest]) -> None:
    known, prefixes = _known_settings()
    named = set(settings_of(rendered))
    for pod in pod_specs(rendered).values():
        for container in pod["containers"]:
            named |= {e["name"] for e in container.get("env", []) if e["name"].startswith("HUB_")}
    unknown = {name for name in named if name not in known and not name.startswith(prefixes)}
    assert not unknown, f"not settings of deploy/settings.py: {sorted(unknown)}"


# --- the warehouse, Secrets and TLS ------------------------------------------------------------------------------


def test_the_warehouse_is_a_postgis_primary_and_replica_with_the_hubs_roles(rendered: list[Manifest]) -> None:
    cluster = only(rendered, "Cluster", "hub-warehouse")
    spec = cluster["spec"]
    assert spec["instances"] >= 2 and "postgis" in spec["imageName"]
    assert spec["enableSuperuserAccess"] is False
    assert "CREATE EXTENSION IF NOT EXISTS postgis" in spec["bootstrap"]["initdb"]["postInitApplicationSQL"]
    config = settings_of(rendered)
    database = deploy_settings.DatabaseSettings(
        url=config["HUB_DATABASE_URL"],
        worker_url=config["HUB_DATABASE_WORKER_URL"],
        api_url=config["HUB_DATABASE_API_URL"],
    )
    roles = database.runtime_roles()  # what `hub db upgrade` grants
    assert roles is not None
    owner = urlsplit(database.role_url("owner")).username
    assert owner is not None
    assert spec["bootstrap"]["initdb"]["owner"] == owner
    assert spec["bootstrap"]["initdb"]["secret"]["name"] == DATABASE_ROLE_SECRETS[owner]
    managed = {role["name"]: role for role in spec["managed"]["roles"]}
    assert set(managed) == set(roles)
    for name, role in managed.items():
        assert role["passwordSecret"]["name"] == DATABASE_ROLE_SECRETS[name]
        assert role["login"] is True
        assert not (role["superuser"] or role["createdb"] or role["createrole"] or role["replication"])
    assert {"hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"} <= set(spec["postgresql"]["pg_hba"])


def test_the_urls_carry_no_password_and_verify_the_server(rendered: list[Manifest]) -> None:
    config = settings_of(rendered)
    cluster = only(rendered, "Cluster", "hub-warehouse")["metadata"]["name"]
    for variable in ("HUB_DATABASE_URL", "HUB_DATABASE_WORKER_URL", "HUB_DATABASE_API_URL"):
        url = config[variable]
        conninfo = conninfo_to_dict(libpq_url(url))
        assert "password" not in conninfo and urlsplit(url).password is None, variable
        assert conninfo["sslmode"] == "verify-full", variable
        assert conninfo["host"] == f"{cluster}-rw", variable  # the primary: the API writes its access log
        assert parse_qs(urlsplit(url).query)["sslrootcert"] == ["/etc/hub/warehouse-ca/ca.crt"]
    assert not any("password" in key.lower() for key in config)


def _mounted_files(pod: Manifest, container: Manifest) -> dict[str, tuple[str, str]]:
    """Files of Secret volumes the container mounts: path -> (Secret, key)."""
    secrets = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
    files = {}
    for mount in container.get("volumeMounts", []):
        secret = secrets.get(mount["name"])
        if secret is not None:
            for item in secret["items"]:
                files[f"{mount['mountPath']}/{item['path']}"] = (secret["secretName"], item["key"])
    return files


def test_every_secret_read_is_one_an_operator_makes(rendered: list[Manifest]) -> None:
    kafka = only(rendered, "Kafka")["metadata"]["name"]
    cluster = only(rendered, "Cluster", "hub-warehouse")["metadata"]["name"]
    made = {
        **OPERATOR_SECRETS,
        **{user["metadata"]["name"]: {"password"} for user in of_kind(rendered, "KafkaUser")},  # the User Operator
        f"{kafka}-cluster-ca-cert": {"ca.crt"},  # Strimzi's cluster CA
        f"{cluster}-ca": {"ca.crt"},  # CloudNativePG's server CA
    }
    config = settings_of(rendered)
    for name, pod in pod_specs(rendered).items():
        for container in pod["containers"]:
            for env in container.get("env", []):
                assert "value" not in env or "PASSWORD" not in env["name"], f"{name}: {env['name']} in clear"
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in made.get(ref["name"], set()), f"{name}: {ref}"
            files = _mounted_files(pod, container)
            for secret, key in files.values():
                assert key in made.get(secret, set()), f"{name}: {secret}/{key}"
            if "HUB_KAFKA_PASSWORD" in {e["name"] for e in container.get("env", [])}:
                assert files[config["HUB_KAFKA_CA_FILE"]] == (f"{kafka}-cluster-ca-cert", "ca.crt"), name
            if "PGPASSWORD" in {e["name"] for e in container.get("env", [])}:
                assert files["/etc/hub/warehouse-ca/ca.crt"] == (f"{cluster}-ca", "ca.crt"), name
    deploy_doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    for secret in OPERATOR_SECRETS:
        assert secret in deploy_doc, f"docs/deploy.md does not say how to make {secret}"
    assert not of_kind(rendered, "Secret")  # passwords are never in the repository


def test_each_pod_reads_only_its_own_roles_password(rendered: list[Manifest]) -> None:
    expected = {"Deployment/hub-worker": "hub-db-worker", "Deployment/hub-api": "hub-db-api",
                "Job/hub-db-upgrade": "hub-db-owner"}  # fmt: skip
    for name, pod in pod_specs(rendered).items():
        [container] = pod["containers"]
        refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if e["name"] == "PGPASSWORD"]
        assert refs == [expected[name]], name


# --- Pod Security and the network ----------------------------------------------------------------------------------


def test_every_pod_meets_the_restricted_pod_security_standard(rendered: list[Manifest]) -> None:
    namespace = only(rendered, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    specs = pod_specs(rendered)
    assert set(specs) == {"Deployment/hub-worker", "Deployment/hub-api", "Job/hub-db-upgrade"}
    for name, pod in specs.items():
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), name
        for container in [*pod["containers"], *pod.get("initContainers", [])]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), name
            assert not context.get("privileged"), name
            assert "limits" in container["resources"] and "requests" in container["resources"], name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: faust and Python's tempfile need a writable /tmp"


def test_the_network_is_deny_by_default_and_each_pod_has_its_policy(rendered: list[Manifest]) -> None:
    policies = of_kind(rendered, "NetworkPolicy")
    deny = only(rendered, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for name in pod_specs(rendered):
        workload = next(r for r in rendered if f"{r['kind']}/{r['metadata']['name']}" == name)
        labels = workload["spec"]["template"]["metadata"]["labels"]
        own = [
            p
            for p in policies
            if (p["spec"]["podSelector"].get("matchLabels") or {None: None}).items() <= labels.items()
        ]
        assert own, f"{name} has no policy of its own"
        if name == "Job/hub-db-upgrade":
            assert all("ingress" not in p["spec"] for p in own), "nothing may connect to the migrations"


# --- the renderer refuses what it cannot do rather than skip it ----------------------------------------------------


def _overlay(tmp_path: Path, kustomization: str, patch: str) -> Path:
    (tmp_path / "kustomization.yaml").write_text(kustomization, encoding="utf-8")
    (tmp_path / "patch.yaml").write_text(patch, encoding="utf-8")
    return tmp_path


def test_a_patch_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path,
        f"resources:\n  - {KUSTOMIZATIONS['base']}\npatches:\n  - path: patch.yaml\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hub-wrker\n  namespace: csp-hub\n"
        "spec:\n  replicas: 1\n",
    )
    with pytest.raises(KustomizeError, match="matches no resource"):
        render(overlay)


def test_a_kustomization_field_the_renderer_does_not_know_is_an_error(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, f"resources:\n  - {KUSTOMIZATIONS['base']}\nnamePrefix: x-\n", "")
    with pytest.raises(KustomizeError, match="namePrefix"):
        render(overlay)


def test_an_overlay_patch_reaches_the_rendering(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path,
        f"resources:\n  - {KUSTOMIZATIONS['base']}\npatches:\n  - path: patch.yaml\n"
        "    target:\n      kind: KafkaTopic\n      labelSelector: csp-hub/topic-kind=dead-letter\n",
        "- op: replace\n  path: /spec/partitions\n  value: 7\n",
    )
    topics = {t["metadata"]["name"]: t["spec"]["partitions"] for t in of_kind(render(overlay), "KafkaTopic")}
    assert topics["hub.dead-letter"] == 7
    assert sorted(set(topics.values())) == [1, 3, 7]
