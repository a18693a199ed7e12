"""Synthetic drug and alcohol treatment returns: monthly numbers in treatment by district, deaths by quarter."""

from __future__ import annotations

from collections.abc import Iterator

from producers.feeds.aggregate_returns import COLUMNS
from producers.generators.aggregate_support import months, poisson, quarters, sample_grid
from producers.generators.base import FeedGenerator, GenerateRequest
from sharing_protocols.datasets.aggregate_returns import DATASET

# Measure -> (mean count per district and period, quarterly?).
MEASURES: dict[str, tuple[float, bool]] = {
    "in-treatment-opiate": (320.0, False),
    "in-treatment-non-opiate": (70.0, False),
    "in-treatment-alcohol": (210.0, False),
    "in-treatment-alcohol-non-opiate": (60.0, False),
    "new-presentations": (45.0, False),
    "successful-completions": (18.0, False),
    "deaths-in-treatment": (0.6, True),
}


def rows(request: GenerateRequest) -> Iterator[dict[str, str]]:
    """One count per district, period and measure (up to `request.rows`); small measures are often 0."""
    rng = request.rng()
    districts = sorted({point.district for point in request.postcodes})
    cells = [
        (district, period, measure)
        for measure, (_, quarterly) in MEASURES.items()
        for period in (quarters(request) if quarterly else months(request))
        for district in districts
    ]
    for district, period, measure in sample_grid(rng, cells, request.rows):
        yield {
            "Area Code": district,
            "Period": period,
            "Measure": measure,
            "Count": str(poisson(rng, MEASURES[measure][0])),
        }


GENERATOR = FeedGenerator(dataset=DATASET, columns=COLUMNS, rows=rows)
