"""Seeded generators of realistic partner exports for the feeds that have no real sample.

Each module here declares one `GENERATOR` (a FeedGenerator); `hub generate FEED` finds it by its dataset name.
Records are placed on real Code-Point Open postcodes; people are synthetic (invented names, test-range NHS
numbers), so a generated file holds no personal data, yet it has the direct identifiers a real export would.
"""
