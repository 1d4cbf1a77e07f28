"""twin doctor: the JSON shape, each finding with a fix, failures that --strict turns into exit 1, and
the corrupt-database path that points at the latest backup. Nothing here reaches beyond loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ops import doctor
from twin.ops.doctor_runtime import check_egress, check_engines
from twin.ops.egress import no_egress
from twin.ops.egress_trace import strace_usable
from twin.profiles import ProfileManager
from twin.settings import load_settings

runner = CliRunner()


def _doctor(*args: str) -> tuple[int, dict[str, dict[str, str]]]:
    res = runner.invoke(app, ["doctor", "--no-egress", "--json", *args])
    data = json.loads(res.stdout)
    checks = data["checks"]
    for c in checks:
        assert set(c) == {"name", "status", "detail", "fix"} and c["status"] in ("ok", "warn", "fail")
        assert c["status"] == "ok" or c["fix"], c  # every finding says how to fix it
    return res.exit_code, {c["name"]: c for c in checks}


@pytest.fixture
def me() -> Iterator[None]:
    assert runner.invoke(app, ["profile", "create", "me"]).exit_code == 0
    assert runner.invoke(app, ["keys", "create", "--profile", "me"]).exit_code == 0
    yield


def test_fresh_install_has_no_failures(me: None) -> None:
    code, checks = _doctor("--strict")
    assert code == 0, [c for c in checks.values() if c["status"] == "fail"]
    for name in ("versions", "bind", "keys", "permissions", "disk_encryption", "disk_space", "models", "databases"):
        assert name in checks
    assert checks["keys"]["status"] == "ok" and checks["permissions"]["status"] == "ok"


def test_loose_permissions_fail_with_the_chmod_fix(me: None) -> None:
    home = load_settings().home
    leaked = home / "profiles" / "me" / "datasets" / "notes.txt"
    leaked.write_text("private")
    leaked.chmod(0o644)
    (home / "keys.db").chmod(0o644)
    code, checks = _doctor("--strict")
    assert code == 1
    assert checks["permissions"]["status"] == "fail" and "go-rwx" in checks["permissions"]["fix"]
    assert "notes.txt" in checks["permissions"]["detail"]
    assert checks["keys_file"]["status"] == "fail"
    code, _ = _doctor()
    assert code == 0  # without --strict a failure is reported, not an exit status


def test_corrupt_database_gives_a_clear_error_and_doctor_names_the_backup(me: None, tmp_path: Path) -> None:
    backup_file = tmp_path / "me.twinbak"
    assert runner.invoke(app, ["backup", "create", "--profile", "me", "--out", str(backup_file)]).exit_code == 0
    db = ProfileManager(load_settings()).get("me").db_path
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not an sqlite file at all" * 100)
    res = runner.invoke(app, ["messages", "stats", "--profile", "me", "--json"])
    assert res.exit_code == 2
    error = json.loads(res.stdout)["error"]
    assert error["code"] == "database_corrupt" and "twin doctor" in error["hint"]
    code, checks = _doctor("--strict")
    assert code == 1
    found = checks["database:me"]
    assert found["status"] == "fail" and str(backup_file) in found["fix"] and "twin backup restore" in found["fix"]
    restored = runner.invoke(app, ["backup", "restore", str(backup_file), "--profile", "me-restored"])
    assert restored.exit_code == 0, restored.output


def test_network_exposure_is_a_failure(me: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as wide, socket.socket() as narrow:
        wide.bind(("0.0.0.0", 0))
        wide.listen()
        narrow.bind(("127.0.0.1", 0))
        narrow.listen()
        monkeypatch.setattr(doctor, "PORTS", {"server": wide.getsockname()[1], "tts": narrow.getsockname()[1]})
        checks = {c.name: c for c in doctor.check_exposure(load_settings())}
    if checks["bind"].detail.startswith("Cannot list"):
        pytest.skip("listening sockets cannot be listed here")
    assert checks["bind"].status == "fail" and "0.0.0.0" in checks["bind"].detail
    assert checks["tts_bind"].status == "ok"
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:11434")
    assert any(c.name == "ollama_bind" and c.status == "fail" for c in doctor.check_exposure(load_settings()))


def test_engine_url_outside_the_machine_fails_without_being_contacted(me: None) -> None:
    profile = ProfileManager(load_settings()).get("me")
    (profile.root / "llm.json").write_text(json.dumps({"backend": "ollama", "ollama_url": "http://203.0.113.7:11434"}))
    with no_egress() as attempts:
        checks = check_engines(load_settings())
    assert attempts == []
    llm = next(c for c in checks if c.name == "llm:me")
    assert llm.status == "fail" and "203.0.113.7" in llm.detail


def test_engine_on_loopback_that_is_down_is_a_warning(me: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profile = ProfileManager(load_settings()).get("me")
    (profile.root / "llm.json").write_text(json.dumps({"backend": "ollama", "ollama_url": f"http://127.0.0.1:{port}"}))
    llm = next(c for c in check_engines(load_settings()) if c.name == "llm:me")
    assert llm.status == "warn" and "does not answer" in llm.detail


@pytest.mark.skipif(not strace_usable(), reason="strace is not installed or may not trace here")
def test_egress_self_check_runs_a_draft_and_a_synthesis() -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("piper")
    [check] = check_egress(load_settings())
    assert check.status == "ok", check
