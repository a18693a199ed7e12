"""`hub publish`'s records name the id scheme their event ids were made under, for events and retractions alike."""

from __future__ import annotations

import pytest

from producers.feed_registry import get_feed
from producers.publish import PublishSummary, SourceOptions, numbered, unlinked
from sharing_protocols.envelope import Retraction
from sharing_protocols.id_scheme import HEADER, PUBLIC, check_id, scheme_for, scheme_of
from tests.support.open_data import EASTBOURNE_STREET, SHARED_DATA

FIXTURE = SHARED_DATA / EASTBOURNE_STREET


@pytest.mark.parametrize("record_key", [None, b"r" * 32, b"o" * 32])
def test_every_record_of_a_file_names_the_scheme_of_its_ids(record_key: bytes | None) -> None:
    feed = get_feed("police-uk-street")
    options = SourceOptions(feed.default_partner, unlinked, record_key=record_key)
    messages = [m for _, m in numbered(feed, FIXTURE, options, PublishSummary(str(FIXTURE), feed.name))]
    expected = PUBLIC if record_key is None else scheme_for(record_key)
    assert options.id_scheme == expected
    assert len(messages) > 900
    for message in messages:
        assert [name for name, _ in message.headers].count(HEADER) == 1
        assert scheme_of(message.headers) == expected
        check_id(expected, message.item.event_id)
    retraction = Retraction(event_id=messages[0].item.event_id, dataset=feed.name, partner=feed.default_partner,
                            schema_version=feed.spec.schema_version)  # fmt: skip
    assert scheme_of(type(messages[0]).of(retraction, expected).headers) == expected
