"""Getis-Ord Gi* hot and cold spots of ward (or district) counts inside an area, as GeoJSON.

The study region is every area of `level` inside the `area` filter (codes at `area_level`), zero-count areas
included; when every clause of the caller's has a geographic scope, only the areas inside the caller's scope (the
others are absent, not counted as zeros: their events are not the caller's; a region wholly outside it is 403).
Each area's count is the sum, over the months from..to, of the events released under the caller's clauses (the
same query layer as GET /v1/counts); the table of counts is disclosure-controlled as a whole, with secondary
suppression, so the released counts equal /v1/counts?period=all for the same filter; they are recorded and
guarded as those are (`api.released_figures.Recorder`: a count the differencing guard withholds is suppressed).

With format=csv, the same figures as one record per area (the features' properties, with the period).

Gi* is computed on the RELEASED counts, never on the true ones. A z-score is a function of every count in the
region: z-scores of true counts published beside suppressed or rounded counts would let anyone solve for the
suppressed counts and undo the rounding. A suppressed count enters Gi* as the midpoint of the suppressed range
1..min_cell_count-1, rounded down (4 under the NHS rule); primary and secondary suppression look alike, so every
suppressed count gets it. Where the rule keeps counts exact, Gi* is that of the true counts. Under the cell key
method each released count carries the perturbation's variance V; Gi*'s variance is that of the released counts
across the region, which includes V, so the method member says so and nothing is added.

Weights: binary Queen contiguity (areas sharing at least one boundary point), each area its own neighbour (Gi*),
not row-standardised. An area is classified by ArcGIS's Gi_Bin from its two-sided normal p-value: hot or cold at
99% (p < 0.01), 95% (p < 0.05) or 90% (p < 0.10), else not significant. `p_sim` is the seeded
conditional-permutation pseudo p-value (999 permutations).
"""

from __future__ import annotations

from typing import Any

from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.orm import Session

from api.aggregate_query import SCOPE_AREA_LEVEL, AggregateParams, resolve
from api.answer import Answer, GeoJson, Table, feature, feature_collection
from api.caller import Caller
from api.errors import BadParameter, NoGrant
from api.getis_ord import hot_spots
from api.perturbation_tables import PerturbationTables
from api.protection import perturbation_variance, protect_cells
from api.released_figures import Recorder
from api.schemas.common import disclosure_out
from api.ward_parents import WardParents
from geography.settings import GeocoderSettings
from sharing_protocols.cell_key_release import KeyedCount
from sharing_protocols.decision import ProtocolRegister
from sharing_protocols.disclosure import Rule
from warehouse.queries.aggregates import Level, located_cells
from warehouse.queries.areas import area_names, area_shapes, area_shapes_wkb, areas_within
from warehouse.queries.scope import ScopeFilter

WEIGHTS = "binary Queen contiguity (a shared boundary point), each area its own neighbour (Gi*), not standardised"
CLASSIFICATION = (
    "ArcGIS Gi_Bin from the two-sided normal p-value: hot/cold 99% (p < 0.01), 95% (p < 0.05), 90% (p < 0.10), "
    "else not significant"
)


# Each feature's properties, and the CSV columns after the period.
PROPERTIES = ("code", "name", "count", "gi_count", "z_score", "p_value", "p_sim", "gi_bin", "classification")


def suppressed_value(rule: Rule) -> int:
    """What a suppressed count enters Gi* as: the midpoint of 1..min_cell_count-1, rounded down."""
    return rule.min_cell_count // 2


def _method(rule: Rule, stand_in: int, variance: float = 0.0) -> dict[str, str]:
    """The method member: the statistic, weights, which counts Gi* used, and the classification."""
    return {
        "statistic": "Getis-Ord Gi* (Ord and Getis 1995), z-scores",
        "weights": WEIGHTS,
        "counts": (
            "released counts (after disclosure control), never the true ones: z-scores of true counts would "
            f"reveal suppressed and rounded counts; a suppressed count is taken as {stand_in}, the midpoint of "
            f"the suppressed range 1-{rule.min_cell_count - 1} rounded down (gi_count)"
            if rule.method == "threshold" and rule.min_cell_count > 1
            else (
                f"released counts, perturbed by the cell key method (none is suppressed): each carries a "
                f"perturbation of variance V = {variance:g}, independent between areas. Gi* has no variance term "
                "per area: its denominator is the variance of the released counts across the study region, which "
                "already contains V, so V is not added again"
            )
            if rule.method == "cell_key"
            else "released counts (after disclosure control; exact under this rule)"
        ),
        "classification": CLASSIFICATION,
        "p_value": "two-sided, standard normal",
        "p_sim": "seeded conditional permutations (999), one-sided pseudo p-value",
    }


