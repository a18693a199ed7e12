"""Which API keys may be issued (pure: no I/O): an organisation the protocol register names, an expiry not passed.

`hub keys create` reads the register and the clock and passes them in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sharing_protocols.documents import SLUG_MESSAGE, SLUG_PATTERN
from sharing_protocols.protocol import Protocol

# A key of this role reads only what clauses grant the public, whatever its organisation: its org is a label
# for the access log, so it need not be a party to any protocol.
ORG_FREE_ROLES = frozenset({"public"})

# A date given to --expires is a day in the UK: the key works through it and is refused from the next midnight.
HUB_ZONE = ZoneInfo("Europe/London")
MAX_DAYS = 36500  # "Nd" beyond a century is a typing slip, not a policy

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAYS = re.compile(r"^(\d{1,9})d$")
EXPIRY_FORMS = "a date YYYY-MM-DD (the last day the key works) or a number of days such as 90d"


class KeyRequestError(ValueError):
    """A key that may not be issued; the message says why, naming no secret."""


def named_organisations(protocols: Iterable[Protocol]) -> frozenset[str]:
    """Every data owner and every recipient organisation or CSP of any protocol (of any status or version).

    The public, as a recipient, is not an organisation.
    """
    named: set[str] = set()
    for protocol in protocols:
        named |= protocol.owner_ids
        named |= {r.id for r in protocol.recipients if r.kind != "public"}
    return frozenset(named)


def check_key_org(org: str, role: str, protocols: Iterable[Protocol], operator: str) -> None:
    """Refuse (KeyRequestError) an organisation that no protocol names, unless it is the hub's `operator`.

    A role in ORG_FREE_ROLES needs only a well-formed id.
    """
    if not re.fullmatch(SLUG_PATTERN, org):
        raise KeyRequestError(f"{SLUG_MESSAGE} (got {org!r})")
    if role in ORG_FREE_ROLES or org == operator:
        return
    named = named_organisations(protocols)
    if org not in named:
        known = ", ".join(sorted(named | {operator}))
        raise KeyRequestError(
            f"{org!r} is not a data owner or recipient of any protocol in the register; "
            f"add it to a protocol first (organisations named: {known})"
        )


def parse_expiry(value: str, now: datetime) -> datetime:
    """When a key given `--expires VALUE` at `now` stops working (timezone-aware, UTC).

    `YYYY-MM-DD`: the key works through that day (UK time); `Nd`: N days (1 or more) from `now`.
    Raises KeyRequestError for another form, an impossible date or a moment already passed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = value.strip()
    if _DATE.match(text):
        try:
            last_day = date.fromisoformat(text)
        except ValueError:
            raise KeyRequestError(f"{text!r} is not a date") from None
        if last_day == date.max:
            raise KeyRequestError(f"{text!r} is too far ahead")
        expires = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=HUB_ZONE).astimezone(UTC)
        if expires <= now:
            raise KeyRequestError(f"{text} is in the past: a key's last day must be today or later")
        return expires
    days = _DAYS.match(text)
    if days is None:
        raise KeyRequestError(f"{text!r} must be {EXPIRY_FORMS}")
    count = int(days.group(1))
    if not 1 <= count <= MAX_DAYS:
        raise KeyRequestError(f"{text}: the number of days must be from 1 to {MAX_DAYS}")
    return (now + timedelta(days=count)).astimezone(UTC)
