"""The web layer: FastAPI routes that parse, call a service and render."""
