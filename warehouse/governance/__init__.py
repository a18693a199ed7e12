"""API keys, the access log and retention."""
