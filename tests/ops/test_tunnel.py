"""Tunnel configs expose only the authenticated API on loopback, and need a key first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from twin.cli.main import app
from twin.cli.serve import check_bind

runner = CliRunner()


def _key() -> None:
    assert runner.invoke(app, ["profile", "create", "me"]).exit_code == 0
    assert runner.invoke(app, ["keys", "create", "--profile", "me", "--json"]).exit_code == 0


def test_refused_without_a_key(tmp_path: Path) -> None:
    res = runner.invoke(app, ["tunnel", "config", "tailscale", "--json"])
    assert res.exit_code == 2
    assert "twin keys create" in json.loads(res.stdout)["error"]["hint"]
    res = runner.invoke(
        app, ["tunnel", "config", "cloudflared", "--hostname", "t.example.com", "--out", str(tmp_path / "c.yml")]
    )
    assert res.exit_code == 2 and not (tmp_path / "c.yml").exists()


def test_cloudflared_ingress_maps_one_hostname_to_loopback(tmp_path: Path) -> None:
    _key()
    out = tmp_path / "cf" / "config.yml"
    res = runner.invoke(
        app,
        [
            "tunnel",
            "config",
            "cloudflared",
            "--hostname",
            "Twin.Example.com",
            "--tunnel",
            "home",
            "--out",
            str(out),
            "--port",
            "3100",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    cfg = yaml.safe_load(out.read_text())
    assert cfg["tunnel"] == "home"
    assert cfg["ingress"] == [
        {"hostname": "twin.example.com", "service": "http://127.0.0.1:3100"},
        {"service": "http_status:404"},
    ]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert data["allowed_host"] == "twin.example.com"
    assert "twin serve --allowed-host twin.example.com" in data["commands"]


@pytest.mark.parametrize("bad", ["localhost:3000", "http://x.com", "a b.com", "-x.com", "x.com/../etc"])
def test_cloudflared_refuses_odd_hostnames(bad: str, tmp_path: Path) -> None:
    _key()
    res = runner.invoke(
        app, ["tunnel", "config", "cloudflared", "--hostname", bad, "--out", str(tmp_path / "c.yml"), "--json"]
    )
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["code"] == "invalid_input"


def test_tailscale_serves_the_tailnet_not_the_internet() -> None:
    _key()
    res = runner.invoke(app, ["tunnel", "config", "tailscale", "--json"])
    data = json.loads(res.stdout)
    assert data["commands"][0] == "tailscale serve --bg --https=443 http://127.0.0.1:3000"
    assert not any("funnel" in c for c in data["commands"])


def test_expose_keeps_its_warning_and_needs_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from twin.errors import InvalidInput

    with pytest.raises(InvalidInput):
        check_bind("0.0.0.0", expose=False)
    assert check_bind("127.0.0.1", expose=False) is True
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, host, **_kw: started.append(host))
    res = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--expose", "--no-demo"])
    assert res.exit_code == 0, res.output
    assert started == ["0.0.0.0"]
    assert "warning" in res.output and "other machines can reach" in res.output
