"""The model-free extractor on natural phrasing: what becomes a fact (third person, self-contained,
tagged for supersession), and what does not (questions, hedges, small talk, moods, talk about the bot)."""

from __future__ import annotations

from datetime import date

import pytest

from twin.memory.extract_rules import RuleExtractor

X = RuleExtractor("Thota", today=date(2026, 3, 2))


def facts(text: str) -> list[tuple[str, str | None, bool, bool]]:
    return [(c.text, c.subject, c.single_valued, c.ends) for c in X.extract(text, ["m1"])]


@pytest.mark.parametrize(
    ("said", "text", "subject"),
    [
        ("I'm at Acme now", "Thota works at Acme.", "user.employer"),
        ("Just started at Umbrella Corp last week!", "Thota works at Umbrella Corp.", "user.employer"),
        ("these days I work for Initech", "Thota works at Initech.", "user.employer"),
        ("We moved to Lisbon in the spring, actually I moved to Lisbon", "Thota lives in Lisbon.", "user.home"),
        ("i live in Leeds", "Thota lives in Leeds.", "user.home"),
        ("I'm originally from Hyderabad", "Thota is from Hyderabad.", "user.hometown"),
        ("My wife is called Anna", "Thota's wife is Anna.", "user.partner"),
        ("My favourite band is Radiohead", "Thota's favourite band is Radiohead.", "user.favorite_band"),
        ("I turned 34 in January", "Thota is 34 years old.", "user.age"),
        ("I'm a software engineer", "Thota is a software engineer.", "user.job"),
        ("I have two kids", "Thota has two kids.", "user.count_kids"),
        ("Priya is my sister", "Priya is Thota's sister.", "user.relation.sister.priya"),
        ("My brother Ravi teaches chemistry in Leeds.", "Thota's brother Ravi teaches chemistry in Leeds.", None),
    ],
)
def test_natural_statements(said: str, text: str, subject: str | None) -> None:
    got = facts(said)
    assert any(t.startswith(text[:-1]) for t, *_ in got), got
    if subject:
        assert any(s == subject for t, s, *_ in got if t.startswith(text[:-1])), got


def test_correction_in_one_breath() -> None:
    got = facts("I left Globex in March, I'm at Acme now")
    assert ("Thota left Globex in March.", "user.employer", True, True) in got
    assert ("Thota works at Acme.", "user.employer", True, False) in got


def test_preferences_contradict_and_dates_are_anchored() -> None:
    like = facts("I really love coffee")[0]
    hate = facts("Honestly? I hate coffee now")
    assert like[1] == "user.likes.coffee" and like[2]
    assert hate == [("Thota hates coffee now.", "user.likes.coffee", True, False)]  # the question is skipped
    assert facts("my exam is on Friday")[0][0] == "Thota's exam is on Friday (said on 2026-03-02)."


def test_ending_a_habit() -> None:
    (text, subject, _single, ends), *_ = facts("I don't play the cello anymore")
    assert ends and subject == facts("I play the cello")[0][1]


@pytest.mark.parametrize(
    "said",
    [
        "Where do I work?",
        "I'm fine, thanks!",
        "I think I might move to Berlin",
        "I'm so tired today",
        "I see",
        "I like you a lot",
        "Can you remind me tomorrow?",
        "ok",
        "I'm at home now",
    ],
)
def test_not_facts(said: str) -> None:
    assert facts(said) == []


def test_permissive_keeps_hedged_plans() -> None:
    loose = RuleExtractor("Thota", permissive=True)
    assert loose.extract("I think I might move to Berlin", ["m"])
