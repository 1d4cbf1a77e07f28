from __future__ import annotations

import json

from typer.testing import CliRunner

from twin.cli.main import app

from .helpers import chat_corpus, insert

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_build_list_show_review_json(profile, tmp_path):
    insert(profile, chat_corpus(8, 8))
    cfg = tmp_path / "d.yaml"
    cfg.write_text("refuse_below: 10\nval_fraction: 0.25\n")
    r = invoke("dataset", "build", "-p", "me", "--name", "first", "--config", str(cfg), "--json")
    assert r.exit_code == 0, r.output
    built = json.loads(r.stdout)
    assert built["samples"]["total"] == 64 and built["path"].endswith("datasets/first")

    listed = json.loads(invoke("dataset", "list", "-p", "me", "--json").stdout)
    assert [d["name"] for d in listed] == ["first"]
    shown = json.loads(invoke("dataset", "show", "first", "-p", "me", "--json").stdout)
    assert shown["samples"] == built["samples"]

    page = json.loads(
        invoke("dataset", "review", "first", "-p", "me", "--status", "train", "--limit", "2", "--json").stdout
    )
    assert len(page["items"]) == 2 and page["total"] == built["samples"]["train"]
    sid = page["items"][0]["id"]
    r = invoke("dataset", "review", "first", "-p", "me", "--drop", sid, "--reason", "private", "--rebuild", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["changed"] == [{"id": sid, "dropped": True, "reason": "private"}]
    assert out["report"]["samples"]["total"] == 63
    dropped = json.loads(invoke("dataset", "review", "first", "-p", "me", "--status", "dropped", "--json").stdout)
    assert [i["id"] for i in dropped["items"]] == [sid]
    r = invoke("dataset", "review", "first", "-p", "me", "--restore", sid, "--rebuild", "--json")
    assert json.loads(r.stdout)["report"]["samples"]["total"] == 64


def test_errors_are_rendered(profile, tmp_path):
    r = invoke("dataset", "show", "nope", "-p", "me", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["error"]["code"] == "not_found"
    insert(profile, chat_corpus(2, 3))
    r = invoke("dataset", "build", "-p", "me", "--json")
    assert r.exit_code == 2 and "--force" in json.loads(r.stdout)["error"]["hint"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("min_chars: -3\nunknown_key: 1\n")
    r = invoke("dataset", "build", "-p", "me", "--config", str(bad))
    assert r.exit_code == 2 and "Invalid dataset config" in r.output
    r = invoke("dataset", "build", "-p", "me", "--force")
    assert r.exit_code == 0 and "Built dataset" in r.output
    r = invoke("dataset", "review", "-p", "me", "--drop", "xyz")
    assert r.exit_code == 2 and "not a sample id" in r.output


def test_build_states_the_minimum_and_review_shows_redactions(profile):
    from .test_build import mixed_rows

    insert(profile, mixed_rows())
    r = invoke("dataset", "build", "-p", "me", "--force")
    assert r.exit_code == 0, r.output
    assert "Training needs at least 50 samples" in r.stderr and "dataset: pairing" in r.stderr
    r = invoke("dataset", "review", "-p", "me", "--redactions", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["counts"]["PHONE"] >= 1
    assert any("<PHONE_1>" in ex["after"] and "7946 0958" in ex["before"] for ex in data["examples"]["PHONE"])
    r = invoke("dataset", "review", "-p", "me", "--redactions")
    assert r.exit_code == 0 and "<PHONE_1>" in r.stdout
