"""The rolling summary of turns that no longer fit the window: written by the LLM (in the background,
after the reply) when a capable model is configured, else by a heuristic that keeps the first sentence
of each turn. It is stored on the conversation with the last turn it covers."""

from __future__ import annotations

from twin.chat.conversations import ChatTurn
from twin.memory.english import sentences
from twin.providers.llm import LLM, ChatMessage, LLMOptions

MAX_SUMMARY_CHARS = 1500


def heuristic_summary(previous: str, turns: list[ChatTurn], label: str) -> str:
    lines = [previous] if previous else []
    for t in turns:
        first = (sentences(t.text) or [t.text])[0][:160]
        lines.append(f"{'User' if t.role == 'user' else label}: {first}")
    text = "\n".join(lines)
    return text[-MAX_SUMMARY_CHARS:]


async def llm_summary(llm: LLM, previous: str, turns: list[ChatTurn], label: str) -> str:
    transcript = "\n".join(f"{'User' if t.role == 'user' else label}: {t.text}" for t in turns)
    prompt = (
        "Update the running summary of a conversation. Keep names, facts, decisions and open questions; "
        "at most 120 words; plain sentences.\n\n"
        f"Summary so far:\n{previous or '(none)'}\n\nNew turns:\n{transcript}"
    )
    result = await llm.chat(
        [ChatMessage(role="user", content=prompt)], LLMOptions(max_tokens=200, temperature=0.2, timeout_s=60)
    )
    return result.text.strip()[:MAX_SUMMARY_CHARS] or heuristic_summary(previous, turns, label)
