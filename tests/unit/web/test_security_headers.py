"""The Content-Security-Policy and the sources it allows."""

from __future__ import annotations

import pytest

from web.security_headers import basemap_origin, content_security_policy


def _directives(policy: str) -> dict[str, str]:
    return dict(directive.split(" ", 1) for directive in policy.split("; "))


def test_the_policy_allows_no_inline_script_plugins_framing_or_foreign_forms() -> None:
    directives = _directives(content_security_policy())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["img-src"] == "'self' data:"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://tiles.example/{z}/{x}/{y}.png", "https://tiles.example"),
        ("https://{s}.tile.example:8443/{z}/{x}/{y}.png?k=1", "https://*.tile.example:8443"),
    ],
)
def test_a_basemap_adds_only_its_origin_to_the_images(url: str, origin: str) -> None:
    assert basemap_origin(url) == origin
    directives = _directives(content_security_policy(url))
    assert directives["img-src"] == f"'self' data: {origin}"
    assert directives["connect-src"] == "'self'"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/tiles/{z}/{x}/{y}.png", "https:///{z}.png"])
def test_a_basemap_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        basemap_origin(url)
