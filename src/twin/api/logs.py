"""Server logging: uvicorn's own configuration, with query strings dropped from the access log (a key
pasted as `?api_key=` by a client must never land in a log file; routes never read the query string for
secrets, and paths alone say what was asked)."""

from __future__ import annotations

import copy
import logging
from typing import Any


class DropQueryString(logging.Filter):
    """Rewrite uvicorn access records (client, method, path?query, version, status) to the bare path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[query dropped]", *args[3:])
        return True


def access_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration plus the DropQueryString filter on its access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": "twin.api.logs.DropQueryString"}
    config["loggers"]["uvicorn.access"]["filters"] = ["drop_query"]
    return config
