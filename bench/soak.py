"""Soak test of the always-on server, loopback only and bounded in time.

Starts the API under uvicorn in a child process (127.0.0.1, an ephemeral port, a temporary TWIN_HOME
with one profile and key, the fake LLM, the embedded Piper voice), then runs CLIENTS clients for
DURATION seconds, each looping over a mix of:
  generate     POST /api/tts/lora/generate (fake LLM)
  clone-hit    POST /api/tts/clone with one fixed text (the synthesizer's cache)
  clone-miss   POST /api/tts/clone with a new text each time (real synthesis)
  chat         POST /v1/chat/completions (fake LLM)
A 503 is a deliberate shed by admission control: the client waits its Retry-After and goes on.
The server's RSS is sampled every 2 s; "warm" is the sample at the end of the warm-up (--warmup, 60 s).

The peer, in the same run, is the same server with admission control effectively off (capacity and
queue of 10,000): what the server did before it had bounded queues.

    .venv/bin/python bench/soak.py [--duration 600] [--clients 50] [--json bench/results/soak.json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[1] / "src"
SERVER = """
import sys, uvicorn
from twin.api.config import ServerSettings
from twin.api.main import build_app
from twin.settings import load_settings
app = build_app(load_settings(), ServerSettings(llm_backend="fake"))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
KINDS = ("generate", "clone-hit", "clone-miss", "chat")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def setup(home: Path) -> str:
    env = {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC)}
    code = (
        "from twin.keys import KeyStore; from twin.profiles import ProfileManager; from twin.settings import "
        "load_settings as l; s=l(); ProfileManager(s).create('soak'); print(KeyStore(s).create('soak').secret)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def request_for(kind: str, n: int) -> tuple[str, dict[str, object]]:
    if kind == "generate":
        return "/api/tts/lora/generate", {"prompt": f"Thank Sam for the notes ({n % 50})."}
    if kind == "clone-hit":
        return "/api/tts/clone", {"text": "Hello from the soak test."}
    if kind == "clone-miss":
        return "/api/tts/clone", {"text": f"This is soak request number {n}, spoken fresh."}
    return "/v1/chat/completions", {"model": "twin", "messages": [{"role": "user", "content": f"hi {n % 50}"}]}


async def client(
    base: str, key: str, stop: float, counter: itertools.count, out: dict[str, dict[str, list[float] | int]]
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=180, trust_env=False) as http:
        while time.monotonic() < stop:
            n = next(counter)
            kind = KINDS[n % len(KINDS)]
            path, body = request_for(kind, n)
            start = time.perf_counter()
            try:
                resp = await http.post(path, json=body)
                status = resp.status_code
            except httpx.HTTPError:
                status = -1
            elapsed = time.perf_counter() - start
            stats = out[kind]
            if status == 200:
                stats["lat"].append(elapsed)  # type: ignore[union-attr]
            elif status == 503 and resp.headers.get("Retry-After"):
                stats["shed"] += 1  # type: ignore[operator]
                await asyncio.sleep(min(float(resp.headers["Retry-After"]), max(0.0, stop - time.monotonic())))
            else:
                stats["errors"] += 1  # type: ignore[operator]


async def sample_rss(pid: int, stop: float, samples: list[tuple[float, float]], t0: float) -> None:
    while time.monotonic() < stop:
        samples.append((time.monotonic() - t0, rss_mb(pid)))
        await asyncio.sleep(2.0)


async def soak(base: str, key: str, pid: int, duration: float, clients: int, warmup: float) -> dict[str, object]:
    out: dict[str, dict[str, list[float] | int]] = defaultdict(lambda: {"lat": [], "shed": 0, "errors": 0})
    t0 = time.monotonic()
    stop = t0 + duration
    samples: list[tuple[float, float]] = []
    counter = itertools.count()
    await asyncio.gather(
        sample_rss(pid, stop, samples, t0), *(client(base, key, stop, counter, out) for _ in range(clients))
    )
    samples.append((time.monotonic() - t0, rss_mb(pid)))
    warm = next((mb for t, mb in samples if t >= min(warmup, duration / 3)), samples[-1][1])
    rows = {}
    for kind in KINDS:
        lat = list(out[kind]["lat"])  # type: ignore[arg-type]
        rows[kind] = {
            "ok": len(lat),
            "errors": out[kind]["errors"],
            "shed_503": out[kind]["shed"],
            "p50_s": round(pct(lat, 0.5), 3),
            "p99_s": round(pct(lat, 0.99), 3),
            "req_per_s": round(len(lat) / duration, 2),
        }
    return {
        "kinds": rows,
        "rss_start_mb": round(samples[0][1], 1),
        "rss_warm_mb": round(warm, 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_end_over_warm": round(samples[-1][1] / warm, 3),
        "rss_max_mb": round(max(mb for _, mb in samples), 1),
    }


def run_server(
    label: str, env_extra: dict[str, str], duration: float, clients: int, warmup: float
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="twin-soak-") as tmp:
        home = Path(tmp)
        key = setup(home)
        port = free_port()
        env = {**os.environ, "TWIN_HOME": str(home), "PYTHONPATH": str(SRC), **env_extra}
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/api/health", timeout=1, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            headers = {"Authorization": f"Bearer {key}"}
            httpx.post(
                base + "/api/tts/clone", json={"text": "Warm up."}, headers=headers, timeout=300, trust_env=False
            )
            result = asyncio.run(soak(base, key, proc.pid, duration, clients, warmup))
        finally:
            proc.terminate()
            proc.wait(30)
    return {"config": label, **result}


def table(results: list[dict[str, object]]) -> str:
    head = f"{'config':<22} {'kind':<11} {'ok':>6} {'err':>4} {'503':>5} {'p50 s':>7} {'p99 s':>7} {'req/s':>6}"
    lines = [head, "-" * len(head)]
    for res in results:
        for kind, row in res["kinds"].items():  # type: ignore[union-attr]
            lines.append(
                f"{res['config']:<22} {kind:<11} {row['ok']:>6} {row['errors']:>4} {row['shed_503']:>5} "
                f"{row['p50_s']:>7} {row['p99_s']:>7} {row['req_per_s']:>6}"
            )
        lines.append(
            f"{'':<22} RSS start {res['rss_start_mb']} MB, after warm-up {res['rss_warm_mb']} MB, "
            f"end {res['rss_end_mb']} MB (end/warm {res['rss_end_over_warm']}x, max {res['rss_max_mb']} MB)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds per configuration")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the 'after warm-up' RSS sample")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "soak.json")
    parser.add_argument("--no-peer", action="store_true", help="skip the run without admission control")
    args = parser.parse_args()
    configs = [("twin (bounded queues)", {})]
    if not args.no_peer:
        unbounded = {
            "TWIN_SERVER_MAX_CONCURRENT_SYNTHESIS": "10000",
            "TWIN_SERVER_MAX_QUEUED_SYNTHESIS": "10000",
            "TWIN_SERVER_MAX_CONCURRENT_GENERATION": "10000",
            "TWIN_SERVER_MAX_QUEUED_GENERATION": "10000",
        }
        configs.append(("peer: no admission", unbounded))
    results = [run_server(label, extra, args.duration, args.clients, args.warmup) for label, extra in configs]
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {"duration_s": args.duration, "clients": args.clients, "warmup_s": args.warmup, "cpus": os.cpu_count()}
    args.json.write_text(json.dumps({**meta, "results": results}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
