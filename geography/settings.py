"""Which loaded boundary and lookup vintages the geocoder (and the area queries that follow it) use."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GeocoderSettings(BaseModel):
    """The vintages events are placed in; the LSOA and lookup vintages are used only when loaded."""

    model_config = ConfigDict(frozen=True)

    ward_vintage: str = "wards-2024"
    lsoa_vintage: str | None = "lsoa-2021"  # used when loaded; otherwise events keep the partner's LSOA code
    lookup_vintage: str | None = "lookups-2024"  # ward -> district -> CSP -> county -> force, when loaded
