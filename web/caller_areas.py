"""What a signed-in caller's pages offer them to choose from: the CSPs their organisation serves and the datasets
their protocols let them count, by the API's own services for /v1/areas and /v1/datasets (choices only; every
figure comes from the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.caller import Caller
from api.services.areas import codes_within, declared_areas
from api.services.datasets import countable_datasets
from geography.settings import GeocoderSettings
from sharing_protocols.decision import ProtocolRegister
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import area_names
from warehouse.reference.indicator_store import read_indicators


@dataclass(frozen=True)
class Choice:
    """One option of a page's form: the value sent and the text shown."""

    value: str
    label: str


def caller_csps(
    session: Session, geography: GeocoderSettings, register: ProtocolRegister, caller: Caller
) -> list[Choice]:
    """The CSPs whose wards lie in the areas the caller's organisation serves, as its protocols in force today
    declare them (a recipient's `area`; the same areas GET /v1/areas?level=csp answers), by code."""
    codes = codes_within(session, geography, declared_areas(register, caller.org), Level.csp)
    names = area_names(session, Level.csp, codes)
    return [Choice(code, code if names[code] == code else f"{names[code]} ({code})") for code in codes]


def caller_datasets(register: ProtocolRegister, caller: Caller) -> list[str]:
    """The datasets the caller's organisation's clauses in force today let it count at some level, sorted (those
    GET /v1/datasets lists)."""
    return countable_datasets(register, caller.org, datetime.now(UTC).date())


def scorecard_datasets(session: Session) -> set[str]:
    """The datasets the registered CSP-level indicators count (what a performance pack shows first)."""
    return {entry.indicator.dataset for entry in read_indicators(session) if entry.indicator.level == "csp"}
