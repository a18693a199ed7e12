"""GET /v1/ig/retention: an IG lead sees how long each field of each dataset is kept (the protocols it is party
to); anyone else is refused, and the refusal is in the access log.

Expectations are written from the packaged YAML: police-records-to-csp keeps 24 months, repeat-victimisation-counts
13; the latter alone grants victim_pseudonym and hour; eastbourne-council is party to it but not to the former.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hub import HubEnv

pytestmark = pytest.mark.integration

ON = "2026-12-02"
SHORT = "repeat-victimisation-counts@1#police-repeat-victim-counts"
LONG = "police-records-to-csp@1#ward-day-records"


def _table(rows: list[dict[str, Any]], dataset: str) -> dict[str, dict[str, Any]]:
    return {row["field"]: row for row in rows if row["dataset"] == dataset}


def test_an_ig_lead_gets_the_retention_of_each_field(hub_env: HubEnv) -> None:
    response = hub_env.api_client("eastbourne-csp", "ig_lead").get("/v1/ig/retention", params={"on": ON})
    assert response.status_code == 200, response.text
    police = _table(response.json(), "police-records")
    for name in ("victim_pseudonym", "hour"):
        assert police[name] | {"released_by": None} == {
            "dataset": "police-records",
            "field": name,
            "retention": "13 months",
            "months": 13,
            "days": None,
            "keep_until": "2028-01-02",
            "clauses": [SHORT],
            "released_by": None,
        }
    assert (police["offence_code"]["retention"], police["offence_code"]["clauses"]) == ("24 months", [LONG])
    assert police["domestic_abuse"]["released_by"] == [LONG, SHORT]
    assert "mo_summary" not in police and "location:point" not in police


def test_an_ig_lead_sees_only_the_protocols_its_organisation_is_party_to(hub_env: HubEnv) -> None:
    rows = hub_env.api_client("eastbourne-council", "ig_lead").get("/v1/ig/retention", params={"on": ON}).json()
    police = _table(rows, "police-records")
    assert police["victim_pseudonym"]["clauses"] == [SHORT]
    assert "offence_code" not in police  # granted only under police-records-to-csp, which the council is not party to
    assert all(LONG not in row["released_by"] for row in rows)
    assert hub_env.api_client("not-a-party", "ig_lead").get("/v1/ig/retention", params={"on": ON}).json() == []


def _logged(hub_env: HubEnv, endpoint: str) -> list[tuple[Any, ...]]:
    return hub_env.query(
        "SELECT org, role, status, protocols, rows FROM access_log WHERE endpoint = :e ORDER BY id", e=endpoint
    )


def test_others_are_refused_and_the_refusal_is_logged(hub_env: HubEnv) -> None:
    before = len(_logged(hub_env, "/v1/ig/retention"))
    assert hub_env.api_client("eastbourne-csp", "analyst").get("/v1/ig/retention").status_code == 403
    assert hub_env.client().get("/v1/ig/retention").status_code == 403
    assert _logged(hub_env, "/v1/ig/retention")[before:] == [
        ("eastbourne-csp", "analyst", 403, [], 0),
        ("public", "public", 403, [], 0),
    ]
    # The other IG views log their refusals the same way.
    assert hub_env.api_client("eastbourne-csp", "analyst").get("/v1/ig/flows").status_code == 403
    assert _logged(hub_env, "/v1/ig/flows")[-1][:3] == ("eastbourne-csp", "analyst", 403)


def test_an_answer_is_logged_once_with_its_protocols_and_rows(hub_env: HubEnv) -> None:
    before = len(_logged(hub_env, "/v1/ig/retention"))
    rows = hub_env.api_client("east-sussex-csp", "ig_lead").get("/v1/ig/retention", params={"on": ON}).json()
    [(org, role, status, protocols, count)] = _logged(hub_env, "/v1/ig/retention")[before:]
    assert (org, role, status, count) == ("east-sussex-csp", "ig_lead", 200, len(rows))
    assert {"police-records-to-csp@1", "repeat-victimisation-counts@1"} <= set(protocols)
