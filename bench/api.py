"""API server benchmark, loopback only and bounded.

Starts `twin`'s app under uvicorn in a child process (127.0.0.1, ephemeral port, a temporary
TWIN_HOME with one profile and key, the fake LLM), then runs CONCURRENCY clients for DURATION
seconds on each scenario:
  clone-hit   POST /api/tts/clone with one text (served from the synthesizer's cache)
  clone-miss  POST /api/tts/clone with a new text each time (real Piper synthesis)
  generate    POST /api/tts/lora/generate with the fake LLM
and reports p50/p99 latency, throughput, errors and the server's RSS before/after. The peer for
"route overhead" is the same service called in-process (no HTTP): single client, sequential.

    .venv/bin/python bench/api.py [--duration 60] [--concurrency 50] [--json bench/results/api.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SERVER = """
import os, sys, uvicorn
from twin.api.config import ServerSettings
from twin.api.main import build_app
from twin.settings import load_settings
app = build_app(load_settings(), ServerSettings(llm_backend="fake", audit=True))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def run_load(url: str, key: str, make_body, duration: float, concurrency: int) -> dict:  # noqa: ANN001
    lat: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + duration
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": "Bearer " + key}, limits=limits, timeout=120
    ) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                path, body = make_body(next(counter))
                t0 = time.perf_counter()
                try:
                    r = await client.post(path, json=body)
                    ok = r.status_code == 200 and len(r.content) > 0
                    if not ok:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                if ok:
                    lat.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(lat) + sum(errors.values()),
        "ok": len(lat),
        "errors": errors,
        "p50_ms": pct(lat, 0.5) * 1000,
        "p99_ms": pct(lat, 0.99) * 1000,
        "rps": len(lat) / elapsed,
    }


async def sequential(url: str, key: str, path: str, body: dict, n: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": "Bearer " + key}, timeout=120) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            r = await client.post(path, json=body)
            r.raise_for_status()
            out.append(time.perf_counter() - t0)
    return out


async def direct(home: Path, n: int) -> dict[str, list[float]]:
    """The peer: the same services called in-process, no HTTP."""
    from twin.api.config import ServerSettings
    from twin.api.services import Services
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    settings = load_settings(home=home)
    services = Services(settings, ServerSettings(llm_backend="fake"))
    profile = ProfileManager(settings).get("bench")
    gen, clone = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        await services.draft(profile, "Tell Sam yes to the hike on Saturday morning", None, None, None)
        gen.append(time.perf_counter() - t0)
    await services.synthesize(profile, "This sentence is always cached.", None, None, None, "wav")
    for _ in range(n):
        t0 = time.perf_counter()
        await services.synthesize(profile, "This sentence is always cached.", None, None, None, "wav")
        clone.append(time.perf_counter() - t0)
    return {"generate": gen, "clone-hit": clone}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--json", type=Path, default=Path("bench/results/api.json"))
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    os.environ["TWIN_HOME"] = str(home)
    from twin.keys import KeyStore
    from twin.profiles import ProfileManager
    from twin.settings import load_settings

    settings = load_settings()
    ProfileManager(settings).create("bench")
    key = KeyStore(settings).create("bench").secret
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env={**os.environ, "TWIN_HOME": str(home)})
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        hit = {"text": "This sentence is always cached.", "format": "wav"}
        gen = {"prompt": "Tell Sam yes to the hike on Saturday morning"}
        # Warm up: load Piper, fill the cache entry, load the fake LLM.
        asyncio.run(sequential(url, key, "/api/tts/clone", hit, 3))
        asyncio.run(sequential(url, key, "/api/tts/lora/generate", gen, 3))
        rss_before = rss_mb(proc.pid)
        scenarios = {
            "clone-hit": lambda i: ("/api/tts/clone", hit),
            "clone-miss": lambda i: ("/api/tts/clone", {"text": f"Request number {i} of the run.", "format": "wav"}),
            "generate": lambda i: ("/api/tts/lora/generate", gen),
        }
        results = {}
        for name, make in scenarios.items():
            results[name] = asyncio.run(run_load(url, key, make, args.duration, args.concurrency))
            results[name]["rss_after_mb"] = rss_mb(proc.pid)
            print(f"{name}: done", file=sys.stderr)
        rss_after = rss_mb(proc.pid)
        n = 200
        via_http = {
            "generate": asyncio.run(sequential(url, key, "/api/tts/lora/generate", gen, n)),
            "clone-hit": asyncio.run(sequential(url, key, "/api/tts/clone", hit, n)),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    peer = asyncio.run(direct(home, n))
    overhead = {
        k: {"http_p50_ms": statistics.median(via_http[k]) * 1000, "direct_p50_ms": statistics.median(peer[k]) * 1000}
        for k in via_http
    }
    for v in overhead.values():
        v["overhead_ms"] = v["http_p50_ms"] - v["direct_p50_ms"]
        v["ratio"] = v["http_p50_ms"] / v["direct_p50_ms"] if v["direct_p50_ms"] else float("nan")
    report = {
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "scenarios": results,
        "overhead": overhead,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(f"\n{args.concurrency} clients x {args.duration:.0f} s per scenario, loopback, {os.cpu_count()} CPUs")
    print(f"{'scenario':<12}{'ok':>8}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>9}{'RSS MB':>9}")
    for name, r in results.items():
        print(
            f"{name:<12}{r['ok']:>8}{sum(r['errors'].values()):>8}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}"
            f"{r['rps']:>9.1f}{r['rss_after_mb']:>9.1f}"
        )
    print(f"server RSS before {rss_before:.1f} MB, after {rss_after:.1f} MB")
    print(f"\n{'route (1 client)':<18}{'HTTP p50 ms':>12}{'direct p50 ms':>15}{'overhead ms':>13}{'ratio':>8}")
    for name, v in overhead.items():
        print(
            f"{name:<18}{v['http_p50_ms']:>12.2f}{v['direct_p50_ms']:>15.2f}{v['overhead_ms']:>13.2f}{v['ratio']:>8.2f}"
        )


if __name__ == "__main__":
    main()
