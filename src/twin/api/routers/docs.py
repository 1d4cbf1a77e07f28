"""The interactive API reference at /docs: Swagger UI served from the fastapi-offline package (no CDN),
and a page shell that asks for the key (or reuses the web UI's) before it fetches /api/openapi.json,
which, like every other route, needs the key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from twin.api.routers.web import web_dir
from twin.errors import MissingDependency


def swagger_assets() -> Path:
    """The folder of Swagger UI's bundle and stylesheet shipped inside fastapi-offline."""
    try:
        folder = Path(str(resources.files("fastapi_offline").joinpath("static")))
    except ModuleNotFoundError:
        raise MissingDependency.for_extra("The API reference page", "server", "fastapi_offline") from None
    return folder


def mount(app: FastAPI) -> None:
    page = web_dir() / "docs.html"

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(page, media_type="text/html")

    app.mount("/docs/assets", StaticFiles(directory=swagger_assets()), name="docs-assets")
