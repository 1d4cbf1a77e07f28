"""ffmpeg and ffprobe: find them (Debian's on PATH, else the `imageio-ffmpeg` wheel's static ffmpeg), list
a media file's streams, and extract one audio stream as mono WAV without holding it in memory.

The static wheel ships no ffprobe; then streams are read from `ffmpeg -i`'s stream listing instead."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput, MissingDependency, NotFound, ParseError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v"}
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma"}
_STREAM_RE = re.compile(
    r"Stream #0:(\d+)(?:\[[^\]]*\])?(?:\(([^)]*)\))?: (Audio|Video|Subtitle|Data|Attachment): (\w+)"
)
_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def ffmpeg_path() -> str:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        raise MissingDependency(
            "Reading films needs ffmpeg, which is not installed.",
            "Install it (apt-get install ffmpeg / brew install ffmpeg) or: pip install 'twin[media]'",
        ) from None


def ffprobe_path() -> str | None:
    return shutil.which("ffprobe")


@dataclass(frozen=True)
class Stream:
    index: int  # the container's stream index (ffmpeg's 0:N)
    kind: str  # audio | video | subtitle | data | attachment
    codec: str
    language: str = ""
    title: str = ""
    channels: int = 0
    sample_rate: int = 0


@dataclass
class MediaInfo:
    path: str
    duration_s: float
    container: str
    streams: list[Stream] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Stream]:
        return [s for s in self.streams if s.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe_media(path: Path) -> MediaInfo:
    """Streams and duration of a video or audio file; a clear error for anything ffmpeg cannot read."""
    if not path.exists():
        raise NotFound(f"{path}: no such file.", "Check the path of the film or recording.")
    if not path.is_file():
        raise InvalidInput(f"{path}: not a regular file.", "Pass a video (mp4, mkv, webm, mov, avi) or an audio file.")
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name}: the file is empty.", "Copy the film again; the file holds no data.")
    probe = ffprobe_path()
    info = _probe_with_ffprobe(probe, path) if probe else _probe_with_ffmpeg(path)
    if not info.streams:
        raise ParseError(
            f"{path.name}: ffmpeg found no streams in it; it is not a readable video or audio container.",
            "Check that the file is a complete film (mp4, mkv, webm, mov, avi) or audio file; re-download or remux it.",
        )
    return info


def _unreadable(path: Path, detail: str) -> ParseError:
    last = (detail.replace(str(path), path.name).strip().splitlines() or [""])[-1]
    return ParseError(
        f"{path.name}: ffmpeg cannot read this file ({last[:160]}).",
        "The container is damaged or not a media file; re-download it or remux it with ffmpeg.",
    )


def _probe_with_ffprobe(ffprobe: str, path: Path) -> MediaInfo:
    cmd = [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise _unreadable(path, proc.stderr)
    try:
        meta = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        raise _unreadable(path, "unreadable ffprobe output") from None
    streams: list[Stream] = []
    for s in meta.get("streams", []):
        tags = s.get("tags") or {}
        streams.append(
            Stream(
                index=int(s.get("index", len(streams))),
                kind=str(s.get("codec_type", "data")),
                codec=str(s.get("codec_name", "")),
                language=str(tags.get("language", "")),
                title=str(tags.get("title", "")),
                channels=int(s.get("channels") or 0),
                sample_rate=int(s.get("sample_rate") or 0),
            )
        )
    fmt = meta.get("format") or {}
    return MediaInfo(str(path), float(fmt.get("duration") or 0.0), str(fmt.get("format_name", "")), streams)


def _probe_with_ffmpeg(path: Path) -> MediaInfo:
    proc = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, timeout=120
    )
    text = proc.stderr
    if "Input #0" not in text:
        raise _unreadable(path, text)
    streams: list[Stream] = []
    for m in _STREAM_RE.finditer(text):
        line = text[m.start() : text.find("\n", m.start())]
        rate = re.search(r"(\d+) Hz", line)
        channels = 1 if "mono" in line else 2 if "stereo" in line else 0
        streams.append(
            Stream(
                int(m.group(1)),
                m.group(3).lower(),
                m.group(4),
                m.group(2) or "",
                "",
                channels,
                int(rate.group(1)) if rate else 0,
            )
        )
    d = _DURATION_RE.search(text)
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)) if d else 0.0
    return MediaInfo(str(path), duration, "", streams)


def pick_audio_stream(info: MediaInfo, wanted: int | None) -> Stream:
    """The audio stream to use: `wanted` is the n-th audio stream (0-based), default the first."""
    audio = info.of_kind("audio")
    name = Path(info.path).name
    if not audio:
        raise InvalidInput(
            f"{name} has no audio stream (only {', '.join(sorted({s.kind for s in info.streams})) or 'nothing'}).",
            "Use a file with a soundtrack, or extract the audio from the original release.",
        )
    if wanted is None:
        return audio[0]
    if not 0 <= wanted < len(audio):
        listing = ", ".join(f"{i}: {s.codec} {s.language or '?'} {s.title}".strip() for i, s in enumerate(audio))
        raise InvalidInput(
            f"{name} has {len(audio)} audio stream(s); --audio-stream {wanted} does not exist.",
            f"Pick one of: {listing}.",
        )
    return audio[wanted]


def extract_audio(src: Path, stream: Stream, outputs: list[tuple[Path, int]], timeout_s: float = 6 * 3600) -> None:
    """Decode `stream` once to mono 16-bit WAVs at each (path, rate); written to temporary names first."""
    cmd = [ffmpeg_path(), "-v", "error", "-nostdin", "-y", "-i", str(src)]
    tmps = []
    for path, rate in outputs:
        tmp = path.with_name(f".{path.name}.part.wav")
        tmps.append(tmp)
        cmd += ["-map", f"0:{stream.index}", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le"]
        cmd += ["-f", "wav", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        raise ParseError(
            f"{src.name}: ffmpeg could not decode audio stream {stream.index} ({_tail(proc.stderr, src)}).",
            "The soundtrack is damaged; try another --audio-stream or re-download the file.",
        )
    for tmp, (path, _) in zip(tmps, outputs, strict=True):
        tmp.replace(path)


def extract_subtitle_stream(src: Path, info: MediaInfo, wanted: int, out_dir: Path) -> Path:
    """Write the n-th embedded subtitle stream (0-based) to a file pysubs2 reads (SRT, or ASS for ASS/SSA)."""
    subs = info.of_kind("subtitle")
    if not 0 <= wanted < len(subs):
        have = ", ".join(f"{i}: {s.codec} {s.language or '?'}" for i, s in enumerate(subs)) or "none"
        raise InvalidInput(
            f"{src.name} has {len(subs)} subtitle stream(s); --subtitle-stream {wanted} does not exist.",
            f"Embedded subtitle streams: {have}. Or pass a subtitle file with --subtitles.",
        )
    stream = subs[wanted]
    if stream.codec in ("hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"):
        raise InvalidInput(
            f"{src.name}: subtitle stream {wanted} is a picture-based format ({stream.codec}) with no text.",
            "Pick a text subtitle stream, pass an SRT/ASS file with --subtitles, or let twin transcribe (no flag).",
        )
    ext = "ass" if stream.codec in ("ass", "ssa") else "srt"
    out = out_dir / f"embedded-{wanted}.{ext}"
    cmd = [ffmpeg_path(), "-v", "error", "-nostdin", "-y", "-i", str(src), "-map", f"0:{stream.index}", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not out.is_file():
        raise ParseError(
            f"{src.name}: ffmpeg could not read subtitle stream {wanted} ({_tail(proc.stderr, src)}).",
            "Pass the subtitles as a file with --subtitles instead.",
        )
    return out


def _tail(stderr: str, src: Path) -> str:
    lines = [ln for ln in stderr.replace(str(src), src.name).splitlines() if ln.strip()]
    return (lines[-1] if lines else "no detail")[:160]