def _inside_scope(
    session: Session,
    geography: GeocoderSettings,
    level: Level,
    refs: list[str],
    scopes: tuple[ScopeFilter, ...],
) -> set[str] | None:
    """The areas of `level` inside the caller's scopes, or None when some clause of the caller's has no scope."""
    scoped = {ref for scope in scopes for ref in scope.refs}
    if not scopes or set(refs) - scoped:
        return None
    inside: set[str] = set()
    for scope in scopes:
        inside |= set(areas_within(session, geography, level, SCOPE_AREA_LEVEL[scope.level], scope.codes))
    return inside


def hotspots(
    session: Session,
    geography: GeocoderSettings,
    wards: WardParents,
    register: ProtocolRegister,
    tables: PerturbationTables,
    caller: Caller,
    params: AggregateParams,
) -> Answer[GeoJson]:
    """Gi* z-score, p-value and hot/cold classification of each area of the study region, on released counts.

    The areas (study region, shapes) are those of the vintages in `geography`, which the geocoder placed events in.
    """
    resolved = resolve(session, register, caller, params)
    study = areas_within(session, geography, params.level, params.area_level, params.areas)
    inside = _inside_scope(session, geography, params.level, resolved.refs, resolved.scopes)
    if inside is not None:
        kept = [code for code in study if code in inside]
        if study and not kept:
            raise NoGrant(f"the area asked is outside the geographic scope of {caller.org}'s clauses ({resolved.refs})")
        study = kept
    shapes = {
        code: wkb.loads(shape) for code, shape in area_shapes_wkb(session, geography, params.level, study).items()
    }
    study = [code for code in study if isinstance(shapes.get(code), Polygon | MultiPolygon)]
    if len(study) < 3:
        raise BadParameter(f"Gi* needs at least 3 areas in the study region, found {len(study)}")
    [period] = resolved.periods
    true_counts = dict.fromkeys(study, KeyedCount(0, 0))
    cells = located_cells(session, resolved.query)
    for cell in cells:
        if cell.area_code in true_counts:
            true_counts[cell.area_code] += KeyedCount(cell.count, cell.key)
    table = protect_cells({(code, period.label): n for code, n in true_counts.items()}, resolved.rule, 2, tables)
    recorder = Recorder(session, wards, caller, params, margins=False, total=True)  # it shows cells, total
    table = recorder(resolved, table)
    released = {code: table.cells[(code, period.label)] for code in study}
    stand_in = suppressed_value(resolved.rule)
    used = {code: stand_in if count is None else count for code, count in released.items()}
    spots = hot_spots([(code, shapes[code], used[code]) for code in study])
    names = area_names(session, params.level, study)
    geometry = area_shapes(session, geography, params.level, study)
    features = [
        feature(
            geometry.get(spot.code),
            {
                "code": spot.code,
                "name": names.get(spot.code, spot.code),
                "count": released[spot.code],
                "gi_count": spot.count,
                "z_score": spot.z_score,
                "p_value": spot.p_norm,
                "p_sim": spot.p_sim,
                "gi_bin": spot.gi_bin,
                "classification": spot.classification,
            },
            spot.code,
        )
        for spot in spots
    ]
    members: dict[str, Any] = {
        "datasets": list(params.datasets),
        "level": params.level.value,
        "area": list(params.areas),
        "area_level": params.area_level.value,
        "period": period.label,
        "protocols": resolved.refs,
        "disclosure": recorder.disclosed(disclosure_out(table, scopes=resolved.scopes)).model_dump(),
        "total": table.total,
        "method": _method(resolved.rule, stand_in, perturbation_variance(resolved.rule, tables)),
    }
    rows = [{"period": period.label, **f["properties"]} for f in features]  # the CSV form: a record per area
    csv_table = Table(rows, ("period", *PROPERTIES), "hotspots", members["disclosure"]["rule"], flatten=dict)
    body = feature_collection(features, **members)
    return Answer(body, resolved.refs, len(features), csv_table, released=recorder.record())
