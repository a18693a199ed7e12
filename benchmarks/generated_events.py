"""Synthetic events written straight into `event` with SQL, shaped as the worker stores them (benchmarks, tests).

Events fall in the wards of the chosen police forces, with each ward's real district, CSP, county and force
codes (the ward -> district -> CSP/county -> force lookups loaded in the warehouse, as the geocoder uses them),
an LSOA of the ward where the LSOA -> ward lookup has one, and a skew: ward activity is log-normal (a few busy
town-centre wards), months have a summer peak and a slow decline, categories follow a fixed mix. A small share
is unlocated (`no_location`, `outside_coverage`: no area codes). Everything is seeded.

Rows go in with `INSERT ... SELECT` over `generate_series`, one statement per chunk, so the `event_count`
triggers keep the pre-aggregated table current exactly as they do for the worker's loads.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import psycopg

from sharing_protocols.periods import add_months
from warehouse.reference.geocoder_data import ward_rollups
from warehouse.reference.lookups import parents

SLOTS = 10_000  # resolution of the weighted choices
UNLOCATED_SHARE = 0.02  # of which three quarters no_location, one quarter outside_coverage
FORCES = {  # force code -> (name as police.uk writes it, partner id)
    "E23000033": ("Sussex Police", "sussex-police"),
    "E23000028": ("Essex Police", "essex-police"),
    "E23000030": ("Hampshire Constabulary", "hampshire-police"),
}
OUTCOMES = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Under investigation",
    "Offender given a caution",
    "Awaiting court outcome",
    "Status update unavailable",
)


@dataclass(frozen=True)
class DatasetMix:
    """One dataset of the mix: its share of events, partner (None: the ward's force), categories and clause refs."""

    dataset: str
    share: float
    partner: str | None
    categories: tuple[tuple[str, float], ...]  # category, relative weight
    protocols: tuple[str, ...]


@dataclass(frozen=True)
class Ward:
    """A ward events can fall in, with the codes the geocoder would give it."""

    code: str
    district: str
    csp: str | None
    county: str | None
    pfa: str
    lsoas: tuple[str, ...]


def forces_wards(url: str, lookup_vintage: str, forces: Sequence[str]) -> list[Ward]:
    """The wards whose force (via the loaded lookups) is one of `forces`, sorted by code."""
    lsoas: dict[str, list[str]] = {}
    for lsoa, wards in parents(lookup_vintage, "lsoa", "ward", url).items():
        lsoas.setdefault(wards[0], []).append(lsoa)
    found = []
    for code, up in sorted(ward_rollups(lookup_vintage, url).items()):
        if up.get("pfa") in forces and "lad" in up:
            found.append(
                Ward(code, up["lad"], up.get("csp"), up.get("county"), up["pfa"], tuple(sorted(lsoas.get(code, ()))))
            )
    return found


def _slots(weights: Sequence[float], slots: int = SLOTS) -> list[int]:
    """`slots` 1-based indexes into `weights`, each index taking a share of the slots proportional to its weight."""
    cumulative = list(itertools.accumulate(weights))
    return [1 + bisect.bisect_right(cumulative, (j + 0.5) / slots * cumulative[-1]) for j in range(slots)]


def month_weight(index: int, first: date) -> float:
    """Relative volume of the index-th month: a summer peak (July) and a decline of 3 % a year."""
    month = add_months(first, index).month
    return float((1 + 0.15 * math.cos((month - 7) / 6 * math.pi)) * 0.97 ** (index / 12))


@dataclass(frozen=True)
class EventGenerator:
    """Writes seeded synthetic events into a warehouse's `event` table."""

    wards: tuple[Ward, ...]
    datasets: tuple[DatasetMix, ...]
    first_month: date
    months: int
    seed: int = 2019

    def ward_weights(self) -> list[float]:
        """Relative activity of each ward (log-normal, seeded)."""
        rng = random.Random(self.seed)
        return [rng.lognormvariate(0, 0.9) for _ in self.wards]

    def _prepare(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute(
            "CREATE TEMP TABLE gen_ward (i int PRIMARY KEY, ward_code text, district_code text, csp_code text, "
            "county_code text, pfa_code text, lsoas text[], force_partner text, force_name text)"
        )
        rows = []
        for i, w in enumerate(self.wards, 1):
            name, partner = FORCES.get(w.pfa, (w.pfa, w.pfa))
            rows.append((i, w.code, w.district, w.csp, w.county, w.pfa, list(w.lsoas), partner, name))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO gen_ward VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        conn.execute("CREATE TEMP TABLE gen_month (i int PRIMARY KEY, first date, last date)")
        conn.execute(
            "INSERT INTO gen_month SELECT i, (%s::date + (i - 1) * interval '1 month')::date, "
            "(%s::date + i * interval '1 month' - interval '1 day')::date FROM generate_series(1, %s) i",
            (self.first_month, self.first_month, self.months),
        )
        conn.execute(
            "CREATE TEMP TABLE gen_dataset (i int PRIMARY KEY, dataset text, partner text, categories text[], "
            "protocols text[])"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO gen_dataset VALUES (%s, %s, %s, %s, %s)",
                [
                    (i, d.dataset, d.partner, self._category_slots(d), list(d.protocols))
                    for i, d in enumerate(self.datasets, 1)
                ],
            )
        conn.execute("SELECT hub_event_partition(first) FROM gen_month")

    @staticmethod
    def _category_slots(mix: DatasetMix) -> list[str]:
        names = [c for c, _ in mix.categories]
        return [names[i - 1] for i in _slots([w for _, w in mix.categories], 1000)]

    def _insert(self, conn: psycopg.Connection[tuple[object, ...]], first: int, last: int, chunk: int) -> None:
        ward_slots = _slots(self.ward_weights())
        month_slots = _slots([month_weight(i, self.first_month) for i in range(self.months)])
        dataset_slots = _slots([d.share for d in self.datasets], 1000)
        conn.execute("SELECT setseed(%s)", (((self.seed * 7919 + chunk) % 100_000) / 100_000,))
        conn.execute(
            """
            INSERT INTO event (event_id, dataset, partner, schema_version, period_start, period_end, period_precision,
                period_month, category, attributes, location_status, ward_code, ward_vintage, content_hash,
                source_topic, source_partition, source_offset, lsoa_code, district_code, spatial_precision,
                temporal_precision, period_label, protocols, retain_until, csp_code, county_code, pfa_code,
                geocode_method, geocode_quality)
            SELECT md5(%(tag)s || s.g)::uuid, d.dataset, coalesce(d.partner, w.force_partner), 1, m.first, m.last,
                'month', m.first, d.categories[1 + floor(s.rc * cardinality(d.categories))::int],
                jsonb_build_object('reported_by', w.force_name, 'falls_within', w.force_name,
                    'last_outcome_category', (CAST(%(outcomes)s AS text[]))[1 + floor(s.ro * %(n_outcomes)s)::int]),
                CASE WHEN NOT s.unlocated THEN 'located' WHEN s.ru < %(no_location)s THEN 'no_location'
                    ELSE 'outside_coverage' END,
                CASE WHEN NOT s.unlocated THEN w.ward_code END,
                CASE WHEN NOT s.unlocated THEN 'wards-2024' END,
                md5(s.g::text) || md5(%(tag)s || s.g),
                'hub.events.' || d.dataset || '.' || coalesce(d.partner, w.force_partner), s.g %% 3, s.g,
                CASE WHEN NOT s.unlocated THEN w.lsoas[1 + floor(s.rl * cardinality(w.lsoas))::int] END,
                CASE WHEN NOT s.unlocated THEN w.district_code END,
                'ward', 'month', to_char(m.first, 'YYYY-MM'), d.protocols,
                (m.first + interval '24 months')::date,
                CASE WHEN NOT s.unlocated THEN w.csp_code END,
                CASE WHEN NOT s.unlocated THEN w.county_code END,
                CASE WHEN NOT s.unlocated THEN w.pfa_code END,
                CASE WHEN NOT s.unlocated THEN 'point' END,
                CASE WHEN NOT s.unlocated THEN 1 END
            FROM (
                SELECT g, (CAST(%(wards)s AS int[]))[1 + floor(random() * %(slots)s)::int] AS wi,
                    (CAST(%(months)s AS int[]))[1 + floor(random() * %(slots)s)::int] AS mi,
                    (CAST(%(datasets)s AS int[]))[1 + floor(random() * 1000)::int] AS di,
                    random() AS rc, random() AS rl, random() AS ro, r AS ru, r < %(unlocated)s AS unlocated
                FROM (SELECT g, random() AS r FROM generate_series(%(first)s::bigint, %(last)s::bigint) g) r
            ) s
            JOIN gen_ward w ON w.i = s.wi
            JOIN gen_month m ON m.i = s.mi
            JOIN gen_dataset d ON d.i = s.di
            """,
            {
                "tag": f"gen-{self.seed}-",
                "outcomes": list(OUTCOMES),
                "n_outcomes": len(OUTCOMES),
                "no_location": UNLOCATED_SHARE * 0.75,
                "unlocated": UNLOCATED_SHARE,
                "wards": ward_slots,
                "months": month_slots,
                "datasets": dataset_slots,
                "slots": SLOTS,
                "first": first,
                "last": last,
            },
        )

    def write(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        count: int,
        chunk: int = 500_000,
        start: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> float:
        """Insert `count` events (ids from `start`), one autocommitted statement per `chunk`; returns seconds."""
        if not conn.autocommit:
            raise ValueError("write needs an autocommit connection: each chunk is its own transaction")
        self._prepare(conn)
        started = time.perf_counter()
        for n, first in enumerate(range(start, start + count, chunk)):
            last = min(first + chunk, start + count) - 1
            self._insert(conn, first, last, n)
            if progress is not None:
                progress(last + 1 - start)
        elapsed = time.perf_counter() - started
        for table in ("gen_ward", "gen_month", "gen_dataset"):
            conn.execute(f"DROP TABLE {table}")
        return elapsed
