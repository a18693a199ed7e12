"""The security headers every answer carries (pages, API answers, scripts and assets): a Content-Security-Policy
with no inline script, nosniff, no framing, a same-origin referrer; and `Cache-Control: no-store` on everything but
the static scripts and installed assets (pages and API answers can hold what only the signed-in caller may see)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_PREFIXES = ("/assets/", "/static/")


def basemap_origin(basemap_url: str) -> str:
    """The origin of a tile URL template, as a CSP source (a `{s}` subdomain placeholder becomes a wildcard)."""
    parts = urlsplit(basemap_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("the basemap URL must be an http(s) URL")
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def content_security_policy(basemap_url: str | None = None) -> str:
    """The Content-Security-Policy: only this origin's scripts, styles, images (and the basemap's tiles), fonts
    and connections; no plugins, framing or foreign form targets."""
    images = "'self' data:" + (f" {basemap_origin(basemap_url)}" if basemap_url else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """ASGI middleware: adds the security headers to every HTTP answer."""

    def __init__(self, app: ASGIApp, basemap_url: str | None = None) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(basemap_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(CACHEABLE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
