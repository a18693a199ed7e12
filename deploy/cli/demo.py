"""`hub demo`: everything up, the demo feeds published and loaded, and where to look."""

from __future__ import annotations

import secrets
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from functools import partial
from pathlib import Path

import typer
from kafka.errors import KafkaError
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.orm import Session

from broker_access.credentials import BrokerAccess
from deploy import local
from deploy.broker_principals import BrokerAdmin, PrincipalError, add_partner, revoke_partner
from deploy.indicator_files import configured_indicators
from deploy.lag import wait_for_loader
from deploy.local import processes
from deploy.protocol_files import configured_register
from deploy.reference_files import POSTCODES, load_areas_and_lookups
from deploy.settings import (
    BrokerCredentialsError,
    KafkaSettings,
    LocalSettings,
    api_settings,
    broker_access,
    geocoder_settings,
    linkage_key_variables,
    warehouse_settings,
)
from deploy.topics import ensure_topics, protocol_topics
from deploy.warehouse_roles import upgrade_warehouse
from producers.feed_registry import get_feed
from producers.generators.base import GenerateRequest, read_codepoint, write_csv
from producers.generators.registry import all_generators
from producers.publish import publish_file
from producers.publisher import Publisher
from producers.source_options import build_source_options
from sharing_protocols.topics import partner_topic
from warehouse.governance.keys import create_key, verify_key
from warehouse.reference.indicator_store import load_indicators
from warehouse.reference.population import load_population
from warehouse.reference.postcodes import load_postcodes
from warehouse.schema.db import session_scope

DEMO_FEEDS = (
    ("police-uk-street", "feeds/police_uk/2019-01-essex-street.csv"),
    ("police-uk-street", "feeds/police_uk/2019-01-sussex-street.csv"),
    ("police-uk-street", "feeds/police_uk/2019-01-hampshire-street.csv"),
)
# Partner feeds without a real open sample: generated (seeded, real postcodes, synthetic people) for two districts
# over two financial years, so that repeats, cohorts, trends and the scorecard have something to show.
GENERATED_FEEDS = (
    ("police-records", 4000),
    ("council-asb", 1500),
    ("marac-cases", 400),
    ("probation-iom", 600),
    ("fire-incidents", 800),
)
GENERATED_DISTRICTS = ("E07000061", "E07000062")  # Eastbourne, Hastings
GENERATED_START, GENERATED_MONTHS = date(2024, 4, 1), 24
DEMO_ANALYST = ("eastbourne-csp", "analyst")  # a recipient of police-to-csp-analysts
DEMO_IG_LEAD = ("hub", "ig_lead")  # the hub operator's IG lead oversees every protocol
DEMO_PARTNER = (get_feed("police-records").default_partner, "partner")  # the police partner of the demo feeds
# The demo users' keys, by their name in the keys file: (organisation, role).
DEMO_USERS = {
    "HUB_DEMO_ANALYST_KEY": DEMO_ANALYST,
    "HUB_DEMO_IG_LEAD_KEY": DEMO_IG_LEAD,
    "HUB_DEMO_PARTNER_KEY": DEMO_PARTNER,
}


def _start(name: str, *args: str) -> str:
    pidfile = local.run_dir() / f"{name}.pid"
    log_file = LocalSettings().logs.resolve() / f"{name}.log"
    if processes.is_running(pidfile):
        return f"{name}: already running (log {log_file})"
    pid = processes.start_detached([sys.executable, "-m", "deploy.cli", *args], log_file=log_file, pidfile=pidfile)
    return f"{name}: started, pid {pid} (log {log_file})"


