"""Native libraries are switched offline before they load, whichever way twin is entered."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twin.offline_env import OFFLINE_ENV

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="needs the voice extra")
def test_backends_load_onnxruntime_without_its_telemetry_queue(tmp_path: Path) -> None:
    done = _run(
        "import os; from twin.backends.onnx_runtime import onnxruntime; ort = onnxruntime(); "
        "print(os.environ['ORT_DISABLE_TELEMETRY'], ort.__name__)",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "onnxruntime"]
    assert not (tmp_path / ".cache" / "Microsoft").exists()


def test_cli_entry_point_sets_the_offline_environment(tmp_path: Path) -> None:
    names = sorted(OFFLINE_ENV)
    code = (
        "import os, sys; from twin.cli.main import run; sys.argv = ['twin', '--version']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(k for k in sorted(os.environ) if k in {names!r}))"
    )
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].split(",") == sorted(OFFLINE_ENV)
