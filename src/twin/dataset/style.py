"""The owner's style in one line (for the system prompt), derived from the selected samples."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from twin.dataset.config import DatasetConfig
from twin.dataset.filters import _is_emoji_char
from twin.dataset.records import Sample


def describe_style(targets: Sequence[str]) -> str:
    if not targets:
        return "natural and concise"
    median = statistics.median(len(t) for t in targets)
    size = "short" if median < 80 else "medium-length" if median < 300 else "long"
    traits = [f"{size} messages (about {int(round(median, -1)) or 10} characters)"]
    n = len(targets)
    emoji = sum(any(_is_emoji_char(c) for c in t) for t in targets) / n
    lower = sum(t[:1].islower() for t in targets) / n
    excl = sum("!" in t for t in targets) / n
    traits.append(
        "uses emoji often" if emoji > 0.3 else "uses emoji now and then" if emoji > 0.08 else "rarely uses emoji"
    )
    if lower > 0.5:
        traits.append("often starts in lowercase")
    if excl > 0.3:
        traits.append("likes exclamation marks")
    return ", ".join(traits)


def system_prompt(cfg: DatasetConfig, owner: str, samples: Sequence[Sample]) -> str:
    style = cfg.style or describe_style([s.target for s in samples])
    return cfg.system_prompt.replace("{owner}", owner).replace("{style}", style)
