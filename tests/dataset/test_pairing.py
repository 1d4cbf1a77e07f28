from __future__ import annotations

from datetime import timedelta

from twin.dataset.config import DatasetConfig
from twin.dataset.emailtext import clean_email_body, display_name
from twin.dataset.pairing import chat_samples, email_samples, trim_context
from twin.dataset.records import Msg, parse_ts

from .helpers import BASE


def msg(cid, seq, sender, text, minutes, me=False, **kw) -> Msg:
    return Msg(
        id=f"m{seq:03d}",
        conversation_id=cid,
        seq=seq,
        sender=sender,
        is_me=me,
        ts=BASE + timedelta(minutes=minutes),
        text=text,
        kind="text",
        flags=[],
        fmt="eml" if cid.startswith("email:") else "whatsapp",
        locator=kw.pop("locator", f"L{seq}"),
        **kw,
    )


def test_chat_merges_turns_and_splits_sessions():
    cid = "whatsapp:Priya"
    msgs = [
        msg(cid, 1, "Priya", "hey", 0),
        msg(cid, 2, "Priya", "are you free tonight?", 1),
        msg(cid, 3, "Me", "yes!", 2, me=True),
        msg(cid, 4, "Me", "what time works for you?", 3, me=True),
        msg(cid, 5, "Me", "also, bring the book", 40, me=True),  # past the merge gap: new turn
        msg(cid, 6, "Priya", "8pm at the usual place", 41),
        msg(cid, 7, "Me", "perfect, see you there", 42, me=True),
        msg(cid, 8, "Me", "good morning, how did it go?", 60 * 20, me=True),  # new session, no context
    ]
    samples = chat_samples(cid, msgs, DatasetConfig())
    # an owner turn right after another owner turn answers nobody: no sample for it
    assert [s.target for s in samples] == ["yes!\nwhat time works for you?", "perfect, see you there"]
    first = samples[0]
    assert first.context == [("user", "hey\nare you free tonight?")]
    assert first.message_ids == ["m003", "m004"]
    assert first.contact == "Priya"
    # earlier owner turns become assistant turns in the context; context starts with the user
    assert samples[1].context == [
        ("user", "hey\nare you free tonight?"),
        ("assistant", "yes!\nwhat time works for you?\nalso, bring the book"),
        ("user", "8pm at the usual place"),
    ]


def test_group_chat_keeps_speaker_names_and_bounds_context():
    cid = "whatsapp:Climbing crew"
    msgs = [msg(cid, i, ["Ana", "Ben"][i % 2], f"message number {i} from the group", i) for i in range(10)]
    msgs.append(msg(cid, 10, "Me", "count me in for saturday", 11, me=True))
    cfg = DatasetConfig(max_context_turns=3)
    [s] = chat_samples(cid, msgs, cfg)
    assert s.context == [
        (
            "user",
            "Ben: message number 7 from the group\nAna: message number 8 from the group\n"
            "Ben: message number 9 from the group",
        )
    ]
    assert s.contact == "Climbing crew"
    assert s.meta["group"] is True


def test_trim_context_keeps_user_last():
    blocks = [("user", "a" * 50), ("assistant", "b" * 50), ("user", "c" * 50)]
    assert trim_context(blocks, 120) == [("user", "c" * 50)]
    assert trim_context([("user", "x" * 300)], 100)[0][1].startswith("…")
    assert len(trim_context([("user", "x" * 300)], 100)[0][1]) == 100


def test_email_reply_pairs_with_parent_by_in_reply_to():
    cid = "email:<root@x.org>"
    parent = msg(
        cid,
        1,
        "Dana Reyes",
        "Hi,\n\nCan you send the Q1 numbers by Friday?\n\nDana",
        0,
        subject="Q1 budget review",
        locator="<root@x.org>",
    )
    other = msg(cid, 2, "Sam", "I can help too.", 5, subject="Re: Q1 budget review", locator="<s@x.org>")
    reply = msg(
        cid,
        3,
        "Me",
        "Hi Dana,\n\nSure, I will send them Thursday.\n\nOn Mon, Dana wrote:\n> Can you",
        10,
        me=True,
        subject="Re: Q1 budget review",
        locator="<me@x.org>",
        extra={"in_reply_to": "<root@x.org>"},
    )
    [s] = email_samples(cid, [parent, other, reply], DatasetConfig())
    assert s.kind == "email_reply"
    assert s.target == "Hi Dana,\n\nSure, I will send them Thursday."
    assert s.context == [
        ("user", "From: Dana Reyes\nSubject: Q1 budget review\n\nHi,\n\nCan you send the Q1 numbers by Friday?\n\nDana")
    ]
    assert s.contact == "Dana Reyes"


def test_email_reply_falls_back_to_thread_order():
    cid = "email:<a@x>"
    a = msg(cid, 1, "dana@x.org", "Lunch on Tuesday?", 0, subject="Lunch", locator="@0")
    b = msg(cid, 2, "Me", "Tuesday works, see you at noon.", 3, me=True, subject="Re: Lunch", locator="@10")
    [s] = email_samples(cid, [a, b], DatasetConfig())
    assert s.kind == "email_reply"
    assert s.context[0][1].startswith("From: Dana\nSubject: Lunch\n\n")


def test_new_email_gets_varied_deterministic_instructions():
    def new(i: int, seed: int) -> str:
        cid = f"email:<n{i}@x>"
        m = msg(
            cid,
            1,
            "Me",
            "Hi Dana, attached is the report for this quarter.",
            0,
            me=True,
            subject=f"Report {i}",
            locator=f"<n{i}@x>",
            extra={"to": ["Dana Reyes <dana@x.org>"]},
        )
        [s] = email_samples(cid, [m], DatasetConfig(seed=seed))
        assert s.kind == "email_new" and s.contact == "Dana Reyes"
        return s.context[0][1]

    texts = [new(i, 1) for i in range(20)]
    assert all("Dana Reyes" in t and f"report {i}" in t.lower() for i, t in enumerate(texts))
    assert len({t.lower().replace(f"report {i}", "") for i, t in enumerate(texts)}) >= 3  # varied
    assert texts == [new(i, 1) for i in range(20)]  # deterministic
    cid = "email:<q@x>"
    only = msg(cid, 1, "Me", "Hello there, a new email to someone.", 0, me=True, locator="<q@x>")
    assert email_samples(cid, [only], DatasetConfig(include_new_emails=False)) == []


def test_email_cleanup_helpers():
    body = "Thanks!\n\nSent from my iPhone\n-- \nJo Bloggs\nCEO"
    assert clean_email_body(body) == "Thanks!"
    assert clean_email_body("Yes.\n> quoted\n> more") == "Yes."
    assert display_name("Dana Reyes <dana@x.org>") == "Dana Reyes"
    assert display_name("sam.lee@x.org") == "Sam"


def test_parse_ts_normalizes_zones():
    assert parse_ts("2024-03-01T10:00:00+01:00") == parse_ts("2024-03-01T09:00:00")
    assert parse_ts("garbage") is None


def test_instruction_punctuation():
    from twin.dataset.instructions import template_instruction

    for key in map(str, range(30)):
        text = template_instruction(to="Priya", subject="Dinner on Friday?", reply=False, seed=1, key=key)
        assert not text.endswith("?.") and not text.endswith("..")
