"""Benchmark the write path: first-token latency and tokens/s.

1. embedded: `twin write`'s path (WritingService → llamacpp backend → cleanup) vs llama-cpp-python's
   create_chat_completion called directly on the same loaded model, same messages and settings.
2. openai: the openai provider against `python -m llama_cpp.server` vs the `openai` SDK directly.

Runs alternate between the two sides of each pair; medians are reported with ratios (twin / peer:
first-token ratio above 1 and tokens/s ratio below 1 mean overhead). Writes bench/results/write.json.
Usage: python bench/write.py [--runs 5] [--max-tokens 48]"""

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

from twin.providers import registry
from twin.providers.llm import LLMOptions, TextDelta
from twin.writing import WritingService, WritingSettings

PROMPT = "Draft a reply to my colleague thanking them for their help with the release."


def _stats(first: float, end: float, n: int) -> dict[str, float]:
    return {"first_token_s": first, "tokens_per_s": (n - 1) / (end - first) if n > 1 else 0.0}


def run_twin(svc: WritingService, opts: LLMOptions) -> dict[str, float]:
    async def go() -> dict[str, float]:
        start, first, n = time.perf_counter(), None, 0
        async for item in svc.stream_draft(PROMPT, None, opts):
            if isinstance(item, TextDelta) and first is None:
                first = time.perf_counter() - start
            elif not isinstance(item, TextDelta):
                n = item.usage.completion_tokens
                res = _stats(first if first is not None else 0.0, time.perf_counter() - start, n)
                res["tokens"] = n
                return res
        raise RuntimeError("no result")

    return asyncio.run(go())


def run_direct_llama(llama, messages: list[dict], opts: LLMOptions) -> dict[str, float]:
    start, first, n = time.perf_counter(), None, 0
    for chunk in llama.create_chat_completion(
        messages=messages,
        stream=True,
        max_tokens=opts.max_tokens,
        temperature=opts.temperature,
        top_p=opts.top_p,
        seed=opts.seed,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            n += 1
            if first is None:
                first = time.perf_counter() - start
    res = _stats(first or 0.0, time.perf_counter() - start, n)
    res["tokens"] = n
    return res


def run_provider(llm, messages: list[dict], opts: LLMOptions) -> dict[str, float]:
    async def go() -> dict[str, float]:
        start, first, n = time.perf_counter(), None, 0
        async for item in llm.stream_chat(messages, opts):
            if isinstance(item, TextDelta):  # one per SSE content chunk, counted like the SDK side
                n += 1
                first = first if first is not None else time.perf_counter() - start
            else:
                res = _stats(first or 0.0, time.perf_counter() - start, n)
                res["tokens"] = n
                return res
        raise RuntimeError("no result")

    return asyncio.run(go())


def run_sdk(client, model: str, messages: list[dict], opts: LLMOptions) -> dict[str, float]:
    start, first, n = time.perf_counter(), None, 0
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        stream=True,
        max_tokens=opts.max_tokens,
        temperature=opts.temperature,
        top_p=opts.top_p,
        seed=opts.seed,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            n += 1
            first = first if first is not None else time.perf_counter() - start
    res = _stats(first or 0.0, time.perf_counter() - start, n)
    res["tokens"] = n
    return res


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def pair(name: str, a: tuple[str, callable], b: tuple[str, callable], runs: int) -> dict:
    a[1](), b[1]()  # warm-up
    ra, rb = [], []
    for _ in range(runs):
        ra.append(a[1]())
        rb.append(b[1]())
    out = {"pair": name, "twin": a[0], "peer": b[0], "runs": runs}
    for side, rows in (("twin", ra), ("peer", rb)):
        out[side + "_first_token_s"] = median(rows, "first_token_s")
        out[side + "_tokens_per_s"] = median(rows, "tokens_per_s")
        out[side + "_tokens"] = median(rows, "tokens")
    out["first_token_ratio"] = out["twin_first_token_s"] / out["peer_first_token_s"]
    out["tokens_per_s_ratio"] = out["twin_tokens_per_s"] / out["peer_tokens_per_s"]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_path: Path, n_threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="llama_server_", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            str(n_threads),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            if httpx.get(base + "/models", timeout=1, trust_env=False).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited; see {log.name}")
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("llama_cpp.server did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--skip-server", action="store_true")
    args = ap.parse_args()
    opts = LLMOptions(max_tokens=args.max_tokens, temperature=0.0, seed=1)

    llm = registry.create("llm", "llamacpp")
    raw = WritingService(None, WritingSettings(exemplars=0, clean=False), llm=llm)
    svc = WritingService(None, WritingSettings(exemplars=0), llm=llm)
    messages = [m.model_dump() for m in svc.messages(PROMPT)[0]]
    direct = ("llama-cpp-python direct", lambda: run_direct_llama(llm.llama, messages, opts))
    # The path's own overhead (cleanup off), then as `twin write` runs it: the cleaner holds back a
    # preamble such as "Here's a possible response:", so the first *visible* token comes later.
    results = [
        pair("embedded", ("twin write path, raw stream", lambda: run_twin(raw, opts)), direct, args.runs),
        pair("cleaned", ("twin write, first visible", lambda: run_twin(svc, opts)), direct, args.runs),
    ]

    if not args.skip_server:
        import openai

        proc, base = start_server(llm.model_path, llm.n_threads)
        try:
            prov = registry.create("llm", "openai", base_url=base)
            asyncio.run(prov.load())
            client = openai.OpenAI(base_url=base, api_key="none", max_retries=0)
            results.append(
                pair(
                    "openai",
                    ("twin openai provider", lambda: run_provider(prov, messages, opts)),
                    ("openai SDK", lambda: run_sdk(client, prov.model, messages, opts)),
                    args.runs,
                )
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(
        f"\nwrite benchmark: max_tokens={args.max_tokens}, greedy, {args.runs} runs each (medians), "
        f"{os.cpu_count()} CPUs\n"
    )
    print(f"{'pair':9} {'side':30} {'first token s':>13} {'tok/s':>8} {'tokens':>6}")
    for r in results:
        for side in ("twin", "peer"):
            print(
                f"{r['pair']:9} {r[side]:30} {r[side + '_first_token_s']:13.3f} "
                f"{r[side + '_tokens_per_s']:8.1f} {r[side + '_tokens']:6.0f}"
            )
        print(f"{'':9} {'ratio twin/peer':30} {r['first_token_ratio']:13.3f} {r['tokens_per_s_ratio']:8.3f}")
    out = Path(__file__).parent / "results" / "write.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"max_tokens": args.max_tokens, "results": results}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
