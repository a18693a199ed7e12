"""The wards each district, CSP, county and force is made of, kept for the app's life (`app.state.ward_parents`,
read through `api.dependencies.WardsDep`): the differencing guard compares figures over their wards
(`api.released_figures.at_base`), and asking the warehouse again at every threshold request above ward level
cost a query over every ward each time.

Read from the warehouse when first asked for (the geocoder's ward and lookup vintages), as the geocoders are; an
empty read (no wards loaded yet) is not kept. Like the geocoders, it is not read again while the app runs: restart
the API after loading other wards or lookups.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geography.settings import GeocoderSettings
from warehouse.queries.aggregates import Level
from warehouse.queries.areas import ward_parents


class WardParents:
    """The wards making each area of a level above ward, read once from the warehouse behind `engine`."""

    def __init__(self, engine: Engine, geography: GeocoderSettings) -> None:
        self._engine = engine
        self._geography = geography
        self._read: dict[Level, dict[str, frozenset[str]]] | None = None
        self._lock = threading.Lock()

    def _parents(self) -> dict[Level, dict[str, frozenset[str]]]:
        with self._lock:
            if self._read is not None:
                return self._read
            with Session(self._engine) as session:
                read = ward_parents(session, self._geography)
            if any(read.values()):
                self._read = read
            return read

    def kept(self) -> bool:
        """Whether the wards were read for good (then what `making` gives never changes while the app runs)."""
        with self._lock:
            return self._read is not None

    def making(self, level: Level, codes: Sequence[str]) -> dict[str, frozenset[str]]:
        """The wards that make up each of `codes` at `level` (ward, district, CSP, county or force; a ward is
        itself); a code with no ward loaded is missing."""
        if level is Level.lsoa:
            raise ValueError("LSOAs are not made of wards")
        if level is Level.ward:
            return {code: frozenset({code}) for code in codes}
        made = self._parents()[level]
        return {code: made[code] for code in codes if code in made}
