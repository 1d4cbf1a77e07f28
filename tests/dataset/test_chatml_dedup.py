from __future__ import annotations

import random
from datetime import datetime

import pytest

from twin.dataset.chatml import dataset_info, to_chatml, to_sharegpt, validate_chatml
from twin.dataset.dedup import exact_clusters, near_duplicate_clusters
from twin.dataset.records import Sample
from twin.dataset.select import best_of_clusters, score_all, select, split
from twin.errors import InvalidInput


def sample(i: int, conv: str = "c", contact: str = "A", target: str | None = None, month: int = 1) -> Sample:
    return Sample(
        id=f"{i:016x}",
        source="chat",
        kind="chat_reply",
        conversation_id=conv,
        contact=contact,
        ts=datetime(2024, month, 1 + i % 28),
        context=[("user", "question?")],
        target=target or f"answer number {i} with enough words to be a real reply",
        message_ids=[str(i)],
    )


def test_chatml_roundtrip_and_sharegpt():
    rec = to_chatml("sys", sample(1))
    validate_chatml(rec)
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant"]
    sg = to_sharegpt(rec)
    assert sg["system"] == "sys" and [c["from"] for c in sg["conversations"]] == ["human", "gpt"]
    info = dataset_info("d")
    assert info["twin_d_train"]["formatting"] == "sharegpt"


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
        [{"role": "system", "content": "s"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
        [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}, {"role": "user", "content": "c"}],
        [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": " "}],
        [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}],
        [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ],
    ],
)
def test_chatml_validation_rejects(messages):
    with pytest.raises(InvalidInput):
        validate_chatml({"messages": messages})
    with pytest.raises(InvalidInput):
        validate_chatml({"messages": messages[:1], "extra": 1})


def _mutate(text: str, rng: random.Random) -> str:
    words = text.split()
    i = rng.randrange(len(words))
    words[i] = words[i].upper() + ","  # case and punctuation only, plus one typo below
    out = " ".join(words)
    j = rng.randrange(len(out))
    return out[:j] + out[j + 1 :]  # drop one character


def test_planted_near_duplicates_found_and_exact_baseline_misses_them():
    rng = random.Random(3)
    vocab = [f"word{i}" for i in range(500)]
    originals = [" ".join(rng.choice(vocab) for _ in range(rng.randint(15, 40))) for _ in range(300)]
    planted = [_mutate(originals[k], rng) for k in range(0, 300, 10)]
    texts = originals + planted
    clusters = near_duplicate_clusters(texts, 0.85)
    pairs = {(k, 300 + n) for n, k in enumerate(range(0, 300, 10))}
    found = {(min(c), i) for c in clusters for i in c if i >= 300}
    assert len(found & pairs) / len(pairs) >= 0.9
    assert all(len(c) == 2 for c in clusters)  # no false merges among random texts
    assert exact_clusters(texts) == []


def test_exact_duplicates_cluster_and_best_member_kept():
    samples = [
        sample(0, target="Short one, really short."),
        sample(1, target="short one really short"),
        sample(2, target="A much longer and clearly different reply about the weekend trip plans."),
    ]
    score_all(samples)
    clusters = near_duplicate_clusters([s.target for s in samples])
    assert clusters == [[0, 1]]
    kept, removed = best_of_clusters(samples, clusters)
    assert len(kept) == 2 and len(removed) == 1


def test_selection_spreads_over_contacts_and_is_deterministic():
    samples = [
        sample(i, conv=f"c{i % 5}", contact="Big" if i < 80 else f"P{i % 7}", month=1 + i % 12) for i in range(120)
    ]
    score_all(samples)
    chosen = select(samples, 30, seed=1)
    assert len(chosen) == 30
    assert sum(s.contact == "Big" for s in chosen) < 20  # not just the top of one chat
    assert [s.id for s in chosen] == [s.id for s in select(samples, 30, seed=1)]


def test_split_by_conversation_without_leakage():
    samples = [sample(i, conv=f"c{i % 10}") for i in range(100)]
    train, val = split(samples, 0.2, seed=5)
    assert len(train) + len(val) == 100
    assert 10 <= len(val) <= 30
    assert not ({s.conversation_id for s in train} & {s.conversation_id for s in val})
    assert split(samples, 0.2, seed=5) == (train, val)
