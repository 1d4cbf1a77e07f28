"""A foreign voice cannot be cloned silently: references are compared with the owner's enrolled voice
(real speaker embeddings), a non-owner needs a consent statement kept in the voice and the audit log."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twin.cli.main import app
from twin.ops.audit import AuditLog
from twin.profiles import Profile, ProfileManager
from twin.settings import load_settings
from twin.voice.consent import OWNER_SIMILARITY, ConsentRequest, ConsentRequired, character
from twin.voice.profiles import create_voice, get_voice

pytest.importorskip("resemblyzer")
pytest.importorskip("piper")
runner = CliRunner()
OWNER_LINES = [
    "Thanks for flagging this, I will take a look tomorrow morning before the call with the team.",
    "The meeting moved to Thursday, so we have a bit more time to finish the report properly.",
]
OTHER_LINE = "Honestly, I think the second option is better, but let us ask the whole team first."


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 'owner' is the Piper joe voice; the other person is an espeak-ng female voice."""
    import soundfile as sf

    from twin.backends.tts_piper import PiperTTS

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("clips")
    tts, out = PiperTTS(), {}
    for i, line in enumerate(OWNER_LINES):
        audio = np.concatenate([c.samples for c in tts.synthesize_sync(line)])
        sf.write(folder / f"owner{i}.wav", audio, 22050, subtype="PCM_16")
        out[f"owner{i}"] = folder / f"owner{i}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f3", "-w", str(folder / "other.wav"), OTHER_LINE], check=True)
    out["other"] = folder / "other.wav"
    return out


@pytest.fixture
def profile() -> Profile:
    return ProfileManager(load_settings()).create("me")


def test_owner_enrols_then_a_foreign_voice_needs_consent(profile: Profile, clips: dict[str, Path]) -> None:
    first = create_voice(profile, reference=clips["owner0"])
    assert first.consent is not None and first.consent.kind == "owner" and "first voice" in first.consent.basis
    with pytest.raises(ConsentRequired) as info:
        create_voice(profile, reference=clips["other"])
    assert "consent" in info.value.hint
    assert len(list((profile.voice_dir / "profiles").iterdir())) == 1  # nothing was kept
    agreed = ConsentRequest(who="Priya Shah", statement="Priya agreed in writing on 3 May 2026 to this clone.")
    foreign = create_voice(profile, reference=clips["other"], consent=agreed)
    assert foreign.consent is not None and foreign.consent.kind == "consented"
    assert foreign.consent.similarity is not None and foreign.consent.similarity < OWNER_SIMILARITY
    stored = get_voice(profile, foreign.id)
    assert stored.consent is not None and stored.consent.who == "Priya Shah"
    again = create_voice(profile, reference=clips["owner1"])  # the owner, another sentence
    assert again.consent is not None and again.consent.kind == "owner"
    assert again.consent.similarity is not None and again.consent.similarity >= OWNER_SIMILARITY


def test_movie_characters_are_marked(profile: Profile, clips: dict[str, Path]) -> None:
    create_voice(profile, reference=clips["owner0"])
    voice = create_voice(profile, reference=clips["other"], consent=character("Ilsa", "Casablanca (1942)"))
    stored = get_voice(profile, voice.id)
    assert stored.consent is not None and stored.consent.kind == "character"
    assert stored.consent.who == "Ilsa" and stored.consent.source == "Casablanca (1942)"


def test_cli_refuses_without_consent_and_audits_with_it(profile: Profile, clips: dict[str, Path]) -> None:
    assert (
        runner.invoke(app, ["voice", "create", "--profile", "me", "--reference", str(clips["owner0"])]).exit_code == 0
    )
    res = runner.invoke(app, ["voice", "create", "--profile", "me", "--reference", str(clips["other"]), "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"]["code"] == "consent_required"
    args = ["--consent-who", "Priya", "--consent", "Priya agreed on a call on 3 May 2026."]
    res = runner.invoke(
        app, ["voice", "create", "--profile", "me", "--reference", str(clips["other"]), *args, "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["consent"]["kind"] == "consented"
    log = AuditLog(load_settings())
    try:
        routes = [r["route"] for r in log.recent(profile) if r["method"] == "CONSENT"]
    finally:
        log.close()
    assert any("consented of Priya" in r and "agreed on a call" in r for r in routes)
    half = runner.invoke(
        app, ["voice", "create", "--profile", "me", "--reference", str(clips["other"]), "--consent-who", "X", "--json"]
    )
    assert half.exit_code == 2 and json.loads(half.stdout)["error"]["code"] == "invalid_input"


def test_api_upload_and_clone_need_consent_for_a_foreign_reference(profile: Profile, clips: dict[str, Path]) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from twin.api.config import ServerSettings
    from twin.api.main import build_app
    from twin.keys import KeyStore

    settings = load_settings()
    keys = KeyStore(settings)
    secret = keys.create("me").secret
    keys.close()
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(build_app(settings, ServerSettings(llm_backend="fake")), base_url="http://127.0.0.1") as client:
        owner = client.post("/api/voice/upload", headers=auth, files={"file": ("me.wav", clips["owner0"].read_bytes())})
        assert owner.status_code == 201, owner.text
        other = clips["other"].read_bytes()
        refused = client.post("/api/voice/upload", headers=auth, files={"file": ("priya.wav", other)})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_required"
        form = {"consent_who": "Priya", "consent_statement": "Priya agreed in writing on 3 May 2026."}
        made = client.post("/api/voice/upload", headers=auth, files={"file": ("priya.wav", other)}, data=form)
        assert made.status_code == 201, made.text
        assert made.json()["details"]["consent"]["kind"] == "consented"
        body = {"text": "Hello there.", "reference_audio": base64.b64encode(other).decode()}
        clone = client.post("/api/tts/clone", headers=auth, json=body)
        assert clone.status_code == 403 and clone.json()["error"]["code"] == "consent_required"
        body["consent"] = {"who": "Priya", "statement": "Priya agreed in writing on 3 May 2026."}
        spoken = client.post("/api/tts/clone", headers=auth, json=body)
        assert spoken.status_code == 200, spoken.text
        mine = {"text": "Hello there.", "reference_audio": base64.b64encode(clips["owner1"].read_bytes()).decode()}
        assert client.post("/api/tts/clone", headers=auth, json=mine).status_code == 200
    log = AuditLog(settings)
    try:
        consents = [r for r in log.recent(profile) if r["method"] == "CONSENT"]
    finally:
        log.close()
    assert any("one-off reference: consented of Priya" in r["route"] for r in consents)
    assert all(r["key_id"] for r in consents)


def test_tts_server_needs_consent_for_a_foreign_reference(profile: Profile, clips: dict[str, Path]) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from twin.api.tts_server import build_tts_app
    from twin.keys import KeyStore

    create_voice(profile, reference=clips["owner0"])
    keys = KeyStore(load_settings())
    auth = {"Authorization": f"Bearer {keys.create('me').secret}"}
    keys.close()
    with TestClient(build_tts_app(profile, settings=load_settings()), base_url="http://127.0.0.1") as client:
        other = {"reference": ("priya.wav", clips["other"].read_bytes(), "audio/wav")}
        refused = client.post("/tts", headers=auth, data={"text": "Hello."}, files=other)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent_required"
        form = {"text": "Hello.", "consent_who": "Priya", "consent_statement": "Priya agreed in writing on 3 May."}
        spoken = client.post("/tts", headers=auth, data=form, files=other)
        assert spoken.status_code == 200, spoken.text
