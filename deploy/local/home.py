"""Where an embedded service keeps its files: <home>/<name>/ with data/ and logs/ inside."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from deploy.settings import LocalSettings


@dataclass(frozen=True)
class ServiceHome:
    """The directory layout of one embedded service under HUB_LOCAL_HOME."""

    name: ClassVar[str]
    settings: LocalSettings

    @property
    def root(self) -> Path:
        return self.settings.home.resolve() / self.name

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


class Service(Protocol):
    """What `hub up|down|status` needs of an embedded service."""

    def is_running(self) -> bool: ...
    def start(self) -> str: ...
    def stop(self) -> str: ...
    def status(self) -> str: ...
