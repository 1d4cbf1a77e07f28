"""The `loaded` flag every provider contract shares: True once the backend's load() has returned.

The contracts wrap load() when a class defines it, so each backend reports the same way without
keeping a flag of its own (and without clashing with its own private attributes)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any


def _marking(load: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(load):

        @functools.wraps(load)
        async def async_load(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = await load(self, *args, **kwargs)
            self._provider_loaded = True
            return result

        return async_load

    @functools.wraps(load)
    def sync_load(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = load(self, *args, **kwargs)
        self._provider_loaded = True
        return result

    return sync_load


class TracksLoading:
    """Mixin for provider base classes: a public, read-only `loaded` property."""

    _provider_loaded: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("load")
        if callable(own):
            setattr(cls, "load", _marking(own))  # noqa: B010 - replacing the method itself

    @property
    def loaded(self) -> bool:
        """True once load() has completed: the model is in memory or the engine client is ready."""
        return self._provider_loaded
