"""The training check's verdicts and wording, and how the CLI decides when a converter fails it."""

from __future__ import annotations

import pytest

from twin.voice.clone.gate import VoiceScores, judge
from twin.voice.config import TrainConfig


def test_harder_to_understand_is_refused_with_the_threshold_and_advice() -> None:
    report = judge(VoiceScores(0.0, 0.73), VoiceScores(0.33, 0.84), TrainConfig(), "zero-shot cloning")
    assert not report.passed
    checks = {c.name: c for c in report.checks}
    assert not checks["intelligibility"].passed and checks["similarity"].passed
    assert checks["intelligibility"].message == "word error rate 0.00 → 0.33 (may rise by at most 0.10)"
    assert any("record more neutral speech" in a for a in report.advice)
    assert report.to_dict()["passed"] is False


def test_similarity_below_target_is_reported_but_an_improvement_passes() -> None:
    report = judge(VoiceScores(0.05, 0.70), VoiceScores(0.08, 0.73), TrainConfig(), "zero-shot cloning")
    assert report.passed
    assert any(a.startswith("similarity 0.73 is below 0.75:") for a in report.advice)


def test_less_like_the_owner_is_refused_and_margins_come_from_the_config() -> None:
    cfg = TrainConfig(max_similarity_drop=0.05, max_wer_increase=0.2)
    worse = judge(VoiceScores(0.0, 0.82), VoiceScores(0.15, 0.76), cfg, "the current trained converter")
    assert not worse.passed and [c.passed for c in worse.checks] == [True, False]
    assert "(may fall by at most 0.05)" in worse.checks[1].message
    assert judge(VoiceScores(0.0, 0.82), VoiceScores(0.2, 0.77), cfg, "x").passed  # exactly at both margins


@pytest.mark.parametrize(
    ("force", "tty", "answer", "expected"),
    [(True, False, False, True), (False, False, True, False), (False, True, True, True), (False, True, False, False)],
)
def test_accepting_a_failed_converter(monkeypatch, force: bool, tty: bool, answer: bool, expected: bool) -> None:
    from twin.cli import speech

    asked: list[str] = []
    monkeypatch.setattr(speech, "is_tty", lambda: tty)
    monkeypatch.setattr(speech.sys.stdin, "isatty", lambda: tty, raising=False)
    monkeypatch.setattr(speech.typer, "confirm", lambda text, **_k: asked.append(text) or answer)
    report = judge(VoiceScores(0.0, 0.8), VoiceScores(0.5, 0.8), TrainConfig(), "zero-shot cloning")
    assert speech._accept(force, json_out=False)(report) is expected
    assert bool(asked) == (tty and not force)
    assert speech._accept(False, json_out=True)(report) is False  # --json never prompts
