"""Small builders for ingest tests (exports written by the tests themselves)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import twin as twin_package

# The CLI in a subprocess runs the same twin sources as the tests (a checkout's src/, or site-packages).
SOURCES = str(Path(twin_package.__file__).resolve().parents[1])

CHAT = (
    "12/01/2024, 09:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, "
    "not even WhatsApp, can read or listen to them.\n"
    "12/01/2024, 09:16 - Priya: Are we still on for Saturday?\n"
    "12/01/2024, 09:17 - Thota Rao: Yes! Let's meet at the station at 10.\n"
    "It's the north entrance this time.\n"
    "13/01/2024, 18:02 - Priya: <Media omitted>\n"
    "13/01/2024, 18:03 - Thota Rao: This message was deleted\n"
    "14/01/2024, 07:45 - Priya: Running 5 minutes late, sorry\n"
)

EML = (
    "From: Thota Rao <thota@example.com>\n"
    "To: Dana Lee <dana@example.org>\n"
    "Subject: Q1 budget review\n"
    "Date: Mon, 15 Jan 2024 10:00:00 +0100\n"
    "Message-ID: <q1-budget@example.com>\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Hi Dana,\n\nThe numbers look fine to me. Let's keep the travel line as it is.\n\nThota\n"
)


def write_chat(folder: Path, name: str = "WhatsApp Chat with Priya.txt", text: str = CHAT) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cli_env(home: Path) -> dict[str, str]:
    shared = {"TWIN_CACHE": os.environ["TWIN_CACHE"]} if "TWIN_CACHE" in os.environ else {}
    return {"TWIN_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONUTF8": "1", "PYTHONPATH": SOURCES, **shared}


def twin(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (ingest may create the profile: these tests start from none)."""
    env = cli_env(home)
    if args and args[0] == "ingest":
        args = (*args, "--create")
    proc = subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"twin {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def twin_json(*args: str, home: Path, check: bool = True) -> dict:
    return json.loads(twin(*args, "--json", home=home, check=check).stdout)
