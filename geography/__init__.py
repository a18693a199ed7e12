"""The hub's geocoder and CSV geocoding: pure, in memory (imports only sharing_protocols)."""