def _wait_for_api(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise local.LocalInfraError(f"the API was not ready at {base}/readyz; see {LocalSettings().logs}/api.log")


def _generated_feeds(data: Path) -> list[tuple[str, Path]]:
    """Write the generated partner feeds under the hub's home (the same seed gives the same files)."""
    out = LocalSettings().home.resolve() / "demo-feeds"
    out.mkdir(parents=True, exist_ok=True)
    points = read_codepoint(data / POSTCODES, GENERATED_DISTRICTS)
    generators = all_generators()
    files = []
    for feed, rows in GENERATED_FEEDS:
        request = GenerateRequest(
            rows=rows, seed=2026, postcodes=points, start=GENERATED_START, months=GENERATED_MONTHS
        )
        path = out / f"{feed}.csv"
        write_csv(path, list(generators[feed].rows(request)), generators[feed].columns)
        files.append((feed, path))
    return files


def _demo_linkage_keys() -> dict[str, str]:
    """The demo's linkage and record-id secrets (HUB_LINKAGE_KEY_*), made once and kept under the hub's home."""
    path = LocalSettings().home.resolve() / "demo-linkage.env"
    if not path.exists():
        path.write_text(
            "".join(f"HUB_LINKAGE_KEY_{d}={secrets.token_hex(32)}\n" for d in ("PERSON", "RECORD_IDS")),
            encoding="utf-8",
        )
        path.chmod(0o600)
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {**linkage_key_variables(), **{name: value for name, value in pairs}}


def _save_demo_api_keys(session: Session, keys_file: Path) -> None:
    """Keep the demo users' saved keys while they are all valid; else issue and save new ones (the file 0600)."""
    saved = dict(
        line.split("=", 1) for line in (keys_file.read_text().splitlines() if keys_file.exists() else []) if "=" in line
    )
    if all(verify_key(session, saved.get(name, "")) for name in DEMO_USERS):
        return
    keys = {name: create_key(session, org, role) for name, (org, role) in DEMO_USERS.items()}
    keys_file.touch(mode=0o600)
    keys_file.chmod(0o600)  # before any key is written into it
    keys_file.write_text("".join(f"{name}={key}\n" for name, key in keys.items()))


def demo_users_text(keys_file: Path, show_keys: bool) -> str:
    """Who each demo user is and their sign-in key, read from the 0600 `keys_file`: the keys themselves only when
    `show_keys` (the output is a terminal), else how to read them, so that redirected output (a CI log) holds none."""
    saved = dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)
    lines = [
        f"{role} of {org}: " + (saved.get(name, "(missing: rerun hub demo)") if show_keys else f"${name}")
        for name, (org, role) in DEMO_USERS.items()
    ]
    if not show_keys:
        lines.append(f"(the keys are in {keys_file}: sed -n 's/^HUB_DEMO_ANALYST_KEY=//p' {keys_file})")
    return "\n".join(f"             {line}" for line in lines)


def _demo_partners(kafka: KafkaSettings, datasets: dict[str, set[str]]) -> dict[str, BrokerAccess]:
    """Each demo partner added as `hub partners add` does (a rerun revokes its previous credential first), with
    exactly the datasets it publishes here; how each signs in (its password lives only in this process)."""
    admin_access = broker_access("admin")
    access = {}
    try:
        with BrokerAdmin(admin_access, client_id="hub-demo") as admin:
            for partner, names in sorted(datasets.items()):
                revoke_partner(admin, kafka.topic_prefix, partner)
                grant, password = add_partner(
                    admin, kafka.topic_prefix, partner, names, kafka.partitions, kafka.topic_configs
                )
                access[partner] = admin_access.model_copy(
                    update={"username": grant.username, "password": SecretStr(password)}
                )
    except (KafkaError, PrincipalError) as exc:
        raise local.LocalInfraError(f"kafka: the demo partners could not be added: {exc!r}") from None
    return access


