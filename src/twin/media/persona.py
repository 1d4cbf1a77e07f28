"""A character's persona from their lines: a PersonaDraft (name, description, persona prompt, style rules,
example dialogues taken from real exchanges, voice id), written as a SillyTavern Character Card V2 and as
a ChatML dataset of those exchanges that `twin train` reads.

Summaries come from the profile's LLM when it is a capable one (an Ollama or OpenAI-compatible server)
and from statistics of the lines otherwise (or when the model's answer is unusable)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from twin.errors import InvalidInput, TwinError
from twin.media.characters import character_of
from twin.media.export import character_segments
from twin.media.project import Project, slug
from twin.media.segments import Segment, load_segments
from twin.profiles import Profile, write_text_atomic

TURN_GAP_S = 1.5
REPLY_GAP_S = 5.0
MIN_EXCHANGES = 3
_STOP_WORDS = (
    "a an the and or but if of to in on at for with is are was were be been it its this that these those i you he "
    "she we they me him her us them my your his our their do does did not no so as by from up out what which who "
    "there here then than just very can will would could should have has had am im i'm it's that's don't why how when "
    "where know anyone everybody somebody anything something really"
)
_STOP = frozenset(_STOP_WORDS.split(" "))


class PersonaDraft(BaseModel):
    name: str
    description: str
    persona_prompt: str
    style_rules: list[str] = Field(default_factory=list)
    example_dialogues: list[dict[str, str]] = Field(default_factory=list, description="{user, character} pairs")
    greeting: str = ""
    voice_id: str | None = None
    source: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)
    summarized_by: str = "statistics"


@dataclass
class Turn:
    who: str
    start: float
    end: float
    text: str


def turns(segs: list[Segment]) -> list[Turn]:
    """Consecutive segments of one character joined into turns (text only, dropped segments left out)."""
    out: list[Turn] = []
    for s in sorted((s for s in segs if s.text and not s.dropped), key=lambda s: s.start):
        who = character_of(s)
        if out and out[-1].who == who and s.start - out[-1].end <= TURN_GAP_S:
            out[-1].end, out[-1].text = s.end, f"{out[-1].text} {s.text}"
        else:
            out.append(Turn(who, s.start, s.end, s.text))
    return out


def exchanges(all_turns: list[Turn], name: str) -> list[tuple[Turn, Turn]]:
    """(the line before, the character's reply) where someone else spoke just before."""
    out = []
    for prev, cur in zip(all_turns, all_turns[1:], strict=False):
        if cur.who.lower() == name.lower() and prev.who.lower() != name.lower() and cur.start - prev.end <= REPLY_GAP_S:
            out.append((prev, cur))
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def line_stats(lines: list[str], partners: Counter[str]) -> dict[str, Any]:
    words = [_words(t) for t in lines]
    n_words = sum(len(w) for w in words)
    grams: Counter[str] = Counter()
    for w in words:  # each expression counted once per line; a pair needs a content word ("the road")
        seen = {" ".join(w[i : i + k]) for k in (2, 3, 4) for i in range(len(w) - k + 1)}
        grams.update(g for g in seen if " " in g and (g.count(" ") >= 2 or not all(x in _STOP for x in g.split())))
    phrases = [g for g, c in grams.most_common(40) if c >= 2]
    phrases = [g for g in phrases if not any(g != o and g in o for o in phrases)][:5]
    vocab = Counter(x for w in words for x in w if x not in _STOP and len(x) > 2)
    return {
        "lines": len(lines),
        "words_per_line": round(n_words / max(len(lines), 1), 1),
        "questions": round(sum("?" in t for t in lines) / max(len(lines), 1), 2),
        "exclamations": round(sum("!" in t for t in lines) / max(len(lines), 1), 2),
        "contractions": round(sum(x.count("'") for w in words for x in w) / max(n_words, 1), 3),
        "catchphrases": phrases,
        "frequent_words": [w for w, _ in vocab.most_common(8)],
        "talks_to": [p for p, _ in partners.most_common(3) if not re.fullmatch(r"S\d+", p)],  # named people only
    }


def style_from_stats(name: str, st: dict[str, Any]) -> tuple[str, list[str]]:
    """(description, style rules) from the statistics alone."""
    length = "short, clipped sentences" if st["words_per_line"] < 9 else "full, flowing sentences"
    rules = [f"Speak in {length} (about {st['words_per_line']:.0f} words a line), as {name} does."]
    if st["questions"] >= 0.3:
        rules.append(f"Ask questions often: {st['questions']:.0%} of {name}'s lines are questions.")
    if st["exclamations"] >= 0.2:
        rules.append("Be emphatic; exclamations are common.")
    if st["contractions"] >= 0.02:
        rules.append("Use contractions and spoken, informal wording.")
    if st["catchphrases"]:
        rules.append("Use these expressions now and then: " + "; ".join(f'"{p}"' for p in st["catchphrases"]) + ".")
    rules.append("Stay in character; never mention being an AI, a film or a script.")
    talks = f", mostly talking with {', '.join(st['talks_to'])}" if st["talks_to"] else ""
    desc = f"{name}: {st['lines']} lines in the film{talks}."
    if st["frequent_words"]:
        desc += " Often talks about " + ", ".join(st["frequent_words"][:5]) + "."
    return desc, rules


def _llm_summary(profile: Profile, name: str, lines: list[str]) -> tuple[str, list[str]] | None:
    """Ask the profile's LLM for {"description", "style_rules"}; None when it cannot give usable JSON."""
    from twin.providers.llm import ChatMessage, LLMOptions, open_llm

    sample = "\n".join(f"- {t}" for t in lines[:60])
    prompt = (
        f"Here are lines spoken by the character {name} in a film:\n{sample}\n\n"
        'Reply with JSON only: {"description": "<two sentences about who they are and how they come across>", '
        '"style_rules": ["<how they speak: 3 to 6 short rules>"]}'
    )
    try:
        reply = open_llm(profile).complete_sync(
            [ChatMessage(role="user", content=prompt)], LLMOptions(max_tokens=400, temperature=0.2)
        )
        match = re.search(r"\{.*\}", reply.text, re.S)
        data = json.loads(match.group(0)) if match else {}
    except (TwinError, ValueError):
        return None
    desc, rules = data.get("description"), data.get("style_rules")
    if not isinstance(desc, str) or not desc.strip() or not isinstance(rules, list):
        return None
    rules = [str(r).strip() for r in rules if str(r).strip()][:8]
    return (desc.strip(), rules) if rules else None


def llm_is_capable(profile: Profile) -> bool:
    """The embedded model is too small to characterize anyone; a configured server model is assumed able to."""
    from twin.providers.llm import load_llm_config

    return load_llm_config(profile).backend in ("ollama", "openai")


def build_draft(
    project: Project, name: str, voice_id: str | None = None, use_llm: bool | None = None
) -> tuple[PersonaDraft, list[tuple[Turn, Turn]]]:
    segs = load_segments(project)
    display = character_of(character_segments(segs, name)[0])
    all_turns = turns(segs)
    mine = [t for t in all_turns if t.who == display]
    pairs = exchanges(all_turns, display)
    if len(mine) < MIN_EXCHANGES or len(pairs) < MIN_EXCHANGES:
        raise InvalidInput(
            f"{display} has {len(mine)} line(s) with text and {len(pairs)} reply exchange(s); a persona needs at "
            f"least {MIN_EXCHANGES} of each.",
            "Give the film's subtitles (--subtitles) or let ASR transcribe, and check the character's segments.",
        )
    st = line_stats([t.text for t in mine], Counter(p.who for p, _ in pairs))
    desc, rules = style_from_stats(display, st)
    by = "statistics"
    if use_llm or (use_llm is None and llm_is_capable(project.profile)):
        got = _llm_summary(project.profile, display, [t.text for t in mine])
        if got is not None:
            desc, rules, by = got[0], got[1], "llm"
    meta = project.load()
    prompt = (
        f'You are {display}, a character from "{meta.title}". Talk as {display} talks in the film. {desc}\n'
        "Style:\n" + "\n".join(f"- {r}" for r in rules)
    )
    examples = [{"user": p.text, "character": c.text} for p, c in pairs[:8]]
    draft = PersonaDraft(
        name=display,
        description=desc,
        persona_prompt=prompt,
        style_rules=rules,
        example_dialogues=examples,
        greeting=max(mine[:10], key=lambda t: len(t.text)).text if mine else "",
        voice_id=voice_id,
        source={"media_project": project.id, "title": meta.title},
        stats=st,
        summarized_by=by,
    )
    return draft, pairs


def to_card(draft: PersonaDraft) -> dict[str, Any]:
    """SillyTavern Character Card V2 (chara_card_v2)."""
    mes = "\n".join(
        f"<START>\n{{{{user}}}}: {e['user']}\n{{{{char}}}}: {e['character']}" for e in draft.example_dialogues
    )
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": draft.name,
            "description": draft.description,
            "personality": " ".join(draft.style_rules),
            "scenario": f'A conversation with {draft.name} from "{draft.source.get("title", "")}".',
            "first_mes": draft.greeting,
            "mes_example": mes,
            "creator_notes": "Made by twin from the character's lines in the film (media project "
            f"{draft.source.get('media_project', '')}).",
            "system_prompt": draft.persona_prompt,
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": ["twin", "media"],
            "creator": "twin",
            "character_version": "1",
            "extensions": {
                "twin": {"voice_id": draft.voice_id, "style_rules": draft.style_rules, "source": draft.source}
            },
        },
    }


