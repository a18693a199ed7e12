"""What the edge refuses before routing, and what of a query the access log keeps (bounded, names only for
parameters the route does not take, never a credential)."""

from __future__ import annotations

import json

import pytest

from api.edge_checks import (
    MAX_HEADER,
    MAX_HEADERS,
    MAX_NAMES,
    MAX_QUERY,
    MAX_VALUE,
    TRUNCATED,
    UNKNOWN,
    logged_query,
    oversized_headers,
    refusal,
)


@pytest.mark.parametrize("value", ["a\x00b", "\x1f", "x\x7f", "line\nbreak", "tab\t"])
def test_control_characters_in_a_value_are_refused_naming_the_parameter_only(value: str) -> None:
    found = refusal("/v1/counts", [("dataset", "x"), ("area", value)])
    assert found is not None
    assert found.parameter == "area"
    assert value not in found.detail


def test_control_characters_in_a_name_or_the_path_are_refused_and_made_safe_to_show() -> None:
    named = refusal("/v1/counts", [("ar\x00ea", "x")])
    assert named is not None and named.parameter == "ar?ea" and "\x00" not in named.detail
    assert refusal("/collections/a\x00b", []) == refusal("/x\x01", [])
    assert refusal("/x\x01", []) is not None


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "key", "Key", "apikey", "ApiKey", "token", "TOKEN"])
def test_a_credential_in_the_query_string_is_refused_without_its_value(name: str) -> None:
    found = refusal("/v1/counts", [(name, "hub_secret_value")])
    assert found is not None
    assert found.parameter == name
    assert "hub_secret_value" not in found.detail
    assert "Authorization header" in found.detail


def test_ordinary_queries_pass() -> None:
    assert refusal("/v1/counts", [("dataset", "police-uk-street"), ("from", "2024-01"), ("area", "")]) is None


def test_the_log_keeps_known_values_repeats_as_lists_and_unknown_names_only() -> None:
    pairs = [("dataset", "a"), ("dataset", "b"), ("from", "2024-01"), ("junk", "zzz"), ("api_key", "s3cret")]
    assert logged_query(pairs, {"dataset", "from", "api_key"}) == {
        "dataset": ["a", "b"],
        "from": "2024-01",
        UNKNOWN: ["junk", "api_key"],
    }


def test_the_logged_query_is_bounded_whatever_is_sent() -> None:
    pairs = [("area", "E" * 10_000)] * 500 + [(f"junk{i}", "v" * 1000) for i in range(1000)]
    logged = logged_query(pairs, {"area"})
    assert len(json.dumps(logged)) <= MAX_QUERY
    assert logged[TRUNCATED] is True
    assert logged_query([("area", "E" * 10_000)], {"area"}) == {"area": "E" * MAX_VALUE}
    few = logged_query([(f"junk{i}", "v") for i in range(1000)], set())
    assert len(few[UNKNOWN]) == MAX_NAMES


def test_headers_within_both_bounds_pass() -> None:
    one = (b"x-big", b"v" * (MAX_HEADER - len(b"x-big")))
    assert oversized_headers([(b"host", b"x"), one]) is None


def test_one_header_over_its_bound_is_refused_with_431_by_name_only() -> None:
    found = oversized_headers([(b"host", b"x"), (b"x-big\x00", b"SECRET" * MAX_HEADER)])
    assert found is not None
    assert (found.status, found.parameter) == (431, "x-big?")
    assert "SECRET" not in found.detail and str(MAX_HEADER) in found.detail


def test_headers_over_the_bound_in_all_are_refused_with_431() -> None:
    each = 5 + 1000 + 4  # name, value, ": " and CRLF
    many = [(f"x-{i:03}".encode(), b"v" * 1000) for i in range(MAX_HEADERS // each + 1)]
    assert oversized_headers(many[:-1]) is None  # the most that fit
    found = oversized_headers(many)
    assert found is not None
    assert (found.status, found.parameter) == (431, "headers")
    assert str(MAX_HEADERS) in found.detail
