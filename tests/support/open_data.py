"""The shared open data beside the checkout (../shared/data, read-only): where it is, and its files by name.

Every test names a shared file through these constants (paths relative to SHARED_DATA), never by a literal path.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()

# Boundaries
WARDS_2024 = "boundaries/wards_2024_bsc_epsg27700.geojson"
WARDS_2013 = "boundaries/wards_2013_epsg4326.geojson"
LSOAS_2021 = "boundaries/lsoa_2021_epsg4326.geojson"
LSOAS_2011 = "boundaries/lsoa_2011_epsg4326.geojson"
LADS_2024 = "boundaries/lad_2024_bsc_epsg4326.geojson"
COUNTIES_2023 = "boundaries/county_ua_2023_bsc_epsg4326.geojson"
PFAS_2020 = "boundaries/pfa_2020_epsg4326.geojson"

# Lookups
WARD_LAD_LOOKUP = "lookups/ward24_lad24_ctyua24.csv"
LSOA_WARD_LOOKUP = "lookups/lsoa21_ward24_lad24.csv"
LAD_CSP_PFA_LOOKUP = "lookups/lad24_csp24_pfa24_england_wales.csv"
LAD_FRA_LOOKUP = "lookups/lad24_fra24_england_wales.csv"
LADS_IN_SCOPE = "lookups/lads_in_scope_csp_pfa_fra.csv"
LSOA11_LSOA21_LOOKUP = "lookups/lsoa11_lsoa21_lad22.csv"

# Postcodes
CODEPOINT = "postcodes/codepoint_open_2014_08.csv"
ONSPD_ABERDEEN = "postcodes/onspd_format_sample_aberdeen.csv"

# Population
CENSUS_2021_SEX = "population/lad21_census2021_sex_england_wales.csv"
LAD_MID2020_AGEBANDS = "population/lad21_mid2020_persons_agebands.csv"
LSOA11_MID2020_AGEBANDS = "population/lsoa11_mid2020_persons_agebands.csv"

# Code lists
HO_OFFENCES = "codelists/ho_offence_classification_ons2018.csv"
POLICE_UK_CATEGORIES = "codelists/police_uk_crime_categories.csv"

# Police.uk files
SUSSEX_STREET = "feeds/police_uk/2019-01-sussex-street.csv"
ESSEX_STREET = "feeds/police_uk/2019-01-essex-street.csv"
HAMPSHIRE_STREET = "feeds/police_uk/2019-01-hampshire-street.csv"
COLCHESTER_API = "feeds/police_uk/api_format_colchester_2023.csv"

# The Eastbourne fixture
EASTBOURNE_STREET = "fixture_eastbourne/2019-01-sussex-street_eastbourne.csv"
EASTBOURNE_CODEPOINT = "fixture_eastbourne/codepoint_2014_eastbourne.csv"
EASTBOURNE_LSOAS_2021 = "fixture_eastbourne/lsoa2021_eastbourne.geojson"
