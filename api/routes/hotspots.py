"""GET /v1/hotspots: Getis-Ord Gi* hot and cold spots of ward (or district) counts inside an area, as GeoJSON.

The study region is every area of `level` inside the `area` filter (codes at `area_level`), zero-count areas
included. Each area's count is the sum, over the months from..to, of the events released under the caller's
clauses (the same query layer as GET /v1/counts); the table of counts is disclosure-controlled as a whole, with
secondary suppression, so the released counts equal /v1/counts?period=all for the same filter.

Gi* is computed on the RELEASED counts, never on the true ones. A z-score is a function of every count in the
region: z-scores of true counts published beside suppressed or rounded counts would let anyone solve for the
suppressed counts and undo the rounding. A suppressed count enters Gi* as the midpoint of the suppressed range
1..min_cell_count-1, rounded down (4 under the NHS rule); primary and secondary suppression look alike, so every
suppressed count gets it. Where the rule keeps counts exact, Gi* is that of the true counts.

Weights: binary Queen contiguity (areas sharing at least one boundary point), each area its own neighbour (Gi*),
not row-standardised. An area is classified by ArcGIS's Gi_Bin from its two-sided normal p-value: hot or cold at
99% (p < 0.01), 95% (p < 0.05) or 90% (p < 0.10), else not significant. `p_sim` is the seeded
conditional-permutation pseudo p-value (999 permutations).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon

from api.access_log import AccessDep
from api.aggregate_query import AggregateParams, aggregate_params, resolve
from api.auth import CallerDep
from api.dependencies import GeographyDep, RegisterDep, SessionDep
from api.disclosure import Rule, protect
from api.formats import GEOJSON_MEDIA_TYPE, feature, geojson_response
from api.getis_ord import hot_spots
from api.periods import PeriodType
from api.routes.counts import disclosure_out
from warehouse.aggregates import Level, located_cells
from warehouse.areas import area_names, area_shapes, area_shapes_wkb, areas_within

router = APIRouter(prefix="/v1", tags=["hotspots"])

WEIGHTS = "binary Queen contiguity (a shared boundary point), each area its own neighbour (Gi*), not standardised"
CLASSIFICATION = (
    "ArcGIS Gi_Bin from the two-sided normal p-value: hot/cold 99% (p < 0.01), 95% (p < 0.05), 90% (p < 0.10), "
    "else not significant"
)


class HotspotLevel(StrEnum):
    """The levels Gi* is offered at."""

    ward = "ward"
    lad = "lad"


def hotspot_params(
    dataset: Annotated[list[str], Query(description="dataset name; repeat for several")],
    from_: Annotated[str, Query(alias="from", description="first month, YYYY-MM")],
    to: Annotated[str, Query(description="last month, YYYY-MM")],
    area: Annotated[list[str], Query(description="the study region: these areas (codes at area_level)")],
    area_level: Annotated[Level | None, Query(description="the level of `area` codes (default: level)")] = None,
    level: Annotated[HotspotLevel, Query(description="ward (default) or lad")] = HotspotLevel.ward,
    category: Annotated[list[str] | None, Query(description="only these categories")] = None,
) -> AggregateParams:
    """The shared aggregate parameters for one count per area over the whole of from..to."""
    return aggregate_params(
        dataset=dataset,
        from_=from_,
        to=to,
        level=Level(level.value),
        period=PeriodType.all,
        area=area,
        area_level=area_level,
        category=category,
        vintage=None,
        format="json",
    )


HotspotParamsDep = Annotated[AggregateParams, Depends(hotspot_params)]


def suppressed_value(rule: Rule) -> int:
    """What a suppressed count enters Gi* as: the midpoint of 1..min_cell_count-1, rounded down."""
    return rule.min_cell_count // 2


@router.get(
    "/hotspots",
    response_class=Response,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}, "description": "a GeoJSON FeatureCollection"}},
)
def hotspots(
    session: SessionDep,
    caller: CallerDep,
    register: RegisterDep,
    access: AccessDep,
    params: HotspotParamsDep,
    geography: GeographyDep,
) -> Response:
    """Gi* z-score, p-value and hot/cold classification of each area of the study region, on released counts."""
    answer = resolve(session, register, caller, params)
    study = areas_within(session, geography, params.level, params.area_level, params.areas)
    shapes = {
        code: wkb.loads(shape) for code, shape in area_shapes_wkb(session, geography, params.level, study).items()
    }
    study = [code for code in study if isinstance(shapes.get(code), Polygon | MultiPolygon)]
    if len(study) < 3:
        raise HTTPException(
            status_code=422, detail=f"Gi* needs at least 3 areas in the study region, found {len(study)}"
        )
    [period] = answer.periods
    true_counts = dict.fromkeys(study, 0)
    cells = located_cells(session, answer.query)
    for cell in cells:
        if cell.area_code in true_counts:
            true_counts[cell.area_code] += cell.count
    table = protect({(code, period.label): n for code, n in true_counts.items()}, answer.rule, 2)
    released = {code: table.cells[(code, period.label)] for code in study}
    stand_in = suppressed_value(answer.rule)
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
        "protocols": answer.refs,
        "disclosure": disclosure_out(table).model_dump(),
        "total": table.total,
        "method": {
            "statistic": "Getis-Ord Gi* (Ord and Getis 1995), z-scores",
            "weights": WEIGHTS,
            "counts": (
                "released counts (after disclosure control), never the true ones: z-scores of true counts would "
                f"reveal suppressed and rounded counts; a suppressed count is taken as {stand_in}, the midpoint of "
                f"the suppressed range 1-{answer.rule.min_cell_count - 1} rounded down (gi_count)"
                if answer.rule.min_cell_count > 1
                else "released counts (after disclosure control; exact under this rule)"
            ),
            "classification": CLASSIFICATION,
            "p_value": "two-sided, standard normal",
            "p_sim": "seeded conditional permutations (999), one-sided pseudo p-value",
        },
    }
    access.protocols = answer.refs
    access.rows = len(features)
    return geojson_response(features, **members)
