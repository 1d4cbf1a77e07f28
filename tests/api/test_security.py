"""Auth on every route, per-profile isolation, Host/Origin guards, body limits, traversal."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount

from twin.api.main import PUBLIC_PATHS
from twin.keys import KeyStore

from .conftest import Env, speech_wav, tone_wav


def iter_routes(routes):  # noqa: ANN001, ANN201 - walks FastAPI's route tree, including included routers
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_routes(inner.routes)
        else:
            yield route


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def api_routes(env: Env) -> list[tuple[str, str]]:
    out = []
    for route in iter_routes(env.client.app.routes):
        if isinstance(route, APIRoute):
            out += [(m, route.path) for m in sorted(route.methods) if m != "HEAD"]
        elif isinstance(route, APIWebSocketRoute):
            out.append(("WS", route.path))
        elif not isinstance(route, Mount):
            raise AssertionError(f"unexpected route type {type(route).__name__} at {route.path}")
    return out


def test_route_walk_sees_every_feature(env: Env) -> None:
    paths = {p for _m, p in api_routes(env)}
    for expected in (
        "/api/tts/lora/generate",
        "/api/voice/upload",
        "/api/tts/clone",
        "/api/tts/pipeline",
        "/v1/chat/completions",
        "/v1/audio/speech",
        "/v1/models",
        "/api/engines",
        "/api/health",
    ):
        assert expected in paths


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Bearer twin_sk_wrongwrongwrongwrongwrongwrongwrongwrong12",
        "Bearer nonsense",
        "Basic YWxpY2U6cGFzcw==",
        "twin_sk_x",
    ],
)
def test_every_route_needs_a_key(env: Env, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    checked = 0
    for method, path in api_routes(env):
        if path in PUBLIC_PATHS:
            continue
        if method == "WS":
            from starlette.websockets import WebSocketDisconnect

            with pytest.raises(WebSocketDisconnect), env.client.websocket_connect(concrete(path), headers=headers):
                pass
            continue
        r = env.client.request(method, concrete(path), headers=headers, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
        checked += 1
    assert checked >= 10


def test_public_routes_are_only_health_and_ui(env: Env) -> None:
    assert env.client.get("/api/health").status_code == 200
    body = env.client.get("/api/health").json()
    assert set(body) == {"status", "version", "uptime_s"}
    assert env.client.get("/").status_code == 200
    assert env.client.get("/ui/app.js").status_code == 200
    assert env.client.get("/api/openapi.json").status_code == 401
    # The API reference page shell and its Swagger UI assets are public; they hold no data.
    assert env.client.get("/docs").status_code == 200
    assert env.client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_key_in_query_string_is_ignored(env: Env) -> None:
    assert env.client.get(f"/api/engines?api_key={env.alice}").status_code == 401
    assert env.client.get(f"/api/engines?key={env.alice}").status_code == 401


def test_revoked_key_and_deleted_profile(env: Env) -> None:
    store = KeyStore(env.settings)
    created = store.create("alice")
    h = {"Authorization": "Bearer " + created.secret}
    assert env.client.get("/v1/models", headers=h).status_code == 200
    store.revoke(created.record.id)
    assert env.client.get("/v1/models", headers=h).status_code == 401
    from twin.profiles import ProfileManager

    ProfileManager(env.settings).delete("bob")
    assert env.client.get("/v1/models", headers=env.auth("bob")).status_code == 401
    store.close()


def test_keys_are_stored_hashed(env: Env) -> None:
    raw = (env.settings.home / "keys.db").read_bytes()
    assert env.alice.encode() not in raw and env.alice[8:].encode() not in raw


def test_foreign_host_is_refused(env: Env) -> None:
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.attacker.net:3000"):
        r = env.client.get("/api/health", headers={"Host": host})
        assert r.status_code == 400, host
        assert r.json()["error"]["code"] == "bad_host"
    assert env.client.get("/api/health", headers={"Host": "localhost:3000"}).status_code == 200


def test_hostile_origin_is_refused(env: Env) -> None:
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example"):
        r = env.client.post(
            "/v1/chat/completions",
            headers={**env.auth(), "Origin": origin},
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert r.status_code == 403, origin
        assert "access-control-allow-origin" not in r.headers
    ok = env.client.get("/v1/models", headers={**env.auth(), "Origin": "http://127.0.0.1"})
    assert ok.status_code == 200


def test_cors_allows_only_listed_origins(twin_home) -> None:  # noqa: ANN001
    from .conftest import make_env

    e = make_env(twin_home, cors_origins=["https://app.example"])
    pre = e.client.options(
        "/v1/models", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    assert pre.headers.get("access-control-allow-origin") == "https://app.example"
    bad = e.client.options(
        "/v1/models", headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}
    )
    assert bad.status_code == 403


@pytest.mark.parametrize("origin", ["*", "null", "file://", "https://a.example/path"])
def test_wildcard_and_null_cors_config_refused(twin_home, origin: str) -> None:  # noqa: ANN001
    from twin.errors import InvalidInput

    from .conftest import make_env

    with pytest.raises(InvalidInput):
        make_env(twin_home, cors_origins=[origin])


def test_cross_profile_voice_is_not_found(env: Env) -> None:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth("alice"),
        files={"file": ("me.wav", speech_wav(), "audio/wav")},
        data={"emotion": "neutral"},
    )
    assert r.status_code == 201, r.text
    vid = r.json()["voice_id"]
    assert env.client.get(f"/api/voice/{vid}", headers=env.auth("alice")).status_code == 200
    for method, path, body in (
        ("GET", f"/api/voice/{vid}", None),
        ("DELETE", f"/api/voice/{vid}", None),
        ("POST", "/api/tts/clone", {"text": "hi", "voice_id": vid}),
        ("POST", "/v1/audio/speech", {"model": "t", "input": "hi", "voice": vid}),
    ):
        r = env.client.request(method, path, headers=env.auth("bob"), json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert vid not in str(env.client.get("/api/voice", headers=env.auth("bob")).json())


@pytest.mark.parametrize("bad", ["../alice", "..%2F..%2Fetc", "a/b", "..", "ALICE", "x" * 80, "%00", "a\\b"])
def test_traversal_in_voice_ids(env: Env, bad: str) -> None:
    r = env.client.get(f"/api/voice/{bad}", headers=env.auth())
    assert r.status_code in (404, 422), bad
    r = env.client.post("/api/tts/clone", headers=env.auth(), json={"text": "hi", "voice_id": bad})
    assert r.status_code == 422, bad
    r = env.client.post("/v1/audio/speech", headers=env.auth(), json={"model": "m", "input": "hi", "voice": bad})
    assert r.status_code == 422, bad


@pytest.mark.parametrize("name", ["../../../etc/passwd", "..\\..\\x.wav", "/abs/path.wav", "a\x00b.wav"])
def test_upload_file_names_never_become_paths(env: Env, name: str) -> None:
    r = env.client.post(
        "/api/voice/upload", headers=env.auth(), files={"file": (name, b"not audio at all" * 10, "audio/wav")}
    )
    assert r.status_code in (415, 422), r.text
    profile_root = env.settings.profiles_dir / "alice"
    assert not any(p.name.endswith("passwd") for p in env.settings.home.rglob("*"))
    assert list((profile_root / "voice" / "tmp").glob("*")) == []


def test_upload_voice_name_traversal(env: Env) -> None:
    r = env.client.post(
        "/api/voice/upload",
        headers=env.auth(),
        files={"file": ("a.wav", tone_wav(), "audio/wav")},
        data={"name": "../bob"},
    )
    assert r.status_code == 422


def test_upload_over_limit_is_413(small_env: Env) -> None:
    big = tone_wav(3.0)  # ~96 KB > 64 KiB
    files = {"file": ("a.wav", big, "audio/wav")}
    r = small_env.client.post("/api/voice/upload", headers=small_env.auth(), files=files)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_json_body_over_limit_is_413(small_env: Env) -> None:
    r = small_env.client.post(
        "/v1/chat/completions",
        headers=small_env.auth(),
        json={"model": "m", "messages": [{"role": "user", "content": "x" * 10_000}]},
    )
    assert r.status_code == 413


def test_chunked_body_over_limit_is_413(small_env: Env) -> None:
    def gen():  # noqa: ANN202 - a body with no Content-Length
        for _ in range(10):
            yield b"x" * 1000

    r = small_env.client.post(
        "/v1/chat/completions", headers={**small_env.auth(), "Content-Type": "application/json"}, content=gen()
    )
    assert r.status_code == 413


def test_audit_log_records_outcomes_without_secrets(env: Env) -> None:
    env.client.post(
        "/v1/chat/completions",
        headers=env.auth(),
        json={"model": "m", "messages": [{"role": "user", "content": "my secret plan"}]},
    )
    env.client.get("/v1/models", headers={"Authorization": "Bearer twin_sk_bad"})
    from twin.profiles import ProfileManager

    audit = env.client.app.state.twin.audit
    rows = audit.recent(ProfileManager(env.settings).get("alice"))
    assert rows[0]["route"] == "/v1/chat/completions" and rows[0]["status"] == 200 and rows[0]["outcome"] == "ok"
    assert rows[0]["key_id"] and rows[0]["ts"]
    denied = audit.recent(None)
    assert denied[0]["outcome"] == "denied" and denied[0]["key_id"] is None
    for db in env.settings.home.rglob("*.db*"):
        data = db.read_bytes()
        assert b"my secret plan" not in data, db
        assert env.alice.encode() not in data, db
        assert b"twin_sk_bad" not in data, db
