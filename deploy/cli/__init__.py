"""The `hub` command: local infrastructure, warehouse, publishing, the loader, the API and the demo.

One module per subject; each reads its settings through deploy.settings and hands them to the packages.
"""

from __future__ import annotations

import typer

from deploy.cli import (
    api,
    db,
    demo,
    dq,
    generate,
    geo,
    indicators,
    infra,
    keys,
    partners,
    population,
    protocols,
    publish,
    replay,
    retention,
    schema,
    worker,
)

app = typer.Typer(help="CSP information-sharing hub.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(db.db, name="db")
app.add_typer(geo.geo, name="geo")
app.add_typer(keys.keys, name="keys")
app.add_typer(partners.partners, name="partners")
app.add_typer(retention.retention, name="retention")
app.add_typer(protocols.protocols, name="protocols")
app.add_typer(indicators.indicators, name="indicators")
app.add_typer(population.population, name="population")
app.command(name="publish")(publish.publish)
app.command(name="linkage-key")(publish.linkage_key)
app.command(name="generate")(generate.generate)
app.command(name="worker")(worker.worker)
app.command(name="replay")(replay.replay_command)
app.command(name="api")(api.api)
app.command(name="demo")(demo.demo)
app.command(name="dq")(dq.dq)
app.command(name="schema")(schema.schema)
app.command(name="asyncapi")(schema.asyncapi)
app.command(name="up")(infra.up)
app.command(name="down")(infra.down)
app.command(name="status")(infra.status)
