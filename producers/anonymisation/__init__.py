"""Anonymisation at source: keyed pseudonyms, the partner's linkage keys, free-text scrubbing."""
