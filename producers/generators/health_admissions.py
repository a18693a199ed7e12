"""Synthetic s17A health returns: admissions by outward code, ICD-10 block and quarter (many small counts, zeros)."""

from __future__ import annotations

from collections.abc import Iterator

from producers.feeds.health_admissions import COLUMNS
from producers.generators.aggregate_support import poisson, quarters, sample_grid
from producers.generators.base import FeedGenerator, GenerateRequest
from sharing_protocols.datasets.health_admissions import DATASET

# ICD-10 block -> mean admissions per outward code and quarter.
BLOCKS: dict[str, float] = {"X85-Y09": 2.5, "T51": 1.0, "F10": 6.0, "K70": 1.5}


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """One count per outward code, block and quarter, up to `request.rows` of them."""
    rng = request.rng()
    outwards = sorted({point.postcode.replace(" ", "")[:-3] for point in request.postcodes})
    cells = [(outward, block, quarter) for quarter in quarters(request) for outward in outwards for block in BLOCKS]
    for outward, block, quarter in sample_grid(rng, cells, request.rows):
        yield {
            "Outward Code": outward,
            "ICD10 Block": block,
            "Quarter": quarter,
            "Admissions": str(poisson(rng, BLOCKS[block])),
        }


GENERATOR = FeedGenerator(dataset=DATASET, columns=COLUMNS, rows=rows)
