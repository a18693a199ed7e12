"""The embedded services' own credentials: files in <home>/secrets (the directory 0700, each file 0600).

The accepted exception to "no credentials in files in clear": the embedded hub's passwords for its own services,
generated with `secrets` and readable only by the user that runs `hub`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_dir(directory: Path) -> Path:
    """Create `directory` (and its parents) if missing, and make it 0700."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return directory


def write_secret(path: Path, text: str) -> None:
    """Write `text` to `path` (its directory exists), mode 0600 from the moment it exists, replacing it whole."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def password(path: Path) -> str:
    """The password kept in `path`, made (32 random bytes, URL-safe text) and kept there on first use."""
    if path.is_file():
        path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    made = secrets.token_urlsafe(32)
    write_secret(path, made + "\n")
    return made
