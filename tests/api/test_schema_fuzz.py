"""Schemathesis against the OpenAPI schema: no 5xx, responses match the schema, for JSON routes."""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from .conftest import make_env  # noqa: E402

_HOME = Path()


def _app(home: Path):  # noqa: ANN202
    env = make_env(home)
    return env, env.client.app


def test_schema_fuzz(twin_home: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    env, app = _app(twin_home)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers={**env.auth(), "Host": "127.0.0.1"})
    # Speech routes run a real TTS engine per example; keep them out of the fuzz loop (they have
    # their own tests) and fuzz the rest.
    schema = schema.exclude(path_regex=r"^/(api/tts/(clone|pipeline)|v1/audio/speech)$")
    failures = []
    for op in schema.get_all_operations():
        operation = op.ok()

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:  # noqa: ANN001
            case.headers = {**(case.headers or {}), **env.auth(), "Host": "127.0.0.1"}
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text)
            # Random bytes are schema-valid but are not audio: the upload route must refuse them (415),
            # which the schema cannot express, so only there "valid data accepted" is not checked.
            excluded = [positive_data_acceptance] if case.operation.path == "/api/voice/upload" else []
            case.validate_response(response, excluded_checks=excluded)

        try:
            check()
        except AssertionError as exc:  # collect every operation's failure before reporting
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n".join(failures)
