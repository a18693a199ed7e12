"""The hub's own refusals, raised by services and helpers; `api.error_handlers` maps each kind to an HTTP answer.

A message is shown to the caller as it is, so it names parameters and protocol terms, never a value that could be
personal data.
"""

from __future__ import annotations


class HubError(Exception):
    """A request the hub refuses, and why (`detail`)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(HubError):
    """The request needs a valid API key (401)."""


class Forbidden(HubError):
    """The caller's role may not use this endpoint (403)."""


class NoGrant(Forbidden):
    """No protocol clause in force grants the caller what was asked (403)."""


class NotFound(HubError):
    """An unknown dataset, collection, feature, indicator or vintage (404)."""


class BadRequest(HubError):
    """A malformed OGC API parameter: bbox, datetime, limit, offset or f (400)."""


class BadParameter(HubError):
    """Parameters that are well-formed but do not make sense together (422)."""
