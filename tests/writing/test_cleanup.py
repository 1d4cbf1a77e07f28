"""The cleaner strips wrappers and never cuts the draft itself (property-tested)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from twin.writing.cleanup import StreamCleaner, _is_note, clean_draft

WORDS = [
    "thanks",
    "Sam",
    "the",
    "release",
    "went",
    "well",
    "I",
    "owe",
    "you",
    "a",
    "coffee",
    "see",
    "tomorrow",
    "Monday",
    "works",
    "fine",
    "no",
    "rush",
    "ping",
    "me",
    "if",
    "it",
    "breaks",
    "again",
]
word = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=10),
)
sentence = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(word, min_size=1, max_size=12),
    st.sampled_from([".", "!", "?", ",", "", " —", " :)"]),
)
paragraph = st.builds(" ".join, st.lists(sentence, min_size=1, max_size=4))
body = st.builds(
    lambda ps, sep: sep.join(ps), st.lists(paragraph, min_size=1, max_size=3), st.sampled_from(["\n\n", "\n"])
)

PREAMBLES = [
    "",
    "Sure! Here's a draft:\n\n",
    "Here's a draft:\n",
    "Certainly!\n\n",
    "Of course. Here is a short reply:\n\n",
    "Here's a quick draft for you: ",
    "**Draft:**\n",
    "Sure!\nHere is the email:\n",
]
NOTES = [
    "",
    "\n\nFeel free to adjust the tone.",
    "\n\nNote: I kept it short and direct.",
    "\n\nThis draft keeps your usual tone.",
    "\n\n---\nLet me know if you want changes.",
]
MARKERS = [("", ""), ("[DRAFT]\n", "\n[/DRAFT]"), ("[Draft] ", " [END DRAFT]")]
FENCES = [("", ""), ("```\n", "\n```"), ("```text\n", "\n```")]
QUOTES = [("", ""), ('"', '"'), ("“", "”")]


def _plain(b: str) -> str:
    b = b.strip()
    assume(b)
    assume(clean_draft(b) == b)  # bodies the cleaner itself would (correctly) treat as wrappers are out
    return b


@settings(max_examples=150, deadline=None)
@given(body)
def test_plain_drafts_are_untouched(b: str) -> None:
    b = b.strip()
    assume(b)
    lines = [ln for ln in b.split("\n\n")]
    assume(not any(_is_note(p) for p in lines[1:]))
    assert clean_draft(b) == b


@settings(max_examples=200, deadline=None)
@given(
    body,
    st.sampled_from(PREAMBLES),
    st.sampled_from(NOTES),
    st.sampled_from(MARKERS),
    st.sampled_from(FENCES),
    st.sampled_from(QUOTES),
)
def test_wrappers_removed_draft_kept(b, pre, note, marker, fence, quote) -> None:
    b = _plain(b)
    if quote[0]:
        assume('"' not in b and "“" not in b and "”" not in b)
    inner = quote[0] + b + quote[1]
    wrapped = pre + marker[0] + fence[0] + inner + fence[1] + marker[1] + note
    assert clean_draft(wrapped) == b


@settings(max_examples=150, deadline=None)
@given(body, st.sampled_from(PREAMBLES), st.sampled_from(NOTES), st.sampled_from(MARKERS), st.data())
def test_stream_matches_final(b, pre, note, marker, data) -> None:
    b = _plain(b)
    raw = pre + marker[0] + b + marker[1] + note
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=20)))
    pieces = [raw[i:j] for i, j in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    sc = StreamCleaner()
    shown = "".join(sc.feed(p) for p in pieces)
    rest, final = sc.finish()
    assert final == clean_draft(raw) == b
    assert shown + rest == final and not sc.diverged


@given(st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_never_empty_never_invents(text: str) -> None:
    out = clean_draft(text)
    if text.strip():
        assert out.strip()
    for w in out.split():
        assert w in text


def test_examples() -> None:
    assert clean_draft("Sure thing, I'll be there at 5.") == "Sure thing, I'll be there at 5."
    assert clean_draft("Here's the plan: we ship Monday.") == "Here's the plan: we ship Monday."
    assert clean_draft('"Thanks!" she said. Then we left.') == '"Thanks!" she said. Then we left.'
    assert clean_draft("Sure!") == "Sure!"
    assert clean_draft("Thanks Sam.\n\nNote: the build is green now.") == "Thanks Sam."
    kept = "Dear Sam,\n\nI hope this message finds you well.\n\nLet me know if you need anything."
    assert clean_draft("Here's a possible response:\n\n" + kept + "\n\nFeel free to adjust the tone.") == kept


SECOND = [
    "\n---\n",
    "\n\n---\n\n",
    "\n***\n",
    "\n\nDraft 2:\n",
    "\n\n**Option 2:** ",
    "\n\nAlternatively:\n",
    "\n\nAnother version, a bit shorter:\n",
    "\nUser: ",
    "\n\nAssistant: ",
    "<|im_end|>\n<|im_start|>user\n",
    "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n",
    "<|im_start|>",
]
FIRST = ["", "Draft 1:\n", "**Option 1:** "]


@settings(max_examples=120, deadline=None)
@given(body, body, st.sampled_from(SECOND), st.sampled_from(FIRST), st.sampled_from(PREAMBLES), st.data())
def test_one_draft_comes_out_of_many(first, second, marker, heading, pre, data) -> None:
    """Whatever a model writes after a separator, a second-draft heading or a new turn is cut, in the
    final text and in the stream (what is shown is always a prefix of the final draft)."""
    first = _plain(first)
    assume(not any(first.lower().startswith(h.strip(" *:\n").lower()) for h in FIRST if h))
    raw = pre + heading + first + marker + second
    assert clean_draft(raw) == first
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=25)))
    pieces = [raw[i:j] for i, j in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    sc = StreamCleaner()
    shown = "".join(sc.feed(p) for p in pieces)
    rest, final = sc.finish()
    assert final == first and shown + rest == final and not sc.diverged


def test_second_draft_examples() -> None:
    seven = "\n---\n".join(f"Thanks so much for your help, draft {i}" for i in range(7))
    assert clean_draft(seven) == "Thanks so much for your help, draft 0"
    assert clean_draft("Draft 2 is attached, have a look.") == "Draft 2 is attached, have a look."
    assert clean_draft("Thanks Sam!\n---") == "Thanks Sam!"
    # the model copies the exemplar separators around its draft
    assert clean_draft("Here's a draft:\n---\nThanks Sam!\n---\nThanks again Sam!") == "Thanks Sam!"
    assert clean_draft("---\nHi Sam, thanks!\n---") == "Hi Sam, thanks!"
    assert clean_draft("Thanks Sam<|im_end|>") == "Thanks Sam"
