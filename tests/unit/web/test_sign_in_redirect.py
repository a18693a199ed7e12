"""Where sign-in may return to: a path on this site, never another site (the open-redirect attack)."""

from __future__ import annotations

import pytest

from web.routes.session import local_path


@pytest.mark.parametrize("target", ["/web/", "/web/analyst/trends?dataset=asb&period=month#map", "/"])
def test_a_path_on_this_site_is_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example/",
        "/\\evil.example/",
        "/web/\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example/web/",
    ],
)
def test_anything_a_browser_could_read_as_another_site_is_refused(target: str | None) -> None:
    assert local_path(target) is None
