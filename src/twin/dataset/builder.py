"""The dataset build: store → filtered messages → paired samples → filters → redaction → token
budget → near-duplicates → selection → split → validated files. Deterministic: the same messages
and config give byte-identical files (nothing time-dependent is written)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Any

from twin.dataset import filters as F
from twin.dataset.config import DatasetConfig
from twin.dataset.contacts import merge_contacts
from twin.dataset.dedup import near_duplicate_clusters
from twin.dataset.instructions import GenerateFn, backtranslate
from twin.dataset.language import LanguageDetector
from twin.dataset.output import Groups, write_outputs
from twin.dataset.pairing import pair_all
from twin.dataset.records import Msg, Sample, read_messages
from twin.dataset.redact import Redactor
from twin.dataset.review import ReviewService
from twin.dataset.select import best_of_clusters, score_all, select, split
from twin.dataset.stats import Stats
from twin.dataset.style import build_prompts
from twin.errors import InvalidInput
from twin.profiles import Profile
from twin.store.db import connect

Progress = Callable[[str, int, int], None]
_SYSTEM_RESERVE = 96  # tokens kept for the style line, which is only known after selection


def _noop(stage: str, done: int, total: int) -> None:
    return None


def load_conversations(profile: Profile, cfg: DatasetConfig, stats: Stats) -> dict[str, list[Msg]]:
    """Messages that pass the message filters, grouped by conversation."""
    convs: dict[str, list[Msg]] = {}
    with closing(connect(profile)) as conn:
        for m in read_messages(conn):
            stats.messages[m.fmt] += 1
            for verdict in (
                F.check_kind(m.kind, cfg.excluded_kinds),
                F.check_flags(m.flags, cfg.excluded_flags),
                F.check_empty(m.text),
            ):
                if not verdict.keep:
                    stats.message_drops[verdict.reason] += 1
                    break
            else:
                convs.setdefault(m.conversation_id, []).append(m)
    return convs


def detect_languages(
    convs: dict[str, list[Msg]], cfg: DatasetConfig, stats: Stats, detector: LanguageDetector
) -> dict[str, str]:
    """Language per conversation, or per (conversation, owner) with scope 'author'."""
    if not cfg.languages:
        return {}
    if cfg.language_scope == "conversation":
        groups = {cid: [m.text for m in msgs] for cid, msgs in convs.items()}
    else:
        groups = {cid: [m.text for m in msgs if m.is_me] for cid, msgs in convs.items()}
    langs = detector.detect_groups(groups)
    stats.languages.update(langs.values())
    return langs


def apply_filters(
    samples: list[Sample], cfg: DatasetConfig, langs: dict[str, str], reviewed: set[str], stats: Stats
) -> tuple[list[Sample], list[Sample]]:
    """(kept, dropped by review). Other drops are only counted."""
    kept, review_dropped = [], []
    for s in samples:
        s.lang = langs.get(s.conversation_id, "und")
        for verdict in (
            F.check_link_only(s.target),
            F.check_emoji_only(s.target),
            F.check_min_chars(s.target, cfg.min_chars),
            F.check_language(s.lang, cfg.languages, cfg.keep_undetected_language),
        ):
            if not verdict.keep:
                stats.sample_drops[verdict.reason] += 1
                break
        else:
            if not F.check_review(s.id, reviewed).keep:
                review_dropped.append(s)
            else:
                kept.append(s)
    return kept, review_dropped


def fit_budget(s: Sample, budget: int) -> bool:
    """Trim the oldest context until the sample fits `budget` tokens; False when it cannot fit."""
    trimmed = False
    while F.sample_tokens([*s.context, ("assistant", s.target)]) > budget and len(s.context) > 2:
        s.context = s.context[2:]
        trimmed = True
    over = F.sample_tokens([*s.context, ("assistant", s.target)]) - budget
    if over > 0:
        role, text = s.context[-1]
        keep_chars = len(text) - over * 4 - 8
        if len(s.context) > 1 or keep_chars < 80 or s.kind == "email_new":
            return False
        s.context = [(role, "…" + text[-keep_chars:])]
        trimmed = True
    s.meta["context_trimmed"] = trimmed
    return True


def redact_and_budget(
    samples: list[Sample], cfg: DatasetConfig, redactor: Redactor | None, system_tokens: int, stats: Stats
) -> list[Sample]:
    out = []
    for s in samples:  # sorted by id, so placeholder numbering is deterministic
        if redactor is not None:
            s.target = redactor.redact(s.target)
            s.context = [(role, redactor.redact(text)) for role, text in s.context]
        if not fit_budget(s, cfg.max_tokens - system_tokens):
            stats.sample_drops["too_long"] += 1
            continue
        stats.context_trimmed += bool(s.meta.get("context_trimmed"))
        out.append(s)
    return out


def owner_name(profile: Profile, cfg: DatasetConfig) -> str:
    if cfg.owner_name:
        return cfg.owner_name
    try:
        names = profile.identity.names
    except (OSError, ValueError):
        names = []
    return names[0].split()[0] if names else "the owner"


def _paired(profile: Profile, name: str, cfg: DatasetConfig, stats: Stats, step: Progress) -> tuple[Any, ...]:
    """(kept, dropped by review, language detector): messages → filtered samples with one name per contact."""
    step("reading messages", 0, 1)
    convs = load_conversations(profile, cfg, stats)
    step("pairing", 0, len(convs))
    samples = sorted(pair_all(sorted(convs.items()), cfg), key=lambda s: s.id)
    stats.pairs.update(s.kind for s in samples)
    merge_contacts(samples, (m for msgs in convs.values() for m in msgs))
    step("detecting languages", 0, len(convs))
    detector = LanguageDetector()
    langs = detect_languages(convs, cfg, stats, detector)
    reviewed = set(ReviewService(profile, name).dropped())
    kept, review_dropped = apply_filters(samples, cfg, langs, reviewed, stats)
    return kept, review_dropped, detector


def _redactor(cfg: DatasetConfig) -> Redactor | None:
    if not cfg.redact:
        return None
    return Redactor(types=cfg.redact_types, allow_list=cfg.allow_list, examples_per_type=cfg.redaction_examples)


def build_dataset(
    profile: Profile,
    name: str,
    cfg: DatasetConfig,
    *,
    force: bool = False,
    generate: GenerateFn | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build datasets/<name>/ and return its report. Raises InvalidInput when too few samples remain
    (below cfg.refuse_below) unless `force`."""
    step = progress or _noop
    stats = Stats()
    kept, review_dropped, detector = _paired(profile, name, cfg, stats, step)
    step("redacting", 0, len(kept))
    owner = owner_name(profile, cfg)
    redactor = _redactor(cfg)
    sys_tokens = F.estimate_tokens(cfg.system_prompt.replace("{owner}", owner)) + _SYSTEM_RESERVE
    kept = redact_and_budget(kept, cfg, redactor, sys_tokens, stats)
    review_dropped = redact_and_budget(review_dropped, cfg, redactor, sys_tokens, Stats())
    step("finding near-duplicates", 0, len(kept))
    score_all(kept)
    clusters = near_duplicate_clusters([s.target for s in kept], cfg.dedup_threshold, cfg.dedup_num_perm)
    kept, duplicates = best_of_clusters(kept, clusters)
    stats.duplicates = len(duplicates)
    step("selecting", 0, len(kept))
    chosen = select(kept, cfg.target_max, cfg.seed)
    _check_count(len(chosen), cfg, force, stats)
    if cfg.instructions == "llm":
        _backtranslate(chosen, generate, step)
    prompts = build_prompts(cfg, owner, chosen, detector.detect)
    train, val = split(chosen, cfg.val_fraction, cfg.seed)
    chosen_ids = {s.id for s in chosen}
    unselected = [s for s in kept if s.id not in chosen_ids]
    step("writing", 0, 1)
    groups = Groups(train, val, unselected, duplicates, review_dropped)
    return write_outputs(profile.dataset_dir(name), name, cfg, prompts, groups, stats, redactor)


