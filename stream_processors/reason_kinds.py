"""The kind of a dead letter's reason: a fixed word for logs and metrics, never the reason's own text (which can
name a topic, a dataset or a partner as the message claimed them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from warehouse.sink import DeadLetterRow

# How each reason the loader and the sink write begins, and its kind; the first that matches wins.
_KINDS: tuple[tuple[str, str], ...] = (
    ("not a partner topic", "not_partner_topic"),
    ("empty payload", "empty_payload"),
    ("null payload", "empty_payload"),
    ("payload contains a NUL", "nul_character"),
    ("payload is not valid", "not_json"),
    ("invalid envelope", "invalid_envelope"),
    ("unknown dataset", "unknown_dataset"),
    ("unsupported schema version", "unsupported_schema"),
    ("dataset ", "dataset_mismatch"),
    ("partner_mismatch", "partner_mismatch"),
    ("message key is not the event id", "key_mismatch"),
    ("event_id_conflict", "event_id_conflict"),
    ("retraction_not_publisher", "retraction_not_publisher"),
)
OTHER = "other"
KINDS = frozenset({kind for _, kind in _KINDS} | {OTHER})


def reason_kind(reason: str) -> str:
    """The kind of a dead letter's `reason` (`other` for one not listed)."""
    for start, kind in _KINDS:
        if reason.startswith(start):
            return kind
    return OTHER


def count_kinds(letters: Iterable[DeadLetterRow]) -> Counter[str]:
    """How many of `letters` there are of each kind of reason."""
    return Counter(reason_kind(letter.reason) for letter in letters)


def summary(counts: Counter[str]) -> str:
    """`kind N, kind M` in descending count (then name) order; `none` when empty."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{kind} {n}" for kind, n in ordered) or "none"
