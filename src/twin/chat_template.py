"""The one source of chat templates shared by training, export and serving.

Training renders conversations with the base model's own Jinja template (from its tokenizer or GGUF);
export writes the equivalent Ollama (Go) template and stop tokens into the Modelfile, and a merged
GGUF carries the very same Jinja template that training used. A template *family* ties these three
forms together; `render()` is a plain-Python rendering of the family's wire format, used by tests to
prove that the Jinja and the Go forms produce the same prompt text.

No heavy imports here: the writing and serving stages import this module too.
"""

from __future__ import annotations

from dataclasses import dataclass

from twin.errors import UnsupportedFormat


@dataclass(frozen=True)
class TemplateFamily:
    """One chat wire format in its three forms."""

    name: str
    marker: str  # a substring that identifies this family inside a Jinja template
    jinja: str  # reference Jinja template (used when a tokenizer has none)
    ollama: str  # Go template for an Ollama Modelfile TEMPLATE
    stop: tuple[str, ...]  # stop strings for runtimes (Ollama PARAMETER stop, llama.cpp, vLLM)
    turn_start: str
    turn_end: str
    assistant_prefix: str

    def render(self, messages: list[dict[str, str]], *, add_generation_prompt: bool = False) -> str:
        """Plain-Python rendering of this wire format (what the Ollama template produces)."""
        parts = [self.turn_start.format(role=m["role"]) + m["content"] + self.turn_end for m in messages]
        if add_generation_prompt:
            parts.append(self.assistant_prefix)
        return "".join(parts)


CHATML = TemplateFamily(
    name="chatml",
    marker="<|im_start|>",
    jinja=(
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
        " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
        "{% endif %}"
    ),
    ollama=(
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    ),
    stop=("<|im_end|>", "<|im_start|>", "<|endoftext|>"),
    turn_start="<|im_start|>{role}\n",
    turn_end="<|im_end|>\n",
    assistant_prefix="<|im_start|>assistant\n",
)

LLAMA3 = TemplateFamily(
    name="llama3",
    marker="<|start_header_id|>",
    jinja=(
        "{{ '<|begin_of_text|>' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role']"
        " + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
    ),
    ollama=(
        "<|begin_of_text|>{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
        "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    stop=("<|eot_id|>", "<|start_header_id|>", "<|end_of_text|>"),
    turn_start="<|start_header_id|>{role}<|end_header_id|>\n\n",
    turn_end="<|eot_id|>",
    assistant_prefix="<|start_header_id|>assistant<|end_header_id|>\n\n",
)

FAMILIES: dict[str, TemplateFamily] = {f.name: f for f in (CHATML, LLAMA3)}


def get_family(name: str) -> TemplateFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnsupportedFormat(
            f"Unknown chat template family '{name}'.", f"Use one of: {', '.join(sorted(FAMILIES))}."
        ) from None


def detect_family(jinja_template: str | None) -> TemplateFamily:
    """The family a model's Jinja chat template belongs to (ChatML when the model has none)."""
    if not jinja_template:
        return CHATML
    for family in FAMILIES.values():
        if family.marker in jinja_template:
            return family
    raise UnsupportedFormat(
        "The base model's chat template is not one twin can reproduce for Ollama (neither ChatML nor Llama 3).",
        "Pick a ChatML (Qwen, SmolLM) or Llama 3 base model, or serve the merged GGUF, which embeds the template.",
    )


def jinja_for(tokenizer_template: str | None) -> str:
    """The Jinja template training uses: the model's own, or the ChatML reference when it has none."""
    return tokenizer_template or CHATML.jinja
