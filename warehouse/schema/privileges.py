"""What the warehouse's run-time roles may do; the owner (migrations, operator tools) does everything else.

The worker (the loader) writes events, decisions, dead letters and retractions, keeps each feed's first id scheme,
and reads what its sink and geocoder need. The API reads what its queries read, appends to the access log and the
release record, records when a key was last used, and starts, touches and ends web sessions; it changes nothing
else. Neither may update or delete the audit trail (decision, access_log, retention_run, retired_event, dead_letter,
retraction, released_figure, released_digest, released_again, replay_run: their triggers refuse it even to the
owner; a replay run is only finished, once).

`grant_statements` renders the grants (docs/database.md lists them); `grant_runtime_roles`, run as the owner
after every migration, first revokes whatever the two roles held on the schema's relations, so that what they
hold afterwards is exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg

from warehouse.schema.db import libpq_url


@dataclass(frozen=True)
class RolePrivileges:
    """One run-time role's privileges: per table (a column list narrows one, e.g. "UPDATE (last_used_at)"),
    the sequences behind the ids of the tables it inserts into, the functions it calls, and whether it may create
    temporary tables."""

    tables: Mapping[str, tuple[str, ...]]
    sequences: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    temporary: bool = False


_READ = ("SELECT",)
_READ_REFERENCE = {"area": _READ, "area_lookup": _READ, "postcode": _READ}  # the geocoder's boundaries and postcodes

WORKER = RolePrivileges(
    tables={
        # warehouse.sink: the upsert (reading the stored row), a version whose month moved, withdrawn events;
        # `LIKE event` for its staging table; the retraction's "was an event removed".
        "event": ("SELECT", "INSERT", "UPDATE", "DELETE"),
        "retired_event": _READ,  # never reload an event retention deleted
        # Appended once each (ON CONFLICT DO NOTHING, which reads the columns of its conflict target); the sink
        # also reads who first published an event id (its dataset and partner) to refuse another's claim on it,
        # and the months its decisions name (where its stored version can be).
        "decision": (
            "INSERT",
            "SELECT (id, event_id, dataset, partner, period_month, content_hash, outcome, protocols, replay_id)",
        ),
        "dead_letter": ("INSERT", "SELECT (source_topic, source_partition, source_offset)"),
        "retraction": ("INSERT", "SELECT (source_topic, source_partition, source_offset)"),
        # each feed's first id scheme: kept once (ON CONFLICT DO NOTHING) and read back; never changed
        "feed_id_scheme": ("INSERT", "SELECT"),
        **_READ_REFERENCE,
    },
    sequences=("decision_id_seq", "dead_letter_id_seq", "retraction_id_seq"),
    functions=("hub_event_partition(date)",),  # SECURITY DEFINER (migration 0013): makes a month's partition
    temporary=True,  # the sink's staging table
)

API = RolePrivileges(
    tables={
        "event": _READ,
        "event_count": _READ,
        "event_count_district": _READ,
        "event_count_ward_total": _READ,
        "event_clause_set": _READ,  # a dataset's clause sets, for the disclosure rule (kept by the count triggers)
        "population": _READ,
        "indicator": _READ,
        "decision": _READ,  # IG flows and withheld events, data quality
        # data quality as of now (kept by the trigger on decision, migration 0017)
        "feed_total": _READ,
        "feed_field": _READ,
        "feed_fingerprint": _READ,
        "feed_lateness": _READ,
        "dead_letter": _READ,  # data quality
        "retraction": _READ,  # data quality, IG retractions
        "retention_run": _READ,  # IG: what retention removed
        "replay_run": _READ,  # IG: why and when `hub replay` re-derived the warehouse (the owner records it)
        "access_log": ("SELECT", "INSERT"),  # IG reads it; every request appends one record
        "released_figure": ("SELECT", "INSERT"),  # the release record: appended with the access record, read back
        "known_figure": _READ,  # the differencing guard's history (kept by the trigger on released_figure, 0025)
        # a repeated answer (0028): its digest kept with its first figures, then one row per repeat; the IG view
        "released_digest": ("SELECT", "INSERT"),
        "released_again": ("SELECT", "INSERT"),
        "release_record": _READ,
        "api_key": ("SELECT", "UPDATE (last_used_at)"),  # verify a key, and record its use
        # web sign-in (issue 15): start a session, look it up, record its use and its end
        "web_session": ("SELECT", "INSERT", "UPDATE (last_seen_at, ended_at)"),
        **_READ_REFERENCE,
    },
    sequences=("access_log_id_seq", "released_figure_id_seq"),
)

# Tables only the owner touches (operator tools and the event_count triggers); named so that a new table needs a
# decision here (a unit test checks every table is in one of the three).
OWNER_ONLY = ("alembic_version", "feed_event", "geography_vintage", "indicator_target")
# Views, which the models do not hold: one reads what its tables hold with its owner's privileges.
VIEWS = ("release_record",)


def quote_ident(name: str) -> str:
    """A role or database name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _role_statements(role: str, privileges: RolePrivileges) -> list[str]:
    who = quote_ident(role)
    tables = privileges.tables.items()
    statements = [f"GRANT {', '.join(granted)} ON TABLE {table} TO {who}" for table, granted in tables]
    statements += [f"GRANT USAGE ON SEQUENCE {sequence} TO {who}" for sequence in privileges.sequences]
    statements += [f"GRANT EXECUTE ON FUNCTION {function} TO {who}" for function in privileges.functions]
    return statements


def grant_statements(database: str, worker: str, api: str) -> list[str]:
    """The statements that give `worker` and `api` their privileges in `database` (schema public)."""
    db, roles = quote_ident(database), f"{quote_ident(worker)}, {quote_ident(api)}"
    statements = [
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {roles}",
        *(
            f"GRANT TEMPORARY ON DATABASE {db} TO {quote_ident(role)}"
            for role, privileges in ((worker, WORKER), (api, API))
            if privileges.temporary
        ),
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {roles}",
        *(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC" for function in (*WORKER.functions, *API.functions)),
    ]
    return statements + _role_statements(worker, WORKER) + _role_statements(api, API)


# Every relation of schema public the connected role owns (or is a member of the owner of): what it may revoke on.
_OWNED = """
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
AND pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY 1
"""


def grant_runtime_roles(url: str, worker: str, api: str) -> None:
    """Give `worker` and `api` exactly their privileges in the database at `url`, connected as its owner.

    In one transaction: revoke what the two roles held on the owner's relations and functions, then grant.
    Refuses to make the connected role itself a run-time role (that would revoke the owner's own privileges).
    """
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT current_user, current_database()").fetchone()
        assert row is not None
        owner, database = str(row[0]), str(row[1])
        if owner in (worker, api):
            raise ValueError(f"the run-time roles must not be the owner {owner!r} that grants them their privileges")
        roles = f"{quote_ident(worker)}, {quote_ident(api)}"
        owned = [str(r[0]) for r in conn.execute(_OWNED).fetchall()]
        if owned:
            conn.execute(f"REVOKE ALL ON TABLE {', '.join(owned)} FROM {roles}")
        for function in (*WORKER.functions, *API.functions):
            conn.execute(f"REVOKE ALL ON FUNCTION {function} FROM {roles}")
        for statement in grant_statements(database, worker, api):
            conn.execute(statement)