def demo(timeout: float = typer.Option(600, help="seconds to wait for the feeds to load")) -> None:
    """Start Kafka, PostGIS, the worker and the API; publish the demo feeds; wait until they are loaded."""
    try:
        _run_demo(timeout)
    except (local.LocalInfraError, BrokerCredentialsError) as exc:  # say what failed, without a traceback
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _run_demo(timeout: float) -> None:
    data = LocalSettings().shared_data
    kafka = KafkaSettings()
    for line in local.up():
        typer.echo(line)
    url = warehouse_settings().url
    for line in upgrade_warehouse():
        typer.echo(line)
    wards, lsoas = load_areas_and_lookups(data, url, geocoder_settings().lookup_vintage or "lookups-2024")
    typer.echo(f"wards: {wards} loaded")
    typer.echo(f"LSOAs: {lsoas} loaded")
    population = load_population(data, url)
    rows = ", ".join(f"{count} {level}" for level, count in population.rows.items())
    gaps = f"{len(population.unplaced)} areas not placed, {len(population.omitted)} areas without a figure"
    typer.echo(f"population: {rows} rows loaded ({gaps}; `hub population load` lists them)")
    typer.echo(f"postcodes: {load_postcodes(data / POSTCODES, 'codepoint', url).loaded} loaded; lookups loaded")
    with session_scope(url) as session:
        typer.echo(f"indicators: {load_indicators(session, configured_indicators())} loaded")
    register = configured_register()
    files = [(feed, data / relative) for feed, relative in DEMO_FEEDS] + _generated_feeds(data)
    demo_topics = [kafka.partner_topic(feed, get_feed(feed).default_partner) for feed, _ in files]
    ensure_topics(kafka, [*protocol_topics(kafka.topic_prefix, register), *demo_topics])
    typer.echo(_start("worker", "worker"))
    typer.echo(_start("api", "api"))
    settings = api_settings()
    base = f"http://{settings.host}:{settings.port}"
    _wait_for_api(base, 60)
    published = rejected = 0
    keys = _demo_linkage_keys()
    datasets: dict[str, set[str]] = {}
    for feed, _ in files:
        datasets.setdefault(get_feed(feed).default_partner, set()).add(feed)
    partners = _demo_partners(kafka, datasets)
    typer.echo(f"partners: {', '.join(sorted(partners))} added, each allowed to write only its own topics")
    for feed, path in files:
        spec = get_feed(feed)
        partner = spec.default_partner
        topic = partner_topic(kafka.topic_prefix, feed, partner)
        options = build_source_options(spec, partner, register=register, environ=keys)
        with Publisher(partners[partner], client_id=f"hub-demo-{partner}") as publisher:
            summary = publish_file(spec, path, options, partial(publisher.send, topic))
        if publisher.failed:
            raise local.LocalInfraError(
                f"kafka: {len(publisher.failed)} events of {path.name} were not delivered as {partner} "
                f"({sorted(set(publisher.failed))})"
            )
        published += summary.published
        rejected += summary.rejected
        typer.echo(f"published {path.name} as {partner}: {summary.published} events, {summary.rejected} rejected")
    typer.echo("waiting for the worker to load them ...")
    lag = wait_for_loader(kafka, timeout)
    if lag:
        typer.echo(f"the worker is still {lag} events behind after {timeout:.0f}s; see the worker log", err=True)
        raise typer.Exit(1)
    with session_scope(url) as session:
        status: dict[str, int] = dict(
            session.execute(text("SELECT location_status, count(*) FROM event GROUP BY location_status")).all()
        )
        dead = session.execute(text("SELECT count(*) FROM dead_letter")).scalar_one()
        withheld = session.execute(text("SELECT count(*) FROM decision WHERE outcome = 'withheld'")).scalar_one()
        keys_file = LocalSettings().home.resolve() / "demo-keys.env"
        _save_demo_api_keys(session, keys_file)
    typer.echo(f"warehouse: {status}, withheld by protocol {withheld}, dead-lettered {dead}")
    counts = f"{base}/v1/counts?dataset=police-uk-street&level=ward&from=2019-01&to=2019-01&by=category"
    home = LocalSettings().home.resolve()
    trends = f"{base}/v1/trends?dataset=police-records&level=lad&from=2025-04&to=2026-03&period=quarter"
    users = demo_users_text(keys_file, sys.stdout.isatty())
    typer.echo(
        f"""
The hub is up.
  web app:   {base}/web/ (sign in with a demo user's key)
{users}
  API docs:  {base}/docs
  API keys:  {keys_file} (readable only by you)
  counts:    curl -H "Authorization: Bearer $HUB_DEMO_ANALYST_KEY" '{counts}'
  public:    curl '{base}/v1/public/counts?dataset=police-uk-street&level=lsoa&from=2019-01&to=2019-01'
  trends:    curl -H "Authorization: Bearer $HUB_DEMO_ANALYST_KEY" '{trends}'
  scorecard: curl -H "Authorization: Bearer $HUB_DEMO_ANALYST_KEY" '{base}/v1/scorecard?csp=E22000295'
  QGIS:      add an OGC API - Features layer at {base}/ (docs/api.md)
  IG flows:  curl -H "Authorization: Bearer $HUB_DEMO_IG_LEAD_KEY" '{base}/v1/ig/flows'
             (first: set -a; . {keys_file}; set +a)
  logs:      {home}/logs/ (worker.log, api.log), {home}/kafka/logs, {home}/postgres/logs
  stop with: .venv/bin/hub down"""
    )
