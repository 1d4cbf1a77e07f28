"""ChatML records (validated), the same data as ShareGPT for LLaMA-Factory, and dataset_info.json."""

from __future__ import annotations

from typing import Any

from twin.dataset.records import Sample
from twin.errors import InvalidInput


def to_chatml(system: str, sample: Sample) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}]
    messages += [{"role": role, "content": text} for role, text in sample.context]
    messages.append({"role": "assistant", "content": sample.target})
    return {"messages": messages}


def validate_chatml(record: Any) -> None:
    """System first, then user/assistant alternating starting with user, ending with assistant;
    every content a non-empty string. Raises InvalidInput saying what is wrong."""
    hint = 'Each line must be {"messages": [system, user, assistant, …]} with non-empty strings.'
    if not isinstance(record, dict) or set(record) != {"messages"}:
        raise InvalidInput("A ChatML record must be an object with only a 'messages' list.", hint)
    msgs = record["messages"]
    if not isinstance(msgs, list) or len(msgs) < 3:
        raise InvalidInput("A ChatML record needs a system, a user and an assistant message.", hint)
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            raise InvalidInput(f"Message {i} must have exactly 'role' and 'content'.", hint)
        if not isinstance(m["content"], str) or not m["content"].strip():
            raise InvalidInput(f"Message {i} has empty content.", hint)
        want = "system" if i == 0 else ("user" if i % 2 == 1 else "assistant")
        if m["role"] != want:
            raise InvalidInput(f"Message {i} has role '{m['role']}' where '{want}' belongs.", hint)
    if msgs[-1]["role"] != "assistant":
        raise InvalidInput("A ChatML record must end with the assistant's message.", hint)


def to_sharegpt(record: dict[str, Any]) -> dict[str, Any]:
    msgs = record["messages"]
    names = {"user": "human", "assistant": "gpt"}
    return {
        "system": msgs[0]["content"],
        "conversations": [{"from": names[m["role"]], "value": m["content"]} for m in msgs[1:]],
    }


def dataset_info(name: str) -> dict[str, Any]:
    """LLaMA-Factory's dataset_info.json entries for the ShareGPT files."""

    def entry(file_name: str) -> dict[str, Any]:
        return {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"},
        }

    return {f"twin_{name}_train": entry("train_sharegpt.json"), f"twin_{name}_val": entry("val_sharegpt.json")}
