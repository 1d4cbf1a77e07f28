from __future__ import annotations

from pathlib import Path

import pytest

from twin.chat_template import CHATML, LLAMA3
from twin.errors import InvalidInput
from twin.export.ollama import ModelSpec, render_modelfile, template_symptoms


def test_modelfile_has_from_adapter_template_system_and_parameters(tmp_path: Path) -> None:
    spec = ModelSpec(
        name="thota-writing",
        base=tmp_path / "base.gguf",
        family=CHATML,
        adapter=tmp_path / "thota-lora.gguf",
        system="You are Thota.",
    )
    text = render_modelfile(spec, tmp_path)
    lines = text.splitlines()
    assert lines[0] == "FROM ./base.gguf" and lines[1] == "ADAPTER ./thota-lora.gguf"
    assert f'TEMPLATE """{CHATML.ollama}"""' in text
    assert 'SYSTEM """You are Thota."""' in text
    stops = [line for line in lines if line.startswith("PARAMETER stop ")]
    assert stops == [f'PARAMETER stop "{s}"' for s in CHATML.stop]
    assert "PARAMETER temperature 0.7" in lines and "PARAMETER num_ctx 4096" in lines


def test_modelfile_from_an_ollama_model_and_absolute_paths(tmp_path: Path) -> None:
    spec = ModelSpec(name="x", base="qwen2.5:7b-instruct", family=LLAMA3, adapter=tmp_path / "a" / "l.gguf")
    text = render_modelfile(spec, tmp_path)
    assert text.startswith("FROM qwen2.5:7b-instruct\nADAPTER " + str(tmp_path / "a" / "l.gguf"))
    assert '"<|eot_id|>"' in text
    with pytest.raises(InvalidInput):
        render_modelfile(ModelSpec(name="x", base="b", family=CHATML, system='say """hi"""'))


@pytest.mark.parametrize(
    ("text", "reason", "symptom"),
    [
        ("", "stop", "empty output"),
        ("Hello! " * 30, "length", "never stopped"),
        ("Sure. Write one short sentence saying hello.", "stop", "echoed the prompt"),
        ("Hi<|im_end|>\n<|im_start|>user", "stop", "template tokens"),
    ],
)
def test_template_mismatch_symptoms(text: str, reason: str, symptom: str) -> None:
    problems = template_symptoms(text, "Write one short sentence saying hello.", reason, CHATML)
    assert any(symptom in p for p in problems)


def test_a_clean_answer_has_no_symptoms() -> None:
    assert template_symptoms("Hello there, nice to meet you.", "Say hello.", "stop", CHATML) == []
