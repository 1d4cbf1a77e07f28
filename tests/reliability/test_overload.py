"""Overload: synthesis and generation run behind bounded gates; beyond capacity the API answers 503 with
Retry-After at once instead of queueing forever, and admitted requests still complete."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")

from reliability import engines  # noqa: E402
from twin.api.config import ServerSettings  # noqa: E402
from twin.api.main import build_app  # noqa: E402
from twin.api.services.admission import Gate, Overloaded  # noqa: E402
from twin.keys import KeyStore  # noqa: E402
from twin.profiles import ProfileManager  # noqa: E402
from twin.providers import registry  # noqa: E402
from twin.settings import load_settings  # noqa: E402
from twin.voice.synth.engine_loop import reset_backends  # noqa: E402


def test_gate_refuses_beyond_capacity_plus_queue() -> None:
    async def main() -> None:
        gate = Gate("speech", capacity=1, queue=1, wait_s=5)
        await gate.acquire()
        waiter = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        with pytest.raises(Overloaded) as info:
            await gate.acquire()
        assert info.value.http_status == 503 and 1 <= info.value.retry_after_s <= 120
        gate.release(0.5)
        await asyncio.wait_for(waiter, 1)  # the queued one got the slot
        stats = gate.stats()
        assert (stats.active, stats.waiting, stats.admitted, stats.shed) == (1, 0, 2, 1)
        gate.release()
        assert gate.stats().active == 0

    asyncio.run(main())


def test_gate_wait_times_out_and_cancelled_waiters_leak_nothing() -> None:
    async def main() -> None:
        gate = Gate("speech", capacity=1, queue=4, wait_s=0.05)
        await gate.acquire()
        with pytest.raises(Overloaded):
            await gate.acquire()  # waited 50 ms, then refused
        cancelled = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0.01)
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        gate.release()
        assert gate.stats().active == 0 and gate.stats().waiting == 0
        async with gate.slot():
            assert gate.stats().active == 1
        assert gate.stats().active == 0

    asyncio.run(main())


def test_gate_serves_waiters_from_other_event_loops() -> None:
    gate = Gate("speech", capacity=1, queue=8, wait_s=5)
    done: list[int] = []

    def worker(i: int) -> None:
        async def go() -> None:
            async with gate.slot():
                await asyncio.sleep(0.01)
                done.append(i)

        asyncio.run(go())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(done) == list(range(6)) and gate.stats().active == 0


@pytest.fixture
def slow_app(twin_home: Path) -> Iterator[tuple[object, str]]:
    registry.register("tts", "slow", "reliability.engines:SlowTTS")
    reset_backends()
    engines.RELEASE.clear()
    engines.STARTED.clear()
    settings = load_settings(home=twin_home)
    ProfileManager(settings).create("alice")
    keys = KeyStore(settings)
    secret = keys.create("alice").secret
    keys.close()
    server = ServerSettings(
        tts_engine="slow", llm_backend="fake", max_concurrent_synthesis=2, max_queued_synthesis=3, queue_wait_s=30
    )
    yield build_app(settings, server), secret
    engines.RELEASE.set()
    reset_backends()


def test_api_sheds_with_503_and_retry_after(slow_app: tuple[object, str]) -> None:
    app, secret = slow_app

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=headers) as client:

            async def one(i: int) -> httpx.Response:
                body = {"text": f"Request number {i}.", "format": "wav"}
                return await client.post("/api/tts/clone", json=body, timeout=60)

            tasks = [asyncio.ensure_future(one(i)) for i in range(12)]
            deadline = time.monotonic() + 30
            while (sum(t.done() for t in tasks) < 7 or len(engines.STARTED) < 2) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)  # 2 running + 3 queued; the other 7 are refused at once
            refused = [t.result() for t in tasks if t.done()]
            assert len(refused) == 7 and len(engines.STARTED) == 2
            engines.RELEASE.set()
            return list(await asyncio.gather(*tasks))

    responses = asyncio.run(main())
    shed = [r for r in responses if r.status_code == 503]
    ok = [r for r in responses if r.status_code == 200]
    assert len(shed) == 7 and len(ok) == 5
    for r in shed:
        assert r.json()["error"]["code"] == "overloaded"
        assert 1 <= int(r.headers["Retry-After"]) <= 120
    assert all(r.content[:4] == b"RIFF" for r in ok)


def test_cache_hits_are_served_while_the_queue_is_full(slow_app: tuple[object, str]) -> None:
    app, secret = slow_app

    async def main() -> tuple[list[int], int, int]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=headers) as client:
            engines.RELEASE.set()
            warm = await client.post("/api/tts/clone", json={"text": "Cached already."}, timeout=60)
            assert warm.status_code == 200
            engines.RELEASE.clear()
            busy = [
                asyncio.ensure_future(client.post("/api/tts/clone", json={"text": f"New {i}."}, timeout=60))
                for i in range(5)  # 2 running + 3 queued: the gate is full
            ]
            deadline = time.monotonic() + 30
            while len(engines.STARTED) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            hit = await client.post("/api/tts/clone", json={"text": "Cached already."}, timeout=10)
            refused = await client.post("/api/tts/clone", json={"text": "One too many."}, timeout=10)
            engines.RELEASE.set()
            statuses = [r.status_code for r in await asyncio.gather(*busy)]
            assert hit.headers["X-Cache"] == "hit"
            return statuses, hit.status_code, refused.status_code

    statuses, hit, refused = asyncio.run(main())
    assert (hit, refused) == (200, 503)
    assert statuses == [200] * 5
