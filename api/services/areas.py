"""The areas a caller's organisation serves, as the protocols in force declare it a recipient (`area`): the areas
of a level inside them, with their names, and their shapes as GeoJSON (boundaries are open data)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.aggregate_query import FINENESS, SCOPE_AREA_LEVEL, recipient
from api.answer import Answer, Format, GeoJson, Table, feature, feature_collection
from api.caller import Caller
from api.errors import BadParameter
from api.schemas.areas import AreaOut, AreasResponse, DeclaredAreaOut
from geography.settings import GeocoderSettings
from sharing_protocols.decision import ProtocolRegister
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import area_names, area_shapes, areas_within

NO_FIGURES = "none: area codes, names and boundaries only (open data)"


def declared_areas(register: ProtocolRegister, org: str) -> list[DeclaredAreaOut]:
    """The area each protocol in force declares for `org` as a recipient."""
    today = datetime.now(UTC).date()
    found = []
    for protocol in register.active_at(today):
        declared = protocol.recipient(org)
        if declared is not None and declared.area is not None:
            found.append(
                DeclaredAreaOut(
                    protocol=f"{protocol.id}@{protocol.version}",
                    level=SCOPE_AREA_LEVEL[declared.area.level],
                    codes=sorted(declared.area.all_codes),
                )
            )
    return found


def declared_by_level(declared: list[DeclaredAreaOut]) -> dict[Level, set[str]]:
    """The declared areas' codes by the level they are declared at."""
    by_level: dict[Level, set[str]] = defaultdict(set)
    for entry in declared:
        by_level[entry.level].update(entry.codes)
    return by_level


def codes_within(
    session: Session, geography: GeocoderSettings, declared: list[DeclaredAreaOut], wanted: Level
) -> list[str]:
    """The codes of the areas of level `wanted` that lie in the `declared` areas, sorted."""
    codes: set[str] = set()
    for within, held in declared_by_level(declared).items():
        codes.update(areas_within(session, geography, wanted, within, sorted(held)))
    return sorted(codes)


def areas(
    session: Session,
    geography: GeocoderSettings,
    register: ProtocolRegister,
    caller: Caller,
    level: Level | None,
    format: Format,
) -> Answer[AreasResponse] | Answer[GeoJson]:
    """The areas of `level` (default: the coarsest level the areas are declared at) inside the areas the caller's
    organisation serves; none when no protocol in force declares one (Forbidden for a partner key)."""
    declared = declared_areas(register, recipient(caller))
    coarsest = max((d.level for d in declared), key=FINENESS.index, default=Level.lad)
    wanted = level or coarsest
    for within in declared_by_level(declared):
        if FINENESS.index(within) < FINENESS.index(wanted):
            raise BadParameter(f"the areas are declared as {within.value} codes: level {wanted.value} is too coarse")
    codes = codes_within(session, geography, declared, wanted)
    names = area_names(session, wanted, codes)
    rows = [AreaOut(area_code=code, area_name=names.get(code, code)) for code in codes]
    protocols = sorted({d.protocol for d in declared})
    body = AreasResponse(level=wanted, areas=rows, declared=declared)
    if format == "geojson":
        shapes = area_shapes(session, geography, wanted, codes)
        features = [feature(shapes.get(r.area_code), r.model_dump(), r.area_code) for r in rows]
        collection = feature_collection(features, level=wanted.value, declared=[d.model_dump() for d in declared])
        return Answer(collection, protocols, len(rows))
    table = Table(rows=rows, columns=["area_code", "area_name"], name=f"areas-{wanted.value}", rule=NO_FIGURES)
    return Answer(body, protocols, len(rows), table)
