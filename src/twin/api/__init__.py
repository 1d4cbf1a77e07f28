"""The HTTP API and web UI: one FastAPI app built by twin.api.main.build_app(settings)."""
