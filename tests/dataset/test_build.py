from __future__ import annotations

import json
from datetime import timedelta

import pytest

from twin.dataset.builder import build_dataset
from twin.dataset.chatml import validate_chatml
from twin.dataset.config import DatasetConfig, load_config
from twin.dataset.instructions import generate_with
from twin.dataset.review import ReviewService
from twin.errors import InvalidInput, NotFound
from twin.providers import registry

from .helpers import BASE, REPLIES, chat_corpus, insert, row

CFG = DatasetConfig(refuse_below=10, warn_below=20)


def mixed_rows() -> list[dict]:
    rows = chat_corpus(8, 8)
    c, t = "whatsapp:Noise", BASE
    rows += [
        row(c, 0, "Ana", "did you get the invite for the party on friday?", ts=t),
        row(c, 1, "Me", "ok", me=True, ts=t + timedelta(minutes=1)),  # too short
        row(c, 2, "Ana", "and the photos?", ts=t + timedelta(hours=9)),
        row(c, 3, "Me", "https://photos.example.com/album/summer", me=True, ts=t + timedelta(hours=9, minutes=1)),
        row(c, 4, "Ana", "so?", ts=t + timedelta(hours=20)),
        row(c, 5, "Me", "😂😂😂🎉🎉", me=True, ts=t + timedelta(hours=20, minutes=1)),
        row(c, 6, "Ana", "photo", ts=t + timedelta(hours=30)),
        row(c, 7, "Me", "<Media omitted>", me=True, kind="media", ts=t + timedelta(hours=30, minutes=1)),
        row(c, 8, "Ana", "and your number?", ts=t + timedelta(hours=40)),
        row(
            c,
            9,
            "Me",
            "sure, it's +44 20 7946 0958 or mail ana.friend@example.org any time",
            me=True,
            ts=t + timedelta(hours=40, minutes=1),
        ),
    ]
    g = "whatsapp:Oma"
    rows += [
        row(g, 0, "Oma", "Hallo mein Schatz, wie geht es dir heute? Kommst du am Sonntag zum Essen?"),
        row(g, 1, "Me", "Hallo Oma, mir geht es gut! Ja, ich komme gerne am Sonntag vorbei.", me=True),
    ]
    e = "email:<list1@lists.org>"
    rows += [
        row(
            e,
            0,
            "List",
            "Weekly digest of the python mailing list with many topics",
            locator="<list1@lists.org>",
            subject="Digest",
            flags=["list"],
        ),
        row(
            e,
            1,
            "Me",
            "Thanks for the digest, the section on packaging was really useful.",
            me=True,
            subject="Re: Digest",
            flags=["list"],
            extra={"in_reply_to": "<list1@lists.org>"},
        ),
    ]
    n = "email:<new1@me.org>"
    rows += [
        row(
            n,
            0,
            "Me",
            "Hi Dana,\n\nattached are the slides for the Q1 budget review on Monday.\n\nBest",
            me=True,
            subject="Q1 budget review",
            locator="<new1@me.org>",
            extra={"to": ["Dana Reyes <dana@acme.org>"]},
        )
    ]
    return rows


def files(profile, name="default") -> dict[str, bytes]:
    d = profile.dataset_dir(name)
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_build_writes_valid_private_dataset(profile):
    insert(profile, mixed_rows())
    report = build_dataset(profile, "default", CFG)
    out = files(profile)
    assert set(report["files"]) == set(out)
    lines = [json.loads(x) for name in ("train.jsonl", "val.jsonl") for x in out[name].decode().splitlines()]
    assert len(lines) == report["samples"]["total"] > 50
    for rec in lines:
        validate_chatml(rec)
    drops = report["drops"]
    assert drops["too_short"] == 1 and drops["link_only"] == 1 and drops["emoji_only"] == 1
    assert drops["language_de"] == 1
    assert report["messages"]["dropped"] == {"flag_list": 2, "kind_media": 1}
    assert report["redactions"]["EMAIL"] >= 1 and report["redactions"]["PHONE"] >= 1
    training = b"".join(v for k, v in out.items() if not k.startswith("report.")).decode()
    assert "ana.friend@example.org" not in training and "7946 0958" not in training
    # the report shows what was changed, before → after, so the owner can check it
    examples = report["redaction_examples"]
    assert any("ana.friend@example.org" in ex["before"] and "<EMAIL_1>" in ex["after"] for ex in examples["EMAIL"])
    assert "ana.friend@example.org" in out["report.html"].decode()
    assert "<EMAIL_1>" in out["train.jsonl"].decode() + out["val.jsonl"].decode()
    assert report["by_kind"]["email_new"] == 1
    assert "<svg" in out["report.html"].decode()
    sharegpt = json.loads(out["train_sharegpt.json"])
    assert len(sharegpt) == report["samples"]["train"]
    assert load_config(profile.dataset_dir("default") / "config.yaml") == CFG


