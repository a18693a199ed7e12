"""The partner's linkage keys, one secret per linkage domain, and the pseudonymiser built from them.

Keys come from a file (`domain = secret` lines; `#` starts a comment) or from HUB_LINKAGE_KEY_<DOMAIN>
variables (domain upper-cased, `-` as `_`); a variable overrides the file. Keys never appear in errors or logs.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from producers.anonymisation.pseudonyms import MIN_KEY_BYTES, pseudonym

_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ENV_PREFIX = "HUB_LINKAGE_KEY_"


class LinkageKeyError(ValueError):
    """A key file that cannot be read, or a linkage domain without a usable key."""


def env_name(domain: str) -> str:
    return ENV_PREFIX + domain.upper().replace("-", "_")


def new_key() -> str:
    """A fresh random secret for a linkage domain (64 hex characters, 256 bits)."""
    return secrets.token_hex(32)


def read_key_file(path: Path) -> dict[str, bytes]:
    """`domain = secret` lines of `path`; errors name the file and line, never the secret."""
    keys: dict[str, bytes] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LinkageKeyError(f"{path}: cannot read the linkage key file ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        domain, sep, secret = (part.strip() for part in text.partition("="))
        if not sep or not _DOMAIN.match(domain):
            raise LinkageKeyError(f"{path}, line {number}: expected 'domain = secret' with a lower-case domain")
        keys[domain] = _checked(secret.encode(), f"{path}, line {number}")
    return keys


def _checked(secret: bytes, where: str) -> bytes:
    if len(secret) < MIN_KEY_BYTES:
        raise LinkageKeyError(f"{where}: the key is shorter than {MIN_KEY_BYTES} bytes")
    return secret


class Pseudonymiser:
    """Maps (linkage field, identifier) to the pseudonym under the domain assigned to that field."""

    def __init__(self, domains: Mapping[str, str], keys: Mapping[str, bytes]) -> None:
        missing = sorted({d for d in domains.values() if d not in keys})
        if missing:
            names = ", ".join(f"{d!r} (set {env_name(d)} or add it to the key file)" for d in missing)
            raise LinkageKeyError(f"no linkage key for domain(s) {names}")
        self._domains = dict(domains)
        self._keys = {domain: keys[domain] for domain in set(domains.values())}

    def __call__(self, field: str, identifier: str) -> str:
        domain = self._domains[field]
        return pseudonym(self._keys[domain], domain, identifier)


def load_keys(path: Path | None, domains: set[str], environ: Mapping[str, str] | None = None) -> dict[str, bytes]:
    """The keys for `domains`: from the file, overridden by HUB_LINKAGE_KEY_<DOMAIN> entries of `environ`."""
    env = environ or {}
    keys = read_key_file(path) if path is not None else {}
    for domain in domains:
        value = env.get(env_name(domain))
        if value:
            keys[domain] = _checked(value.encode(), env_name(domain))
    return keys
