"""Each role's pages as its navigation lists them, its home page, and what the role is called on a page.

A page module appends its own entry to its role's list (`NAVIGATION[role].append((href, label))`) if it is not
listed here already; the layout shows the signed-in role's list.
"""

from __future__ import annotations

NAVIGATION: dict[str, list[tuple[str, str]]] = {
    "analyst": [
        ("/web/analyst/", "Map"),
        ("/web/analyst/trends", "Trends"),
        ("/web/analyst/scorecard", "Scorecard"),
        ("/web/analyst/hotspots", "Hot spots"),
        ("/web/analyst/repeats", "Repeats"),
        ("/web/analyst/cohorts", "Cohorts"),
        ("/web/analyst/pack", "Performance pack"),
    ],
    "ig_lead": [
        ("/web/ig/", "Protocols"),
        ("/web/ig/flows", "Flows"),
        ("/web/ig/withheld", "Withheld"),
        ("/web/ig/access-log", "Access log"),
        ("/web/ig/retention", "Retention"),
    ],
    "partner": [("/web/partner/", "Feeds")],
}

# Who a role is on a page: "This page is for <ROLE_NAMES[role]>".
ROLE_NAMES = {
    "analyst": "CSP analysts",
    "ig_lead": "information-governance leads",
    "partner": "partner organisations",
    "public": "the public",
}


def home(role: str) -> str | None:
    """The role's home page (the first of its navigation), or None for a role that has no pages (the public)."""
    pages = NAVIGATION.get(role)
    return pages[0][0] if pages else None


def navigation(role: str) -> list[tuple[str, str]]:
    """The role's pages as (href, label), in the order the navigation shows them."""
    return list(NAVIGATION.get(role, ()))