def test_rebuild_is_byte_identical(profile):
    insert(profile, mixed_rows())
    build_dataset(profile, "default", CFG)
    first = files(profile)
    build_dataset(profile, "default", CFG.model_copy())
    assert files(profile) == first


def test_refuses_tiny_dataset_unless_forced(profile):
    insert(profile, chat_corpus(2, 5))
    with pytest.raises(InvalidInput, match="Only 10 samples"):
        build_dataset(profile, "default", DatasetConfig())
    assert not profile.dataset_dir("default").exists()
    report = build_dataset(profile, "default", DatasetConfig(), force=True)
    assert report["samples"]["total"] == 10
    assert any("at least 200" in w for w in report["warnings"])


def test_token_budget_trims_context_then_drops(profile):
    c = "whatsapp:Long"
    rows = [row(c, i, "Kim", f"context line {i} " + "words " * 60) for i in range(8)]
    rows.append(row(c, 8, "Me", "short answer to all of that context above", me=True))
    rows.append(row(c, 9, "Kim", "and now?"))
    rows.append(row(c, 10, "Me", "long " * 900, me=True))
    insert(profile, rows)
    report = build_dataset(profile, "default", DatasetConfig(max_tokens=256, max_context_chars=100000), force=True)
    assert report["drops"] == {"too_long": 1}
    assert report["context_trimmed"] == 1
    rec = json.loads((profile.dataset_dir("default") / "train.jsonl").read_text().splitlines()[0])
    assert sum(len(m["content"]) for m in rec["messages"]) < 256 * 4


def test_review_drops_persist_across_rebuilds(profile):
    insert(profile, chat_corpus(8, 8))
    build_dataset(profile, "default", CFG)
    service = ReviewService(profile, "default")
    victim = service.list("train", 0, 1).items[0]
    service.drop(victim["id"], "too personal")
    build_dataset(profile, "default", CFG)
    assert victim["messages"][-1]["content"] not in (profile.dataset_dir("default") / "train.jsonl").read_text()
    assert service.get(victim["id"])["status"] == "dropped"
    assert service.dropped() == {victim["id"]: "too personal"}
    assert service.search(victim["messages"][-1]["content"][:30]).total >= 1
    service.restore(victim["id"])
    build_dataset(profile, "default", CFG)
    assert service.get(victim["id"])["status"] in ("train", "val")
    with pytest.raises(NotFound):
        service.restore(victim["id"])
    with pytest.raises(NotFound):
        service.drop("0" * 16)
    with pytest.raises(InvalidInput):
        service.drop("../../etc")


def test_llm_back_translation_with_fake_backend(profile):
    insert(profile, mixed_rows())
    llm = registry.create("llm", "fake", reply_fn=lambda msgs: "Send Dana the slides for Monday's budget review.")
    cfg = CFG.model_copy(update={"instructions": "llm"})
    report = build_dataset(profile, "default", cfg, generate=generate_with(llm, cfg.seed))
    text = (profile.dataset_dir("default") / "train.jsonl").read_text() + (
        profile.dataset_dir("default") / "val.jsonl"
    ).read_text()
    assert "Send Dana the slides for Monday's budget review." in text
    assert len(llm.calls) == report["by_kind"]["email_new"] == 1
    assert "attached are the slides" in llm.calls[0][-1].content
    with pytest.raises(InvalidInput, match="no LLM"):
        build_dataset(profile, "default", cfg)


