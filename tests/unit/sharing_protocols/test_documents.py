"""The YAML document machinery shared by protocols and indicators, on a document format of its own."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BeforeValidator, Field

from sharing_protocols.documents import (
    SLUG_MESSAGE,
    SLUG_PATTERN,
    DocumentError,
    DocumentFormat,
    FrozenModel,
    Problem,
    Slug,
    as_tuple,
)


class Shelf(FrozenModel):
    """A made-up document: an id, some tags (at least one), and counts by label."""

    id: Slug
    tags: Annotated[tuple[Slug, ...], BeforeValidator(as_tuple), Field(min_length=1)]
    counts: dict[Slug, int] = Field(default_factory=dict)


class ShelfError(DocumentError):
    """A shelf document that cannot be used."""


SHELF = DocumentFormat("shelf", Shelf, ShelfError, {SLUG_PATTERN: SLUG_MESSAGE})


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(ShelfError) as info:
        SHELF.validate(SHELF.load_yaml(text, "shelf.yaml"), "shelf.yaml")
    assert all(p.source == "shelf.yaml" for p in info.value.problems)
    return [(p.path, p.message) for p in info.value.problems]


def test_a_good_document_gives_its_frozen_model() -> None:
    shelf = SHELF.validate(SHELF.load_yaml("id: top\ntags: books\ncounts: {red: 2}\n", "s.yaml"), "s.yaml")
    assert shelf == Shelf(id="top", tags=("books",), counts={"red": 2})  # a single string is a one-item list


def test_problems_name_the_field_path_in_the_formats_words() -> None:
    assert problems("id: Top Shelf\ntags: [ok, Not Ok]\nsize: 3\n") == [
        ("id", SLUG_MESSAGE),
        ("tags[1]", SLUG_MESSAGE),
        ("size", "is not a field of the shelf format"),
    ]


def test_a_bad_item_is_reported_rather_than_the_list_being_short() -> None:
    assert problems("id: top\ntags: [Not Ok]\n") == [("tags[0]", SLUG_MESSAGE)]
    assert problems("id: top\ntags: []\n") == [("tags", "Value should have at least 1 item after validation, not 0")]


def test_a_bad_mapping_key_is_said_to_be_a_key() -> None:
    assert problems("id: top\ntags: a\ncounts: {Red Ones: 2}\n") == [("counts.Red Ones", f"key {SLUG_MESSAGE}")]


def test_values_written_in_the_document_are_never_repeated() -> None:
    with pytest.raises(ShelfError) as info:
        SHELF.validate(SHELF.load_yaml("id: Ysolde Testcase\ntags: [a]\ncounts: {a: Zephyr}\n", "s.yaml"), "s.yaml")
    assert "Ysolde" not in str(info.value) and "Zephyr" not in str(info.value)


def test_yaml_errors_are_the_formats_error_with_line_and_column() -> None:
    with pytest.raises(ShelfError) as info:
        SHELF.load_yaml("id: top\nid: again\n", "twice.yaml")
    assert info.value.problems == (
        Problem("twice.yaml", "", "YAML syntax error at line 2, column 1: found a duplicate key"),
    )
    with pytest.raises(ShelfError, match="YAML syntax error"):
        SHELF.load_yaml("id: !!python/object/apply:os.system ['true']\n", "evil.yaml")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert problems("- top\n- shelf\n") == [("", "the document must be a YAML mapping of shelf fields")]
