"""Who a request is from: an organisation (a protocol recipient id) and a role, or the public."""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC = "public"
HUB_OPERATOR = "hub"  # an ig_lead of this organisation oversees every protocol


@dataclass(frozen=True)
class Caller:
    """The organisation (a protocol recipient id) and role behind a request."""

    org: str
    role: str

    @property
    def oversees_everything(self) -> bool:
        return self.role == "ig_lead" and self.org == HUB_OPERATOR
