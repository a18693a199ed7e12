"""Checks shared by the unit tests of the people-centred feeds (police records, council ASB, MARAC, probation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sharing_protocols.envelope import EventEnvelope


def assert_no_identifiers(events: Sequence[EventEnvelope], records: Sequence[dict[str, str]], prefix: str) -> None:
    """No person's full name, date of birth, phone, e-mail or NHS number from `records` is in any event.

    `prefix` names the person columns ("Victim" for "Victim Surname", "Victim Forename", "Victim DOB"...).
    Surnames alone are ordinary words ("Green", "Hall") that may rightly appear in place names, so names are
    looked for as "Forename Surname".
    """
    payload = b"\\n".join(event.to_bytes() for event in events).decode()
    for record in records:
        surname, forename, born = (record.get(f"{prefix} {c}", "") for c in ("Surname", "Forename", "DOB"))
        for name in zip(forename.split(";"), surname.split(";"), strict=True):
            if name[0].strip():
                assert f"{name[0].strip()} {name[1].strip()}" not in payload
        for dob in filter(None, (part.strip() for part in born.split(";"))):
            assert dob not in payload and datetime.strptime(dob, "%d/%m/%Y").date().isoformat() not in payload
        for column, value in record.items():
            if value and any(word in column for word in ("Phone", "Email", "NHS", "PNC", "Address")):
                assert value not in payload, column
