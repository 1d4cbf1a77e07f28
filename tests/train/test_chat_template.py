from __future__ import annotations

import jinja2
import pytest

from twin.chat_template import CHATML, FAMILIES, LLAMA3, detect_family, get_family, jinja_for
from twin.errors import UnsupportedFormat

CONV = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Lunch?"},
    {"role": "assistant", "content": "Noon works."},
    {"role": "user", "content": "Where?"},
]


@pytest.mark.parametrize("family", list(FAMILIES.values()), ids=list(FAMILIES))
@pytest.mark.parametrize("gen", [True, False])
def test_jinja_and_ollama_forms_render_the_same_prompt(family, gen: bool) -> None:
    jinja = jinja2.Environment().from_string(family.jinja).render(messages=CONV, add_generation_prompt=gen)
    expected = family.render(CONV, add_generation_prompt=gen)
    if family is LLAMA3:
        expected = "<|begin_of_text|>" + expected
    assert jinja == expected
    # The Go template is the same wire format: turn markers and the generation prefix appear as rendered.
    assert family.ollama.endswith(family.assistant_prefix)
    assert "{{ .Role }}" in family.ollama and "{{ .Content }}" in family.ollama


def test_detect_family_from_model_templates() -> None:
    assert detect_family(None) is CHATML
    assert detect_family("{{'<|im_start|>' + message['role']}}") is CHATML
    assert detect_family("{{ '<|start_header_id|>' }}") is LLAMA3
    with pytest.raises(UnsupportedFormat):
        detect_family("[INST] {{ message }} [/INST]")
    with pytest.raises(UnsupportedFormat):
        get_family("vicuna")
    assert jinja_for(None) == CHATML.jinja and jinja_for("x") == "x"
