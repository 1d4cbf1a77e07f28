"""The character's persona and dataset from their lines, and a voice (voice id) from their clips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.media.conftest import Film
from tests.media.test_characters import _speaker_of

from twin.errors import InvalidInput
from twin.media import characters, service


def test_persona_card_and_dataset_from_real_exchanges(project, film: Film) -> None:  # noqa: ANN001
    from twin.dataset.chatml import validate_chatml
    from twin.train.data import dataset_files, read_jsonl

    for who in ("Ann", "Bob", "Carl"):
        characters.set_name(project, _speaker_of(project, who, film), who)
    report = service.persona(project, "ann", use_llm=False)  # names match case-insensitively
    assert report["character"] == "Ann" and report["summarized_by"] == "statistics"
    card = json.loads(Path(report["card"]).read_text(encoding="utf-8"))
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    data = card["data"]
    for key in ("name", "description", "personality", "scenario", "first_mes", "mes_example", "system_prompt", "tags"):
        assert key in data
    assert data["name"] == "Ann" and "{{char}}:" in data["mes_example"]
    assert '"you know what"' in data["system_prompt"].lower()  # Ann's catchphrase, found in her lines
    assert "questions" in data["system_prompt"]  # most of Ann's lines are questions
    assert "Bob" in data["description"] and "Carl" in data["description"]
    train, val = dataset_files(project.profile.dataset_dir(report["dataset"]))
    loaded = read_jsonl(train)
    assert not loaded.skipped and loaded.conversations
    lines = film.scene.lines
    pairs = {
        (a.text, b.text) for a, b in zip(lines, lines[1:], strict=False) if b.speaker == "Ann" and a.speaker != "Ann"
    }
    records = loaded.conversations + (read_jsonl(val).conversations if val.is_file() else [])
    for conv in records:
        validate_chatml({"messages": conv})
        assert (conv[1]["content"], conv[2]["content"]) in pairs  # the line before + Ann's real reply
        assert conv[0]["content"] == data["system_prompt"]
    assert len(records) == report["exchanges"] >= 5


def test_persona_summary_by_the_llm(project, film: Film, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    characters.set_name(project, _speaker_of(project, "Ann", film), "Ann")
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")
    from twin.backends import llm_fake

    reply = '{"description": "Ann is the impatient planner of the trip.", "style_rules": ["Asks pointed questions."]}'
    monkeypatch.setattr(llm_fake, "create", lambda **kw: llm_fake.FakeLLM(replies=[reply]))
    report = service.persona(project, "Ann", use_llm=True)
    assert report["summarized_by"] == "llm" and report["style_rules"] == ["Asks pointed questions."]
    monkeypatch.setattr(llm_fake, "create", lambda **kw: llm_fake.FakeLLM(replies=["no json here"]))
    assert service.persona(project, "Ann", use_llm=True)["summarized_by"] == "statistics"  # unusable answer


def test_persona_needs_lines(project, film: Film) -> None:  # noqa: ANN001
    carl = _speaker_of(project, "Carl", film)
    characters.set_name(project, carl, "Carl")
    for s in [s for s in characters.load_segments(project) if s.speaker == carl][1:]:
        characters.relabel(project, s.id, "drop")
    with pytest.raises(InvalidInput, match="a persona needs at least 3"):
        service.persona(project, "Carl")


def test_train_voice_gives_a_voice_id_with_its_evaluation(project, film: Film) -> None:  # noqa: ANN001
    from twin.voice.profiles import get_voice

    ann = _speaker_of(project, "Ann", film)
    characters.set_name(project, ann, "Ann")
    report = service.train_voice(project, "Ann", evaluate=True)
    voice = get_voice(project.profile, report["voice_id"])
    assert voice.name == "Ann" and voice.source == "library" and voice.duration_s >= 8
    assert report["train"]["trained_on"] >= 3
    ev = report["eval"]
    assert ev is None or (0 < ev["similarity"] <= 1 and ev["similarity"] > ev["base_similarity"])
    assert service.voices(project) == {"Ann": report["voice_id"]}
    persona = service.persona(project, "Ann")
    assert persona["voice_id"] == report["voice_id"]
    card = json.loads(Path(persona["card"]).read_text(encoding="utf-8"))
    assert card["data"]["extensions"]["twin"]["voice_id"] == report["voice_id"]
    from contextlib import closing

    from twin.chat.personas import PersonaStore
    from twin.store.db import connect

    assert persona["persona_store"]["persona"] == "ann"
    with closing(connect(project.profile)) as conn:
        stored = PersonaStore(conn).get("ann")
    assert stored.voice_id == report["voice_id"] and stored.display_name == "Ann"  # what `twin chat` speaks with


def test_persona_is_in_the_chat_store_and_a_users_own_is_kept(project, film: Film) -> None:  # noqa: ANN001
    from contextlib import closing

    from twin.chat.personas import PersonaFields, PersonaStore
    from twin.store.db import connect

    for who in ("Ann", "Bob"):
        characters.set_name(project, _speaker_of(project, who, film), who)
    first = service.persona(project, "Ann", use_llm=False)["persona_store"]
    assert first["created"] is True and first["persona"] == "ann"
    again = service.persona(project, "Ann", use_llm=False)["persona_store"]
    assert again["updated"] is True  # rerunning the stage refreshes the persona it made
    with closing(connect(project.profile)) as conn:
        store = PersonaStore(conn)
        assert [p.name for p in store.list()].count("ann") == 1
        assert store.get("Ann").name == "ann"  # `twin chat --persona Ann` finds it by the character's name
        assert "you know what" in store.get("ann").prompt.lower() or store.get("ann").examples
        store.create("bob", PersonaFields(display_name="My friend Bob", prompt="You are my friend Bob."))
    kept = service.persona(project, "Bob", use_llm=False)["persona_store"]
    assert kept["persona"] is None and "already exists" in kept["reason"] and "bob-film" in kept["import"]
    with closing(connect(project.profile)) as conn:
        assert PersonaStore(conn).get("bob").prompt == "You are my friend Bob."
