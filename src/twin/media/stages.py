"""The analysis stages: transcribe (probe, extract, subtitles, speech detection, ASR), align, segment.

Each stage reads the files of the stages before it, writes its own atomically and records its report
in project.json; a finished stage is skipped unless forced, an interrupted one resumes from work/.
A stage that fails records the error and leaves every earlier file as it was."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InvalidInput, TooLarge, TwinError
from twin.media import ffmpeg
from twin.media.align import align_cues
from twin.media.audio import AudioFile
from twin.media.characters import label_names, refresh
from twin.media.diarize import DiarizeOptions, diarize, embed_windows, mark_overlaps, plan_windows
from twin.media.progress import ProgressFn, silent
from twin.media.project import Project, ProjectMeta, SourceInfo, find_for_source, new_project
from twin.media.segments import (
    Segment,
    attach_text,
    frames_to_segments,
    load_corrections,
    save_corrections,
    save_segments,
)
from twin.media.speech import detect_speech, load_speech, recognize
from twin.media.subtitles import Cue, SubtitleResult, load_subtitles
from twin.profiles import Profile
from twin.providers import registry
from twin.providers.speaker import SpeakerEncoder

MAX_DURATION_S = 6 * 3600
ANALYSIS_RATE = 16000
CLIP_RATE = 22050


@contextmanager
def stage(project: Project, name: str) -> Iterator[None]:
    project.start_stage(name)
    try:
        yield
    except TwinError as exc:
        project.fail_stage(name, exc.to_dict())
        raise


def _source_info(movie: Path, info: ffmpeg.MediaInfo, stream: ffmpeg.Stream) -> SourceInfo:
    return SourceInfo(
        name=movie.name,
        path=str(movie.resolve()),
        size_bytes=movie.stat().st_size,
        duration_s=round(info.duration_s, 3),
        audio_stream=stream.index,
        streams=[s.__dict__ for s in info.streams],
    )


def transcribe(
    profile: Profile,
    movie: Path,
    subtitles: Path | None = None,
    subtitle_stream: int | None = None,
    audio_stream: int | None = None,
    language: str | None = "en",
    asr: bool | None = None,
    vad_backend: str = "silero",
    stt_model: str = "auto",
    progress: ProgressFn = silent,
    subtitle_encoding: str | None = None,
) -> tuple[Project, dict[str, Any]]:
    """Probe and extract the soundtrack, read the subtitles (file or embedded), detect speech, and run ASR
    when there are no subtitles (or when asr=True). Reuses the project already made from this file."""
    if subtitles is not None and subtitle_stream is not None:
        raise InvalidInput("Give --subtitles or --subtitle-stream, not both.", "Pick one source of subtitles.")
    info = ffmpeg.probe_media(movie)
    stream = ffmpeg.pick_audio_stream(info, audio_stream)
    if info.duration_s > MAX_DURATION_S:
        raise TooLarge(
            f"{movie.name} runs {info.duration_s / 3600:.1f} h; the limit is 6 h.", "Cut it into parts with ffmpeg."
        )
    subs = load_subtitles(subtitles, subtitle_encoding) if subtitles is not None else None  # fail early
    options = {
        "audio_stream": stream.index,
        "subtitles": _digest(subtitles) if subtitles is not None else None,
        "subtitle_stream": subtitle_stream,
        "language": language,
        "asr": asr,
    }
    project = find_for_source(profile, movie)
    resumed = project is not None
    if project is None:
        project = new_project(profile, movie.stem, _source_info(movie, info, stream), language)
    st = project.load().stage("transcribe")
    if st.status == "done" and st.report.get("options") == options:
        return project, {**st.report, "skipped": True}
    args = (movie, info, stream, subtitles, subs, subtitle_stream, language, asr, vad_backend, stt_model, progress)
    with stage(project, "transcribe"):
        report = _transcribe(project, *args)
    report["resumed"], report["options"] = resumed, options
    project.finish_stage("transcribe", report)
    return project, report


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _transcribe(
    project: Project,
    movie: Path,
    info: ffmpeg.MediaInfo,
    stream: ffmpeg.Stream,
    sub_file: Path | None,
    subs: SubtitleResult | None,
    subtitle_stream: int | None,
    language: str | None,
    asr: bool | None,
    vad_backend: str,
    stt_model: str,
    progress: ProgressFn,
) -> dict[str, Any]:
    meta = project.load()
    if meta.source.audio_stream != stream.index or not (project.audio.is_file() and project.audio_hq.is_file()):
        progress("extracting audio", 0, 1)
        ffmpeg.extract_audio(movie, stream, [(project.audio, ANALYSIS_RATE), (project.audio_hq, CLIP_RATE)])
        for stale in ("speech.json", "vad_probs.npy", "words.json"):
            project.path(stale).unlink(missing_ok=True)
        meta.source.audio_stream = stream.index
        progress("extracting audio", 1, 1)
    report: dict[str, Any] = {"duration_s": round(AudioFile(project.audio).duration_s, 2), "audio_stream": stream.index}
    if subtitle_stream is not None:
        sub_file = ffmpeg.extract_subtitle_stream(movie, info, subtitle_stream, project.dir)
        subs = load_subtitles(sub_file)
    if subs is not None and sub_file is not None:
        report["subtitles"] = _keep_subtitles(project, meta, sub_file, subs)
    meta.language = language
    project.save(meta)
    if not project.has("speech.json"):
        report["speech"] = detect_speech(project, registry.create("vad", vad_backend), progress=progress)
    else:
        report["speech"] = {"regions": len(load_speech(project)), "reused": True}
    if asr or (asr is None and subs is None):
        if not project.has("words.json"):
            report["asr"] = recognize(
                project, registry.create("stt", "faster_whisper", model=stt_model), language, progress
            )
        if subs is None:
            _cues_from_asr(project)
    elif subs is None and not project.has("cues.json"):
        raise InvalidInput(
            "No subtitles and ASR turned off: there is no text to work with.", "Pass --subtitles FILE or drop --no-asr."
        )
    return report


def _keep_subtitles(project: Project, meta: ProjectMeta, sub_file: Path, subs: SubtitleResult) -> dict[str, Any]:
    """Copy the subtitle file into the project and write cues.json."""
    copy = project.path(f"subtitles{sub_file.suffix.lower() or '.srt'}")
    if sub_file.resolve() != copy.resolve():
        shutil.copyfile(sub_file, copy)
    meta.subtitles, meta.subtitle_encoding = copy.name, subs.encoding
    items = [c.to_dict() for c in subs.cues]
    project.write_json("cues.json", {"source": "subtitles", "file": copy.name, **subs.report(), "items": items})
    return subs.report()


def _cues_from_asr(project: Project) -> None:
    segs = project.read_json("words.json")["segments"]
    cues = [Cue(i + 1, s["start"], s["end"], s["text"]) for i, s in enumerate(segs) if s["text"].strip()]
    project.write_json(
        "cues.json", {"source": "asr", "file": None, "cues": len(cues), "items": [c.to_dict() for c in cues]}
    )


def load_cues(project: Project, aligned: bool = True) -> list[Cue]:
    name = "aligned_cues.json" if aligned and project.has("aligned_cues.json") else "cues.json"
    return [Cue.from_dict(d) for d in project.read_json(name)["items"]]


def load_words(project: Project) -> list[dict[str, Any]]:
    return project.read_json("words.json")["words"] if project.has("words.json") else []


def align(project: Project, max_offset_s: float = 600.0) -> dict[str, Any]:
    """Fit offset and drift of the subtitle cues to the detected speech; write aligned_cues.json."""
    data = project.read_json("cues.json")
    with stage(project, "align"):
        cues = [Cue.from_dict(d) for d in data["items"]]
        if data["source"] == "asr":
            report = {
                "source": "asr",
                "offset_s": 0.0,
                "drift": 1.0,
                "note": "cues come from ASR: already on the film's timeline",
            }
            project.write_json("aligned_cues.json", {"fit": report, "items": data["items"]})
        else:
            probs = np.load(project.path("vad_probs.npy"), allow_pickle=False)
            hop = float(project.read_json("speech.json")["hop_s"])
            duration = AudioFile(project.audio).duration_s
            aligned, fit, before = align_cues(
                cues,
                probs,
                hop,
                duration,
                load_speech(project),
                load_words(project),
                max_offset_s,
                data.get("file") or "subtitles",
            )
            report = {**fit.to_dict(), "coverage_before": round(before, 3), "cues": len(aligned)}
            project.write_json("aligned_cues.json", {"fit": report, "items": [c.to_dict() for c in aligned]})
    project.finish_stage("align", report)
    return report


def segment(
    project: Project,
    speaker_backend: str = "resemblyzer",
    options: DiarizeOptions | None = None,
    progress: ProgressFn = silent,
) -> dict[str, Any]:
    """Diarize: embeddings per window, clustering, resegmentation, overlap marks; then text and names."""
    opt = options or DiarizeOptions()
    with stage(project, "segment"):
        regions = load_speech(project)
        windows = plan_windows(regions)
        encoder = open_speaker(speaker_backend)
        emb, resumed = embed_windows(project, encoder, windows, progress)
        d = diarize(windows, emb, regions, AudioFile(project.audio).duration_s, opt)
        cues = load_cues(project)
        mark_overlaps(d, cue_overlaps(cues))
        segs = frames_to_segments(d, opt.min_segment_s)
        attach_text(segs, cues, load_words(project))
        _carry_names(project, segs)
        np.savez(
            project.path("embeddings.npz"),
            windows=np.array(windows, dtype=np.float64).reshape(-1, 2),
            embeddings=emb,
            centroids=d.centroids,
        )
        save_segments(project, segs)
        segs = refresh(project, segs)
        report = {**_segment_report(segs, len(windows), len(d.centroids)), "resumed_windows": resumed}
    project.finish_stage("segment", report)
    return report


def cue_overlaps(cues: list[Cue], min_s: float = 0.2) -> list[tuple[float, float]]:
    """Where one cue starts before the previous one ends: two people talking at once."""
    out = []
    ordered = sorted(cues, key=lambda c: c.start)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.end - b.start >= min_s:
            out.append((b.start, min(a.end, b.end)))
    return out


def open_speaker(name: str) -> SpeakerEncoder:
    """The speaker encoder; resemblyzer runs its short LSTM passes on one thread (faster on shared cores)."""
    return registry.create("speaker", name, threads=1) if name == "resemblyzer" else registry.create("speaker", name)


def _carry_names(project: Project, segs: list[Segment]) -> None:
    """Keep names across a rerun (old speaker ids map to the new cluster they overlap most) and add names
    from subtitle labels for speakers nobody named."""
    corr = load_corrections(project)
    names: dict[str, str] = {}
    sources: dict[str, str] = dict(corr.get("sources", {}))
    if corr["names"] and project.has("segments.json"):
        old = [Segment.from_dict(x) for x in project.read_json("segments.json")["segments"]]
        overlap: dict[tuple[str, str], float] = defaultdict(float)
        for o in old:
            for s in segs:
                overlap[(o.speaker, s.speaker)] += max(0.0, min(o.end, s.end) - max(o.start, s.start))
        for old_spk, name in corr["names"].items():
            cands = {new: v for (o, new), v in overlap.items() if o == old_spk and v > 0}
            if cands:
                names.setdefault(max(cands, key=lambda k: cands[k]), name)
    for spk, label in label_names(segs).items():
        if spk not in names:
            names[spk] = label
            sources[spk] = "subtitles"
    corr["names"], corr["sources"] = names, sources
    save_corrections(project, corr)


def _segment_report(segs: list[Segment], windows: int, speakers: int) -> dict[str, Any]:
    solo = [s for s in segs if not s.overlap]
    return {
        "speakers": speakers,
        "windows": windows,
        "segments": len(segs),
        "overlap_segments": len(segs) - len(solo),
        "overlap_s": round(sum(s.duration for s in segs if s.overlap), 2),
        "named": sorted({s.character for s in segs if s.character}),
        "with_text": sum(1 for s in segs if s.text),
    }


def run_stage(project: Project, name: str, force: bool, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Skip a finished stage unless forced (its stored report is returned with skipped=True)."""
    st = project.load().stage(name)
    if st.status == "done" and not force:
        return {**st.report, "skipped": True}
    return fn()
