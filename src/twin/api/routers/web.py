"""The web UI: static files from twin/web served at / and /ui/ (no data in them; every call the UI
makes goes to the API with the user's key)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles


def web_dir() -> Path:
    return Path(str(resources.files("twin.web")))


def mount(app: FastAPI) -> None:
    root = web_dir()

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(root / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        # Browsers ask for /favicon.ico whatever the page links; an SVG icon is served for it.
        return FileResponse(root / "favicon.svg", media_type="image/svg+xml")

    app.mount("/ui", StaticFiles(directory=root), name="ui")
