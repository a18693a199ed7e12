"""The installed front-end packages, served at /assets/ from an allowlist of their folders.

`WebSettings.assets_dir` is the folder holding `node_modules/` (`npm ci`) and `web/build/hub.css` (`npm run
build:css`), both made by deploy/bootstrap.sh. Only the folders in `ASSET_FOLDERS` are reachable, only files of the
kinds a browser needs (scripts, style sheets, images, source maps), never a GOV.UK font or crown image (this is not
a GOV.UK service), and a path is refused before it touches the disk unless every segment is a plain name: no `..`,
no hidden names, no backslash, no control characters (so no traversal, encoded or not).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from web.settings import WebSettings

CACHE_CONTROL = "public, max-age=604800"  # a week: the packages are pinned to exact versions
HUB_CSS_CACHE_CONTROL = "no-cache"  # the hub's own style sheet changes with the checkout: revalidated (ETag) each time
SERVED_SUFFIXES = frozenset({".js", ".mjs", ".css", ".png", ".svg", ".map"})
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
REFUSED_NAMES = re.compile(r"crown|crest|govuk-icon|favicon|opengraph")  # GOV.UK's brand, not ours


@dataclass(frozen=True)
class AssetFolder:
    """`/assets/<name>/...` serves the files of `folder` (relative to the assets folder); `only`, when given, are
    the sole files served from it."""

    name: str
    folder: str
    only: frozenset[str] | None = None


ASSET_FOLDERS = (
    AssetFolder("govuk", "node_modules/govuk-frontend/dist/govuk", frozenset({"govuk-frontend.min.js"})),
    AssetFolder("moj", "node_modules/@ministryofjustice/frontend/moj"),
    AssetFolder("leaflet", "node_modules/leaflet/dist"),
    AssetFolder("d3", "node_modules/d3/dist", frozenset({"d3.min.js"})),
    AssetFolder("plot", "node_modules/@observablehq/plot/dist", frozenset({"plot.umd.min.js"})),
    AssetFolder("swagger-ui", "node_modules/swagger-ui-dist"),
    AssetFolder("redoc", "node_modules/redoc/bundles", frozenset({"redoc.standalone.js"})),
)
HUB_CSS = "web/build/hub.css"  # /assets/hub.css
REQUIRED = (
    HUB_CSS,
    "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js",
    "node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js",
    "node_modules/leaflet/dist/leaflet.js",
    "node_modules/d3/dist/d3.min.js",
    "node_modules/@observablehq/plot/dist/plot.umd.min.js",
    "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
    "node_modules/redoc/bundles/redoc.standalone.js",
)


class AssetsMissing(RuntimeError):
    """The front-end packages or the built style sheet are not installed in the assets folder."""


def asset_source(assets_dir: Path, path: str) -> Path | None:
    """The file `/assets/<path>` serves from `assets_dir`, or None when the allowlist refuses it (not checked: that
    it exists)."""
    segments = path.split("/")
    if not path or not all(SEGMENT.fullmatch(segment) for segment in segments):
        return None
    if segments == ["hub.css"]:
        return assets_dir / HUB_CSS
    folder = next((f for f in ASSET_FOLDERS if f.name == segments[0]), None)
    rest = PurePosixPath(*segments[1:]) if len(segments) > 1 else None
    if folder is None or rest is None or rest.suffix not in SERVED_SUFFIXES or REFUSED_NAMES.search(path):
        return None
    if folder.only is not None and str(rest) not in folder.only:
        return None
    base = (assets_dir / folder.folder).resolve()
    source = (base / rest).resolve()  # a symbolic link must not lead out of the package's folder
    return source if source.is_relative_to(base) else None


class AssetFiles(StaticFiles):
    """Starlette's static files, looked up through `asset_source`; the packages cached by the browser for a week,
    the style sheet revalidated."""

    def __init__(self, assets_dir: Path) -> None:
        super().__init__(directory=assets_dir)
        self.assets_dir = assets_dir

    def get_path(self, scope: Scope) -> str:
        """The path under /assets/ as sent (not normalised, so `asset_source` sees any `..`)."""
        return str(scope["path"]).removeprefix(str(scope.get("root_path", ""))).removeprefix("/")

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        source = asset_source(self.assets_dir, path)
        if source is None or not source.is_file():
            return "", None
        return str(source), source.stat()

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        hub_css = Path(full_path) == (self.assets_dir / HUB_CSS).resolve()
        response.headers["Cache-Control"] = HUB_CSS_CACHE_CONTROL if hub_css else CACHE_CONTROL
        return response


def check_assets(assets_dir: Path) -> None:
    """Raise `AssetsMissing`, naming what is missing and how to install it, unless the packages and the built style
    sheet are in `assets_dir`."""
    missing = [name for name in REQUIRED if not (assets_dir / name).is_file()]
    if missing:
        raise AssetsMissing(
            f"the web application's front-end assets are not installed in {assets_dir} (missing: "
            f"{', '.join(missing)}); run `make demo` or `bash deploy/bootstrap.sh` (npm ci, npm run build:css) first"
        )


def install_assets(app: FastAPI, settings: WebSettings) -> None:
    """Serve the installed front-end packages at /assets/ from `settings.assets_dir`; `AssetsMissing` at once when
    they are not installed."""
    check_assets(settings.assets_dir)
    app.mount("/assets", AssetFiles(settings.assets_dir), name="assets")