def dataset_records(draft: PersonaDraft, pairs: list[tuple[Turn, Turn]]) -> list[dict[str, Any]]:
    from twin.dataset.chatml import validate_chatml

    out = []
    for prev, reply in pairs:
        rec = {
            "messages": [
                {"role": "system", "content": draft.persona_prompt},
                {"role": "user", "content": prev.text},
                {"role": "assistant", "content": reply.text},
            ]
        }
        validate_chatml(rec)
        out.append(rec)
    return out


def write_persona(project: Project, draft: PersonaDraft, pairs: list[tuple[Turn, Turn]]) -> dict[str, Any]:
    """persona/<slug>/{persona.json, card.json} in the project and datasets/media-<slug>/ in the profile."""
    folder = project.path("persona") / slug(draft.name)
    write_text_atomic(folder / "persona.json", draft.model_dump_json(indent=2))
    card = folder / "card.json"
    write_text_atomic(card, json.dumps(to_card(draft), ensure_ascii=False, indent=2) + "\n")
    records = dataset_records(draft, pairs)
    val = [r for r in records if int(hashlib.sha256(r["messages"][2]["content"].encode()).hexdigest(), 16) % 10 == 0]
    train = [r for r in records if r not in val] or records
    name = f"media-{slug(draft.name)}"[:63]
    ds = project.profile.dataset_dir(name)
    write_text_atomic(ds / "train.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in train))
    write_text_atomic(ds / "val.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in val))
    write_text_atomic(
        ds / "report.json",
        json.dumps({"source": draft.source, "character": draft.name, "train": len(train), "val": len(val)}, indent=2),
    )
    return {
        "persona": str(folder / "persona.json"),
        "card": str(card),
        "dataset": name,
        "dataset_dir": str(ds),
        "train": len(train),
        "val": len(val),
    }
