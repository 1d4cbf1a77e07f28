from __future__ import annotations

from pathlib import Path

import pytest

from twin.dataset.redact import TYPES, Redactor, iban_ok, luhn_ok
from twin.dataset.redact_quality import read_cases, score


def red(text: str, **kw) -> str:
    return Redactor(**kw).redact(text)


def test_checksums():
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("DE89 3704 0044 0532 0130 01")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("write to dana.reyes@example.org today", "write to <EMAIL_1> today"),
        ("call me on +44 20 7946 0958", "call me on <PHONE_1>"),
        ("my cell is (555) 123-4567", "my cell is <PHONE_1>"),
        ("card 4111 1111 1111 1111 exp", "card <CARD_1> exp"),
        ("pay to GB82 WEST 1234 5698 7654 32 please", "pay to <IBAN_1> please"),
        ("reset: https://acme.io/reset?token=abc123xyz", "reset: <URL_1>"),
        ("I live at 221 Baker Street now", "I live at <ADDRESS_1> now"),
        ("neue Adresse: Hauptstraße 5", "neue Adresse: <ADDRESS_1>"),
        ("Your verification code is 482913.", "Your verification code is <CODE_1>."),
        ("the wifi password is hunter22", "the wifi password is <PASSWORD_1>"),
        ("use sk-abcdefghijklmnop1234 for it", "use <SECRET_1> for it"),
        ("api_key=AbCdEf1234567890XyZ1", "api_key=<SECRET_1>"),
    ],
)
def test_each_redactor(text, expected):
    assert red(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "see you at 10:30 on 2024-03-15",
        "I have 3 kids and 1500 euros",
        "card 4111 1111 1111 1112 is not valid",
        "https://example.com/about is the page",
        "meeting in room 42 at 3pm",
    ],
)
def test_leaves_ordinary_text(text):
    assert red(text) == text


def test_placeholders_consistent_and_counted():
    r = Redactor()
    a = r.redact("mail a@x.org or b@y.org")
    b = r.redact("again A@X.org")
    assert a == "mail <EMAIL_1> or <EMAIL_2>"
    assert b == "again <EMAIL_1>"
    assert r.report() == {"EMAIL": 3}
    assert "a@x.org" not in str(r.report())


def test_allow_list_and_types():
    assert red("write to work@acme.com", allow_list=["WORK@acme.com"]) == "write to work@acme.com"
    assert red("write to a@b.com, +44 20 7946 0958", types=["PHONE"]) == "write to a@b.com, <PHONE_1>"


LABELLED = Path(__file__).resolve().parents[1] / "data" / "redaction" / "labelled.jsonl"


@pytest.mark.parametrize(
    "text",
    [
        "Wednesday at 1 at the usual place?",
        "we leave at 6\ngrab breakfast on the way",
        "back at 5\nthen dinner at the same place as last time",
        "train leaves 9.30-11.00, platform 4",
        "the 2023-2024 season was rough",
        "forgot my password again lol",
        "dress code for 2025 is smart casual",
    ],
)
def test_times_numbers_and_lines_survive(text):
    assert red(text) == text


def test_detectors_on_labelled_chat_text():
    """Precision and recall per type on realistic chat and email lines, true and false positives."""
    cases = read_cases(LABELLED)
    assert sum(not c["spans"] for c in cases) >= 50  # enough ordinary text to catch false positives
    result = score(cases)
    print({k: (v["precision"], v["recall"]) for k, v in result["types"].items()})
    assert set(result["types"]) == set(TYPES)
    for kind, s in result["types"].items():
        assert s["tp"] >= 3, kind
        assert s["precision"] >= 0.95 and s["recall"] >= 0.9, (kind, s, result["errors"])


def test_examples_show_before_and_after():
    r = Redactor(examples_per_type=1)
    r.redact("ok so my number is +44 20 7946 0958, call after lunch")
    r.redact("and the other one is +44 20 7946 0000")
    ex = r.example_report()
    assert ex == {
        "PHONE": [
            {
                "before": "ok so my number is +44 20 7946 0958, call after lunch",
                "after": "ok so my number is <PHONE_1>, call after lunch",
            }
        ]
    }
    assert Redactor().example_report() == {}
