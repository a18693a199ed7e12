"""Response (and request) schemas of the API, one module per resource."""
