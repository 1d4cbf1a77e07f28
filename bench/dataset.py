"""Dataset builder benchmark: 100,000 synthetic chat messages with realistic lengths and 10% planted
near-duplicates → a full `build_dataset` run. Reports wall time, peak memory, and recall of the
planted near-duplicates by MinHash LSH (0.85) against an exact-match baseline in the same run.

    .venv/bin/python bench/dataset.py [--messages 100000] [--out bench/results/dataset.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from twin.dataset.builder import build_dataset
from twin.dataset.config import DatasetConfig
from twin.dataset.dedup import exact_clusters, shingles
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.store.db import connect

_WORDS = """
the be to of and a in that have i it for not on with he as you do at this but his by from they we
say her she or an will my one all would there their what so up out if about who get which go me when
make can like time no just him know take people into year your good some could them see other than
then now look only come its over think also back after use two how our work first well way even new
want because any these give day most us great thanks tomorrow tonight dinner meeting call later soon
sure okay really love weekend train late office coffee book movie trip plan happy home week friday
morning evening lunch team project report sorry maybe tired busy free pick send photo kids school
"""
WORDS = tuple(_WORDS.split())


def sentence(rng: random.Random) -> str:
    n = max(3, min(120, int(rng.lognormvariate(2.1, 0.8))))  # median ~8 words, long tail
    words = [rng.choice(WORDS) for _ in range(n)]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", "!", "?", "", "."])


def mutate(text: str, rng: random.Random) -> str:
    """A near-duplicate: recasing/punctuation, one typo, or one word changed; kept only when the
    true 5-gram Jaccard stays ≥ 0.85 (else the recased copy, which is a near-duplicate by definition)."""
    recased = text.lower().rstrip(".!?") + rng.choice(["!", " :)", "..", ""])
    choice = rng.random()
    if choice < 0.34:
        return recased
    words = text.split()
    if choice < 0.67:
        i = rng.randrange(len(text))
        cand = text[:i] + text[i + 1 :]
    else:
        words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
        cand = " ".join(words)
    a, b = shingles(text), shingles(cand)
    return cand if len(a & b) / len(a | b) >= 0.85 else recased


def generate(n_messages: int, seed: int = 7) -> tuple[list[tuple], list[tuple[str, str]]]:
    rng = random.Random(seed)
    rows: list[tuple] = []
    owner_texts: list[str] = []
    planted: list[tuple[str, str]] = []
    n_conv = max(1, n_messages // 200)
    start = datetime(2023, 1, 1)
    for c in range(n_conv):
        cid = f"whatsapp:Contact {c}"
        t = start + timedelta(hours=rng.randint(0, 24 * 300))
        for i in range(0, 200, 2):
            t += timedelta(minutes=rng.choice([2, 5, 30, 600]))
            rows.append((cid, i, f"Contact {c}", 0, t, sentence(rng)))
            if owner_texts and rng.random() < 0.2:  # 20% of owner messages = 10% of all messages
                original = rng.choice(owner_texts)
                text = mutate(original, rng)
                planted.append((original, text))
            else:
                text = sentence(rng)
                owner_texts.append(text)
            rows.append((cid, i + 1, "Me", 1, t + timedelta(minutes=1), text))
    return rows[:n_messages], planted


def insert(profile, rows: list[tuple]) -> None:
    with closing(connect(profile)) as conn, conn:
        conn.executemany(
            "INSERT INTO messages (id, fingerprint, source, source_sha256, locator, format, conversation_id, seq,"
            " sender, sender_is_me, timestamp, text, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'text')",
            [
                (
                    hashlib.sha1(f"{r[0]}|{r[1]}".encode()).hexdigest(),
                    f"{r[0]}|{r[1]}",
                    "bench.txt",
                    "0" * 64,
                    f"L{r[1]}",
                    "whatsapp",
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4].isoformat(),
                    r[5],
                )
                for r in rows
            ],
        )


def recall(planted: list[tuple[str, str]], statuses: dict[str, str], baseline: set[str]) -> tuple[float, float]:
    """Share of planted pairs (both texts reached dedup, not identical) caught by LSH and by the baseline."""
    pairs = [(a, b) for a, b in planted if a in statuses and b in statuses and a != b]
    lsh = sum(statuses[a] == "duplicate" or statuses[b] == "duplicate" for a, b in pairs)
    exact = sum(a in baseline or b in baseline for a, b in pairs)
    return lsh / max(1, len(pairs)), exact / max(1, len(pairs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--out", default="bench/results/dataset.json")
    args = ap.parse_args()
    rows, planted = generate(args.messages)
    with tempfile.TemporaryDirectory() as home:
        profile = ProfileManager(load_settings(home=Path(home))).create("bench")
        insert(profile, rows)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        report = build_dataset(profile, "bench", DatasetConfig())
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        items = [json.loads(x) for x in (profile.dataset_dir("bench") / "samples.jsonl").open(encoding="utf-8")]
    statuses = {it["messages"][-1]["content"]: it["status"] for it in items}
    texts = list(statuses)
    t1 = time.perf_counter()
    # Baseline: exact match after normalization (lowercase, punctuation and spacing removed), which is
    # already kinder than the raw string equality most pipelines use (that catches none of these).
    baseline = {texts[i] for c in exact_clusters(texts) for i in c}
    exact_wall = time.perf_counter() - t1
    lsh_recall, exact_recall = recall(planted, statuses, baseline)
    result = {
        "messages": len(rows),
        "planted_near_duplicates": len(planted),
        "samples_written": report["samples"]["total"],
        "candidates_after_filters": len(items),
        "near_duplicates_removed": report["near_duplicates_removed"],
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_build_mb": round(rss_before / 1024, 1),
        "recall_minhash_lsh_0.85": round(lsh_recall, 4),
        "recall_exact_match": round(exact_recall, 4),
        "exact_baseline_wall_s": round(exact_wall, 3),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in result)
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")
    if exact_recall:
        print(f"recall ratio MinHash LSH / exact match: {lsh_recall / exact_recall:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
