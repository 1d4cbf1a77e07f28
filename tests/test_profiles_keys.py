"""Profiles carry a unique id and API keys are bound to it: a key never outlives its profile, whatever name
a later profile gets; safe profile names; keys listed across profiles."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.errors import InvalidInput, Unauthorized
from twin.ids import check_id, check_name, new_id
from twin.keys import REVOKED_PROFILE_GONE, KeyStore
from twin.profiles import ProfileManager
from twin.settings import load_settings

runner = CliRunner()

# keys.db as the first release wrote it: no profile_id, no revoked_reason, user_version 0.
_OLD_SCHEMA = """
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, profile TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL, created TEXT NOT NULL, last_used TEXT, revoked TEXT
);
"""


def cli(*args: str) -> dict | list:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_deleted_profile_keeps_no_working_key_even_under_the_same_name() -> None:
    cli("profile", "create", "carol")
    old = cli("keys", "create", "--profile", "carol")
    cli("profile", "delete", "carol", "--yes")
    cli("profile", "create", "carol")
    store = KeyStore(load_settings())
    with pytest.raises(Unauthorized):
        store.verify(old["key"])
    listed = {k["id"]: k for k in cli("keys", "list", "--profile", "carol")}
    assert listed[old["id"]]["active"] is False
    assert listed[old["id"]]["revoked_reason"] == REVOKED_PROFILE_GONE
    new = cli("keys", "create", "--profile", "carol")
    assert store.verify(new["key"]).profile_id == ProfileManager(load_settings()).get("carol").uid
    assert new["profile_id"] != old["profile_id"]


def test_a_profile_removed_by_hand_and_recreated_does_not_revive_its_keys(twin_home: Path) -> None:
    settings = load_settings()
    pm = ProfileManager(settings)
    pm.create("dave")
    store = KeyStore(settings)
    secret = store.create("dave").secret
    pm.delete("dave")  # no key revocation on this path: the id binding alone must refuse the key
    pm.create("dave")
    with pytest.raises(Unauthorized):
        store.verify(secret)
    assert [k.active for k in store.list("dave")] == [False]


def test_the_api_refuses_the_old_key_of_a_recreated_profile(twin_home: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from twin.api.config import ServerSettings
    from twin.api.main import build_app

    settings = load_settings()
    pm = ProfileManager(settings)
    pm.create("erin")
    keys = KeyStore(settings)
    secret = keys.create("erin").secret
    keys.close()
    with TestClient(build_app(settings, ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/voice", headers=headers).status_code == 200
        pm.delete("erin")
        pm.create("erin")
        refused = client.get("/api/voice", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def _old_keys_db(home: Path, rows: list[tuple[str, str, str]]) -> None:
    """keys.db of the first release with (profile, secret, created) rows."""
    from twin.keys import hash_key

    conn = sqlite3.connect(home / "keys.db")
    conn.executescript(_OLD_SCHEMA)
    for profile, secret, created in rows:
        conn.execute(
            "INSERT INTO api_keys (id, profile, key_hash, hint, created) VALUES (?,?,?,?,?)",
            (new_id(), profile, hash_key(secret), secret[:12], created),
        )
    conn.commit()
    conn.close()


def _strip_id(settings_home: Path, name: str, created: str) -> None:
    path = settings_home / "profiles" / name / "profile.json"
    data = json.loads(path.read_text())
    data.pop("id")
    data["created"] = created
    path.write_text(json.dumps(data))


def test_keys_from_before_profile_ids_keep_working_for_their_profile_only(twin_home: Path) -> None:
    settings = load_settings()
    pm = ProfileManager(settings)
    pm.create("alice")
    pm.create("bob")
    _strip_id(twin_home, "alice", "2026-01-01T10:00:00+00:00")
    _strip_id(twin_home, "bob", "2026-03-01T10:00:00+00:00")
    good, gone, older = "twin_sk_" + "a" * 43, "twin_sk_" + "b" * 43, "twin_sk_" + "c" * 43
    _old_keys_db(
        twin_home,
        [
            ("alice", good, "2026-02-01T09:00:00+00:00"),
            ("zed", gone, "2026-02-01T09:00:00+00:00"),  # its profile no longer exists
            ("bob", older, "2026-02-01T09:00:00+00:00"),  # made before today's bob: an earlier bob's key
        ],
    )
    store = KeyStore(settings)
    alice_id = pm.get("alice").uid
    check_id(alice_id, "profile id")
    assert store.verify(good).profile_id == alice_id
    for secret in (gone, older):
        with pytest.raises(Unauthorized):
            store.verify(secret)
    assert {k.profile: k.active for k in store.list()} == {"alice": True, "zed": False, "bob": False}
    pm.delete("alice")
    pm.create("alice")
    with pytest.raises(Unauthorized):
        store.verify(good)


def test_profile_ids_are_added_once_to_old_profiles(twin_home: Path) -> None:
    pm = ProfileManager(load_settings())
    pm.create("old")
    _strip_id(twin_home, "old", "2026-01-01T10:00:00+00:00")
    first = pm.get("old").uid
    assert check_id(first) == first and pm.get("old").uid == first == pm.list()[0].uid


def test_keys_list_without_a_profile_shows_every_profile() -> None:
    for name in ("alice", "bob"):
        cli("profile", "create", name)
        cli("keys", "create", "--profile", name)
    assert sorted(k["profile"] for k in cli("keys", "list")) == ["alice", "bob"]
    table = runner.invoke(app, ["keys", "list"])
    assert table.exit_code == 0 and "alice" in table.stdout and "bob" in table.stdout


@pytest.mark.parametrize("bad", ["evil\n", "evil\r\n", "Evil", "", "a/b", "x" * 64, "_x"])
def test_unsafe_names_are_refused(bad: str, twin_home: Path) -> None:
    with pytest.raises(InvalidInput):
        check_name(bad)
    result = runner.invoke(app, ["profile", "create", bad, "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["code"] == "invalid_input"
    assert not (twin_home / "profiles").exists() or list((twin_home / "profiles").iterdir()) == []


def test_ids_with_a_trailing_newline_are_refused() -> None:
    good = new_id()
    assert check_id(good) == good
    with pytest.raises(InvalidInput):
        check_id(good + "\n")
