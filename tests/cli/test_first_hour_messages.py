"""Messages a new user met in the first hour: each says what is wrong and what to run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin.cli.common import render_error
from twin.cli.main import app
from twin.errors import MissingDependency
from twin.profiles import ProfileManager
from twin.settings import load_settings

runner = CliRunner()


@pytest.fixture
def me(twin_home: Path) -> str:
    ProfileManager(load_settings()).create("me")
    return "me"


def test_hints_with_brackets_are_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    render_error(MissingDependency.for_extra("Reading .pst files", "outlook", "pypff"), as_json=False)
    assert "pip install 'twin[outlook]'" in capsys.readouterr().err


def test_pst_without_libpff_names_the_outlook_extra(me: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypff", None)  # as on a machine without the outlook extra
    pst = tmp_path / "mailbox.pst"
    pst.write_bytes(b"!BDN" + b"\0" * 512)
    result = runner.invoke(app, ["ingest", str(pst), "--profile", me])
    assert "pip install 'twin[outlook]'" in " ".join(result.stderr.split())


def test_an_empty_file_is_called_empty(me: str, tmp_path: Path) -> None:
    empty = tmp_path / "WhatsApp Chat with Sam.txt"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(empty), "--profile", me, "--json"])
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)["files"]
    assert "is empty" in entry["error"] and "not a format" not in entry["error"]


def test_voice_prepare_with_nothing_imported_fails_and_says_import_first(me: str) -> None:
    result = runner.invoke(app, ["voice", "prepare", "--profile", me, "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "no recordings" in error["message"] and error["hint"].startswith(
        "Import recordings first: twin voice import"
    )
