"""Analytic queries over the warehouse: counts, areas, cohorts, repeats, quality, population, and the IG views."""