def test_redaction_examples_can_be_turned_off(profile):
    insert(profile, mixed_rows())
    report = build_dataset(profile, "default", CFG.model_copy(update={"redaction_examples": 0}))
    everything = b"".join(files(profile).values()).decode()
    assert report["redaction_examples"] == {} and report["redactions"]["EMAIL"] >= 1
    assert "ana.friend@example.org" not in everything and "7946 0958" not in everything


def test_style_and_prompt_per_channel(profile):
    """Email samples get a style line measured on emails, chat samples one measured on chats."""
    rows = chat_corpus(8, 8)
    for i in range(12):
        cid = f"email:<t{i}@x.org>"
        rows.append(
            row(
                cid,
                0,
                "Dana Reyes",
                f"Could you send the figures for region {i}?",
                locator=f"<q{i}@x.org>",
                subject=f"Figures {i}",
                address="dana@x.org",
            )
        )
        body = (
            f"Hi Dana,\n\nPlease find the figures for region {i} below. The totals moved a little since the "
            f"last review, mostly because of the new contracts in week {i}. I have added notes where it matters.\n\n"
            "Kind regards,\nThota"
        )
        rows.append(
            row(cid, 1, "Me", body, me=True, subject=f"Re: Figures {i}", extra={"in_reply_to": f"<q{i}@x.org>"})
        )
    insert(profile, rows)
    report = build_dataset(profile, "default", CFG)
    prompts = report["system_prompts"]
    assert set(prompts) == {"chat", "email"}
    assert "chat messages" in prompts["chat"] and "emails" in prompts["email"]
    assert "Kind regards" in prompts["email"] and "Kind regards" not in prompts["chat"]
    card = report["style_card"]["channels"]
    assert card["email"]["signoff_rate"] == 1.0 and card["email"]["greetings"][0][0] == "hi"
    assert card["chat"]["length"]["median"] < card["email"]["length"]["median"]
    d = profile.dataset_dir("default")
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["system_prompts"] == prompts and manifest["main_channel"] == "chat"
    assert manifest["minimum_samples"] == CFG.refuse_below
    for line in (d / "train.jsonl").read_text().splitlines():
        rec = json.loads(line)
        channel = "email" if rec["messages"][1]["content"].startswith("From:") else "chat"
        assert rec["messages"][0]["content"] == prompts[channel]
    html = (d / "report.html").read_text()
    assert "Style card" in html and "Kind regards" in html


def test_contact_name_variants_are_one_contact(profile):
    rows = []
    for i in range(6):
        cid = f"email:<a{i}@x.org>"
        sender = "Anita Desai" if i % 2 else "anita.desai@example.org"
        rows.append(
            row(
                cid,
                0,
                sender,
                f"Can we talk about the plan for week {i}?",
                locator=f"<p{i}@x.org>",
                subject=f"Plan {i}",
                address="anita.desai@example.org",
            )
        )
        rows.append(
            row(
                cid,
                1,
                "Me",
                f"Yes, let us talk about week {i} tomorrow after lunch.",
                me=True,
                subject=f"Re: Plan {i}",
                extra={"in_reply_to": f"<p{i}@x.org>"},
            )
        )
    for i in range(6):
        rows.append(row("whatsapp:Anita", 2 * i, "Anita", f"are you around later {i}?", ts=BASE + timedelta(days=i)))
        rows.append(
            row(
                "whatsapp:Anita",
                2 * i + 1,
                "Me",
                REPLIES[i],
                me=True,
                ts=BASE + timedelta(days=i, minutes=1),
            )
        )
    insert(profile, rows)
    report = build_dataset(profile, "default", DatasetConfig(refuse_below=1, languages=[]), force=True)
    assert list(report["by_contact"]) == ["Anita Desai"] and report["by_source"] == {"chat": 6, "email": 6}


def test_too_few_samples_says_the_minimum_and_how_to_get_more(profile):
    insert(profile, chat_corpus(2, 5))
    with pytest.raises(InvalidInput) as err:
        build_dataset(profile, "default", DatasetConfig())
    assert "at least 50" in err.value.message
    assert "Export chat" in err.value.hint and "Sent mail" in err.value.hint and "--force" in err.value.hint