MORE_DATA_HINT = (
    "Import more of your own messages: more WhatsApp chats (in each chat: Export chat → Without media), "
    "your Sent mail (an mbox from Google Takeout or Apple Mail, or a maildir), then run `twin ingest` again. "
    "Or lower refuse_below in a --config file, or pass --force to write a small set anyway."
)


def _check_count(n: int, cfg: DatasetConfig, force: bool, stats: Stats) -> None:
    if n < cfg.refuse_below and not force:
        raise InvalidInput(
            f"Only {n} samples remain after filtering; training needs at least {cfg.refuse_below} "
            f"(a good run wants {cfg.target_min}–{cfg.target_max}).",
            MORE_DATA_HINT,
        )
    if n < cfg.warn_below:
        stats.warnings.append(
            f"Only {n} samples: a first run wants at least {cfg.warn_below}, "
            f"a good one {cfg.target_min}–{cfg.target_max}."
        )
    elif n < cfg.target_min:
        stats.warnings.append(f"{n} samples: fewer than the {cfg.target_min} wanted for a good run.")


def _backtranslate(samples: list[Sample], generate: GenerateFn | None, step: Progress) -> None:
    if generate is None:
        raise InvalidInput(
            "Instructions from an LLM were asked for, but no LLM was given.",
            "Configure one (twin llm …) or use --instructions template.",
        )
    todo = [s for s in samples if s.kind == "email_new"]
    for i, s in enumerate(todo):
        step("writing instructions", i, len(todo))
        s.context = [("user", backtranslate(s.target, generate, fallback=s.context[-1][1]))]
        s.meta["instruction"] = "llm"
