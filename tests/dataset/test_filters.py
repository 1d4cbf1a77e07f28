from __future__ import annotations

import pytest

from twin.dataset import filters as F
from twin.dataset.language import LanguageDetector


def test_kind_and_flags():
    assert F.check_kind("text", ["system", "media"]).keep
    assert F.check_kind("media", ["system", "media"]) == F.drop("kind_media")
    assert F.check_flags([], ["list"]).keep
    assert F.check_flags(["forwarded", "list"], ["list", "forwarded"]).reason == "flag_forwarded"
    assert F.check_flags(["bcc_only"], ["list"]).keep


def test_min_chars():
    assert F.check_min_chars("x" * 20, 20).keep
    assert F.check_min_chars("   short text   ", 20).reason == "too_short"


@pytest.mark.parametrize(
    "text,keep",
    [
        ("https://example.com/a?b=c", False),
        ("  www.example.org  !", False),
        ("look: https://example.com", True),
        ("no links here at all", True),
    ],
)
def test_link_only(text, keep):
    assert F.check_link_only(text).keep is keep


@pytest.mark.parametrize(
    "text,keep",
    [
        ("😂😂😂", False),
        ("👍 ❤️ !!", False),
        ("🎉 congrats on the new job!", True),
        ("ok", True),
    ],
)
def test_emoji_only(text, keep):
    assert F.check_emoji_only(text).keep is keep


def test_language_filter():
    assert F.check_language("en", ["en"], True).keep
    assert F.check_language("de", ["en"], True).reason == "language_de"
    assert F.check_language("und", ["en"], True).keep
    assert F.check_language("und", ["en"], False).reason == "language_undetected"
    assert F.check_language("fr", [], False).keep


def test_token_budget_and_estimate():
    assert F.estimate_tokens("") == 0
    assert 9 <= F.estimate_tokens("The quick brown fox jumps over the lazy dog.") <= 14
    assert F.sample_tokens([("user", "hi"), ("assistant", "hello")]) == 12
    assert F.check_token_budget(1024, 1024).keep
    assert F.check_token_budget(1025, 1024).reason == "too_long"


def test_review_filter():
    assert F.check_review("a" * 16, {"b" * 16}).keep
    assert F.check_review("a" * 16, {"a" * 16}).reason == "review_dropped"


def test_language_detection_uses_joined_text():
    d = LanguageDetector()
    assert d.detect("ok") == "und"
    groups = {
        "c1": ["Hallo!", "Wie geht es dir heute?", "Mir geht es gut, danke der Nachfrage."],
        "c2": ["Hey", "are you coming tonight?", "I think we should leave at eight."],
    }
    assert d.detect_groups(groups) == {"c1": "de", "c2": "en"}
