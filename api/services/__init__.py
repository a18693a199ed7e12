"""Services: parameters in, answers out (no FastAPI types), one module per resource."""
