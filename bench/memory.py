"""Memory benchmark: twin's memory (model-free extraction, supersession, do-not-store, hybrid recall over
sqlite-vec) against a plain vector-only store (chromadb, same MiniLM embeddings, every user message
stored as is), in the same run.

Quality: a synthetic user with N facts spread over sessions, some later corrected, some secrets, and
chit-chat in between; recall@5 of the *current* fact for questions, how often a superseded value is
returned as current, and how many secrets end up stored. Speed: recall p50/p95 at 1k/10k/100k memories
(twin: hybrid incl. BM25 and fusion; peer: vector query), without and with embedding the query, and the
per-turn overhead of recall + prompt assembly with the fake LLM at each size.

    PYTHONPATH=src python bench/memory.py [--facts 500] [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NAMES = [
    "Ravi",
    "Priya",
    "Sam",
    "Anna",
    "Omar",
    "Lena",
    "Kenji",
    "Sofia",
    "Mateo",
    "Aisha",
    "Tom",
    "Nina",
    "Ivan",
    "Maya",
    "Leo",
    "Zara",
    "Ben",
    "Iris",
    "Hugo",
    "Mia",
]
CITIES = [
    "Leeds",
    "York",
    "Lisbon",
    "Porto",
    "Berlin",
    "Munich",
    "Oslo",
    "Lyon",
    "Austin",
    "Denver",
    "Kyoto",
    "Osaka",
    "Pune",
    "Delhi",
    "Cork",
    "Bristol",
    "Turin",
    "Graz",
]
ORGS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Wonka",
    "Aperture",
    "Vandelay",
    "Pied",
]
THINGS = [
    "band",
    "film",
    "book",
    "colour",
    "food",
    "drink",
    "game",
    "sport",
    "season",
    "city",
    "painter",
    "poet",
    "album",
    "show",
    "podcast",
    "dish",
]
VALUES = [
    "Radiohead",
    "Alien",
    "Dune",
    "teal",
    "ramen",
    "espresso",
    "chess",
    "tennis",
    "autumn",
    "Rome",
    "Monet",
    "Keats",
    "Blue",
    "Fargo",
    "Serial",
    "paella",
]
RELS = ["friend", "cousin", "colleague", "neighbour"]
CHIT = [
    "haha that's funny",
    "what do you think about the weather?",
    "I'm so tired today",
    "ok",
    "nice",
    "I see",
    "tell me a joke",
    "hmm, not sure",
    "thanks!",
    "I'm fine, thanks",
]


@dataclass
class Fact:
    statement: str
    question: str
    answer: str
    old: str | None = None
    holder: str = ""  # the name or "favourite <thing>" the fact is about

    def stale(self, text: str) -> bool:
        """`text` states the superseded value of this very fact."""
        t = text.lower()
        return bool(self.old) and self.old.lower() in t and self.holder.lower() in t


SYLLABLES = [
    "ka",
    "ri",
    "no",
    "ta",
    "mi",
    "su",
    "le",
    "an",
    "to",
    "ve",
    "lo",
    "ra",
    "ni",
    "ko",
    "da",
    "be",
    "sa",
    "yu",
    "ha",
    "me",
]
JOBS = [
    "teacher",
    "nurse",
    "engineer",
    "designer",
    "lawyer",
    "chef",
    "pilot",
    "dentist",
    "architect",
    "journalist",
    "librarian",
    "plumber",
]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def make_dataset(
    n: int, corrections: int, secrets: int, seed: int = 3
) -> tuple[list[list[str]], list[Fact], list[str]]:
    rng = random.Random(seed)
    facts: list[Fact] = []
    used: set[str] = set()
    while len(facts) < n:
        kind = rng.randrange(4)
        name = _name(rng)
        if kind == 0:
            rel, city = rng.choice(RELS), rng.choice(CITIES)
            key = f"home:{name}"
            fact = Fact(f"My {rel} {name} lives in {city}.", f"Where does my {rel} {name} live?", city, holder=name)
        elif kind == 1:
            rel, org = rng.choice(RELS), rng.choice(ORGS)
            key = f"job:{name}"
            fact = Fact(f"My {rel} {name} works at {org}.", f"Where does {name} work?", org, holder=name)
        elif kind == 2:
            rel, job = rng.choice(RELS), rng.choice(JOBS)
            key = f"occ:{name}"
            fact = Fact(f"My {rel} {name} is a {job}.", f"What does my {rel} {name} do for a living?", job, holder=name)
        else:
            thing = rng.choice(THINGS)
            value = rng.choice(VALUES)
            key = f"fav:{thing}"
            fact = Fact(
                f"My favourite {thing} is {value}.",
                f"What is my favourite {thing}?",
                value,
                holder=f"favourite {thing}",
            )
        if key not in used:
            used.add(key)
            facts.append(fact)
    for fact in rng.sample(facts, corrections):
        fact.old = fact.answer
        if fact.statement.startswith("My favourite"):
            fact.answer = rng.choice([v for v in VALUES if v != fact.old])
            fact.statement = fact.statement.rsplit(" is ", 1)[0] + f" is {fact.answer} now."
        elif " is a " in fact.statement:
            fact.answer = rng.choice([j for j in JOBS if j != fact.old])
            fact.statement = fact.statement.rsplit(" is a ", 1)[0] + f" is a {fact.answer} now."
        else:
            pool = CITIES if " lives in " in fact.statement else ORGS
            fact.answer = rng.choice([p for p in pool if p != fact.old])
            head = fact.statement.split(" lives in ")[0].split(" works at ")[0]
            fact.statement = head + (f" moved to {fact.answer}." if pool is CITIES else f" works at {fact.answer} now.")
    secret_lines = [f"my password for site{i} is Xq{rng.randrange(10**6)}z!" for i in range(secrets // 2)]
    secret_lines += [
        f"my card is 4111 1111 1111 1111 and the pin is {rng.randrange(1000, 9999)}"
        for _ in range(secrets - secrets // 2)
    ]
    first = [f.statement if f.old is None else "" for f in facts]
    originals = []
    for f in facts:
        if f.old is not None:
            originals.append(
                f.statement.replace(f" moved to {f.answer}.", f" lives in {f.old}.")
                .replace(f"works at {f.answer} now.", f"works at {f.old}.")
                .replace(f" is {f.answer} now.", f" is {f.old}.")
            )
    lines = [s for s in first if s] + originals
    rng.shuffle(lines)
    lines += [f.statement for f in facts if f.old is not None] + secret_lines  # corrections and secrets come later
    stream: list[str] = []
    for line in lines:
        stream.append(line)
        if rng.random() < 0.3:
            stream.append(rng.choice(CHIT))
    sessions = [stream[i : i + 12] for i in range(0, len(stream), 12)]
    return sessions, facts, secret_lines


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


async def run_twin(home: Path, sessions: list[list[str]]):  # type: ignore[no-untyped-def]
    import os

    os.environ["TWIN_HOME"] = str(home)
    from twin.chat.service import ChatService
    from twin.profiles import Identity, ProfileManager
    from twin.providers import registry
    from twin.settings import load_settings

    profile = ProfileManager(load_settings()).create("bench")
    profile.set_identity(Identity(names=["Thota"]))
    svc = ChatService(profile, llm=registry.create("llm", "fake", replies=["I see."]))
    svc.memory.warm_up()
    overheads = []
    for session in sessions:
        conv = None
        for line in session:
            r = await svc.turn(line, conversation_id=conv)
            conv = r.conversation_id
            overheads.append(r.timings.get("recall_ms", 0) + r.timings.get("assemble_ms", 0))
            await svc.drain()  # turns are seconds apart in a real chat: extraction is done by the next one
    return svc, overheads


def quality_twin(svc, facts: list[Fact], questions: list[int], secrets: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    pid = svc.personas.get("twin").id
    hits = stale = stale_any = 0
    corrected = [i for i in questions if facts[i].old]
    for i in questions:
        f = facts[i]
        items = asyncio.run(svc.memory.recall(f.question, pid, k=5, budget_s=10)).items
        texts = [it.text.lower() for it in items]
        hits += any(f.answer.lower() in t for t in texts)
        if f.old:
            stale += any(f.stale(it.text) and it.kind == "fact" for it in items)
            stale_any += any(f.stale(t) for t in texts)
    stored = " ".join(i.text for i in svc.memory.store.query(include_superseded=True, limit=10**7))
    rows = svc.conn.execute("SELECT text FROM chat_messages").fetchall()
    stored += " ".join(r[0] for r in rows)
    leaked = sum(_secret_value(s) in stored for s in secrets)
    return {
        "recall@5": hits / len(questions),
        "superseded_as_current": stale / max(len(corrected), 1),
        "old_value_in_top5_incl_chunks": stale_any / max(len(corrected), 1),
        "secrets_stored": leaked,
    }


def _secret_value(line: str) -> str:
    return line.split(" is ", 1)[1].split(" and ")[0] if "password" in line else "4111 1111 1111 1111"


def run_peer(sessions: list[list[str]], embed, facts: list[Fact], questions: list[int], secrets: list[str]):  # type: ignore[no-untyped-def]
    import chromadb

    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.create_collection("peer", metadata={"hnsw:space": "ip"}, embedding_function=None)
    lines = [line for s in sessions for line in s]
    vecs = embed(lines)
    col.add(ids=[str(i) for i in range(len(lines))], embeddings=vecs.tolist(), documents=lines)
    hits = stale = 0
    corrected = [i for i in questions if facts[i].old]
    for i in questions:
        f = facts[i]
        docs = col.query(query_embeddings=embed([f.question]).tolist(), n_results=5)["documents"][0]
        hits += any(f.answer.lower() in d.lower() for d in docs)
        stale += any(f.stale(d) for d in docs)
    leaked = sum(_secret_value(s) in " ".join(lines) for s in secrets)
    quality = {
        "recall@5": hits / len(questions),
        "superseded_as_current": stale / max(len(corrected), 1),
        "old_value_in_top5_incl_chunks": stale / max(len(corrected), 1),
        "secrets_stored": leaked,
    }
    return client, quality


def filler_texts(n: int, rng: random.Random) -> list[str]:
    """Memories like the quality set's (facts about thousands of people, chunks of chit-chat), so BM25
    meets a realistic vocabulary: common words in a large share of rows, names in a few."""
    out = []
    for _ in range(n):
        name = "".join(rng.choice(SYLLABLES) for _ in range(4)).capitalize()
        rel, kind = rng.choice(RELS), rng.randrange(5)
        if kind == 0:
            out.append(f"Thota's {rel} {name} lives in {rng.choice(CITIES)}.")
        elif kind == 1:
            out.append(f"Thota's {rel} {name} works at {rng.choice(ORGS)}.")
        elif kind == 2:
            out.append(f"Thota's {rel} {name} is a {rng.choice(JOBS)}.")
        elif kind == 3:
            out.append(f"User: {rng.choice(CHIT)}\nTwin: I see.\nUser: I met {name} at the {rng.choice(THINGS)}")
        else:
            out.append(f"Thota likes {rng.choice(VALUES)} and the {rng.choice(THINGS)} {name} recommended.")
    return out


def latency(size: int, embed, queries: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Recall latency with `size` memories (filler texts for BM25, random unit vectors: the cost of a
    search does not depend on what the vectors say), then the per-turn overhead on that profile."""
    import chromadb

    from twin.chat.personas import now
    from twin.chat.service import ChatService
    from twin.ids import new_id
    from twin.memory.retrieval import bm25_ranked, fuse
    from twin.profiles import Identity, ProfileManager
    from twin.providers import registry
    from twin.providers.vectorstore import VectorItem
    from twin.settings import load_settings

    profile = ProfileManager(load_settings()).create(f"lat{size}")
    profile.set_identity(Identity(names=["Thota"]))
    svc = ChatService(profile, llm=registry.create("llm", "fake", replies=["I see."]))
    mem, conn = svc.memory, svc.conn
    pid = svc.personas.get("twin").id
    texts = filler_texts(size, random.Random(size))
    rng = np.random.default_rng(5)
    vecs = rng.standard_normal((size, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    stamp = now()
    ids = [new_id() for _ in range(size)]
    with conn:
        conn.executemany(
            "INSERT INTO memories (id, kind, scope, text, fingerprint, importance, created, updated) "
            "VALUES (?, 'fact', 'user', ?, ?, 0.5, ?, ?)",
            [(i, t, i, stamp, stamp) for i, t in zip(ids, texts, strict=True)],
        )
    for start in range(0, size, 5000):
        mem.vectors.upsert([VectorItem(ids[j], "user", vecs[j]) for j in range(start, min(start + 5000, size))])
    qv = embed(queries)
    ours, ours_e2e = [], []
    for q, v in zip(queries, qv, strict=True):
        t0 = time.perf_counter()
        vec_ids = [h.id for h in mem.vectors.search(v, 12, ["user", f"persona:{pid}"])]
        fuse(mem.store, vec_ids, bm25_ranked(conn, q, pid, False, 24), 6, 45.0)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        asyncio.run(mem.recall(q, pid, k=6, budget_s=10))
        ours_e2e.append((time.perf_counter() - t0) * 1000)
    overhead = asyncio.run(_turn_overhead(svc, queries))
    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.create_collection(f"lat{size}", metadata={"hnsw:space": "ip"}, embedding_function=None)
    for start in range(0, size, 5000):
        end = min(start + 5000, size)
        col.add(ids=ids[start:end], embeddings=vecs[start:end].tolist(), documents=texts[start:end])
    peer, peer_e2e = [], []
    for q, v in zip(queries, qv, strict=True):
        t0 = time.perf_counter()
        col.query(query_embeddings=[v.tolist()], n_results=6)
        peer.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        col.query(query_embeddings=embed([q]).tolist(), n_results=6)
        peer_e2e.append((time.perf_counter() - t0) * 1000)
    svc.close()
    return {
        "size": size,
        "twin_p50_ms": pct(ours, 50),
        "twin_p95_ms": pct(ours, 95),
        "twin_with_query_embedding_p50_ms": pct(ours_e2e, 50),
        "twin_with_query_embedding_p95_ms": pct(ours_e2e, 95),
        "peer_p50_ms": pct(peer, 50),
        "peer_p95_ms": pct(peer, 95),
        "peer_with_query_embedding_p50_ms": pct(peer_e2e, 50),
        "peer_with_query_embedding_p95_ms": pct(peer_e2e, 95),
        "turn_overhead_p50_ms": pct(overhead, 50),
        "turn_overhead_p95_ms": pct(overhead, 95),
    }


async def _turn_overhead(svc, queries: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    """recall + prompt assembly of chat turns (fake LLM), each turn's memory work done before the next."""
    out, conv = [], None
    for q in queries:
        r = await svc.turn(q, conversation_id=conv)
        conv = r.conversation_id
        out.append(r.timings.get("recall_ms", 0) + r.timings.get("assemble_ms", 0))
        await svc.drain()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", type=int, default=500)
    ap.add_argument("--corrections", type=int, default=50)
    ap.add_argument("--secrets", type=int, default=20)
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--latency-queries", type=int, default=40)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="twin-bench-memory-"))
    sessions, facts, secrets = make_dataset(args.facts, args.corrections, args.secrets)
    rng = random.Random(11)
    corrected = [i for i, f in enumerate(facts) if f.old]
    questions = corrected + rng.sample([i for i, f in enumerate(facts) if not f.old], args.questions - len(corrected))
    t0 = time.perf_counter()
    svc, overheads = asyncio.run(run_twin(home, sessions))
    ingest_s = time.perf_counter() - t0
    embed = svc.memory.embeddings.embed
    ours = quality_twin(svc, facts, questions, secrets)
    _client, peer = run_peer(sessions, embed, facts, questions, secrets)
    lat = [
        latency(int(s), embed, [facts[i].question for i in questions[: args.latency_queries]])
        for s in args.sizes.split(",")
        if s
    ]
    turns = sum(len(s) for s in sessions)
    result = {
        "turns": turns,
        "ingest_s": round(ingest_s, 1),
        "twin": ours,
        "peer_chromadb": peer,
        "turn_overhead_ms": {
            "p50": pct(overheads, 50),
            "p95": pct(overheads, 95),
            "memories": svc.memory.vectors.count(),
        },
        "latency": lat,
    }
    print(f"\n{turns} user turns, {len(questions)} questions ({len(corrected)} about corrected facts)")
    print(f"{len(secrets)} secrets told")
    print(f"{'metric':34} {'twin':>10} {'chromadb':>10}")
    for key in ours:
        print(f"{key:34} {ours[key]:>10.3f} {peer[key]:>10.3f}")
    head = ("memories", "twin p50", "twin p95", "peer p95", "ratio", "+emb twin", "+emb peer", "ratio", "turn p95")
    print("\n" + " ".join(f"{h:>10}" for h in head))
    for r in lat:
        cells = [
            r["twin_p50_ms"], r["twin_p95_ms"], r["peer_p95_ms"], r["twin_p95_ms"] / max(r["peer_p95_ms"], 1e-9),
            r["twin_with_query_embedding_p95_ms"], r["peer_with_query_embedding_p95_ms"],
            r["twin_with_query_embedding_p95_ms"] / max(r["peer_with_query_embedding_p95_ms"], 1e-9),
            r["turn_overhead_p95_ms"],
        ]  # fmt: skip
        print(f"{r['size']:>10} " + " ".join(f"{c:>10.2f}" for c in cells))
    o = result["turn_overhead_ms"]
    print(f"\nturn overhead (fake LLM), {o['memories']} memories: p50 {o['p50']:.1f} ms, p95 {o['p95']:.1f} ms")
    out = Path(__file__).parent / "results" / "memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
