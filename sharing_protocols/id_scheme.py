"""Event id schemes: how a publisher made its event ids, named on every record it sends (header `hub-id-scheme`).

The same source record gets a different event id under a different scheme: `public` (no record-id key: uuid5 of
dataset, partner and source key, UUID version 5) or `keyed:<16 hex>` (HMAC under the partner's record-id key, UUID
version 4; the hex is `key_fingerprint`, a one-way fingerprint of the key that tells two keys apart and reveals
nothing of the key or of any id). The loader keeps each (dataset, partner)'s first scheme and refuses records under
another, so one file published with and without the key cannot load each record twice. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable

HEADER = "hub-id-scheme"
PUBLIC = "public"
KEYED_PREFIX = "keyed:"
FINGERPRINT_HEX = 16
_GRAMMAR = re.compile(rf"public|keyed:[0-9a-f]{{{FINGERPRINT_HEX}}}")
_FINGERPRINT_LABEL = b"hub-id-scheme-fingerprint\x1fv1"  # never an id's HMAC input (those start "event-id\x1f")
_ID_VERSION = {PUBLIC: 5, KEYED_PREFIX: 4}  # stable_event_id is uuid5; keyed_event_id marks its ids version 4


class InvalidIdScheme(ValueError):
    """A record's id-scheme header that cannot be trusted; the message names the problem, never the value."""


def key_fingerprint(record_key: bytes) -> str:
    """16 hex digits of the HMAC-SHA256 of a fixed label under `record_key`: equal for one key, different for two."""
    return hmac.new(record_key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def scheme_for(record_key: bytes | None) -> str:
    """The scheme of ids made with `record_key` (None: the public uuid5 ids)."""
    return PUBLIC if record_key is None else KEYED_PREFIX + key_fingerprint(record_key)


def is_scheme(text: str) -> bool:
    """Whether `text` is a scheme of the grammar: `public` or `keyed:` and 16 lower-case hex digits."""
    return _GRAMMAR.fullmatch(text) is not None


def id_version(scheme: str) -> int:
    """The UUID version every event id of `scheme` has."""
    return _ID_VERSION[PUBLIC if scheme == PUBLIC else KEYED_PREFIX]


def scheme_of(headers: Iterable[tuple[str, bytes | None]]) -> str | None:
    """The scheme a record's headers name, or None when they name none (a producer from before schemes).

    Raises InvalidIdScheme when the header appears more than once or its value is not a scheme.
    """
    found: str | None = None
    seen = False
    for name, value in headers:
        if name != HEADER:
            continue
        if seen:
            raise InvalidIdScheme(f"the {HEADER} header appears more than once")
        seen = True
        try:
            found = (value or b"").decode("ascii")
        except UnicodeDecodeError:
            raise InvalidIdScheme(f"the {HEADER} header is not a scheme (public or keyed:<16 hex>)") from None
        if not is_scheme(found):
            raise InvalidIdScheme(f"the {HEADER} header is not a scheme (public or keyed:<16 hex>)")
    return found


def check_id(scheme: str, event_id: uuid.UUID) -> None:
    """Raises InvalidIdScheme when `event_id` cannot have been made under `scheme` (its UUID version says not)."""
    expected = id_version(scheme)
    if event_id.version != expected:
        raise InvalidIdScheme(
            f"the event id is a version {event_id.version} UUID, but scheme {scheme} makes version {expected} ids"
        )
