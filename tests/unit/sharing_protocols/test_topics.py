"""Partner topic names: each names one dataset and the one partner that may write it."""

from __future__ import annotations

from sharing_protocols.topics import (
    TopicSource,
    dead_letter_topic,
    events_prefix,
    partner_topic,
    partner_topic_pattern,
    topic_source,
)


def test_a_partner_topic_names_the_dataset_and_the_partner() -> None:
    assert partner_topic("hub", "police-records", "sussex-police") == "hub.events.police-records.sussex-police"
    assert events_prefix("t1") == "t1.events."
    assert dead_letter_topic("hub") == "hub.dead-letter"


def test_the_name_is_read_back_to_its_dataset_and_partner() -> None:
    topic = partner_topic("hub", "police-uk-street", "essex-police")
    assert topic_source("hub", topic) == TopicSource("police-uk-street", "essex-police")


def test_names_outside_the_deployment_or_the_catalogue_are_not_partner_topics() -> None:
    assert topic_source("hub", "hub.events.police-records") is None  # no partner part
    assert topic_source("hub", "other.events.police-records.sussex-police") is None  # another deployment
    assert topic_source("hub", "hub.events.not-a-dataset.sussex-police") is None
    assert topic_source("hub", "hub.events.police-records.Sussex_Police") is None  # not a partner id
    assert topic_source("hub", "hub.events.police-records.sussex-police.extra") is None
    assert topic_source("hub", "hub.dead-letter") is None
    assert topic_source("h.b", "hxb.events.police-records.sussex-police") is None  # the prefix is literal


def test_the_pattern_is_the_one_the_worker_subscribes_with() -> None:
    pattern = partner_topic_pattern("hub")
    assert pattern.match("hub.events.police-records.eastbourne-council")
    assert not pattern.match("hub.events.police-records.")
