"""The dubbed episode's audio: its tracks decoded (ffmpeg), the English one recognised again
(the embedded Whisper, dubset_asr) and rated (DNSMOS, resemblyzer; dubset_tts.quality).

Every model is optional: when one cannot be loaded, UnavailableError says why and the caller
leaves that score out with a note.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dubset_common.ffmpeg import file_url
from dubset_eval.dubscore import tile_to

DUB_TITLE = "English (automatic dub)"
TIMEOUT_S = 3600
MAX_TRACK_S = 4 * 3600
ASR_RATE = 16000
DNSMOS_TILE_S = 9.5  # over DNSMOS's 9.01 s window, under its next hop


class UnavailableError(RuntimeError):
    """A score that cannot be had here (a tool or model missing, a track unreadable)."""


@dataclass(frozen=True)
class Track:
    """An audio stream of the file: its index among the audio streams, language and title."""

    index: int
    language: str
    title: str


def _run(argv: list[str], what: str) -> bytes:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnavailableError(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise UnavailableError(f"{what}: {tail[0]}")
    return done.stdout


def audio_tracks(video: Path) -> list[Track]:
    out = _run(
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
         "stream_tags=language,title,handler_name", "-of", "json", file_url(video)],
        f"ffprobe {video.name}",
    )  # fmt: skip
    try:
        streams = json.loads(out).get("streams", [])
    except (ValueError, AttributeError):
        raise UnavailableError(f"ffprobe {video.name}: unreadable output") from None
    tracks = []
    for i, s in enumerate(streams):
        tags = s.get("tags", {}) if isinstance(s, dict) else {}
        title = tags.get("title") or tags.get("handler_name") or ""
        tracks.append(Track(i, str(tags.get("language", "")), str(title)))
    return tracks


def pick_tracks(tracks: Sequence[Track]) -> tuple[Track, Track]:
    """(the Japanese track, the automatic English one): the English by its title, else the
    last track tagged eng; the Japanese the first tagged jpn, else the first other track."""
    titled = [t for t in tracks if t.title == DUB_TITLE]
    english = titled or [t for t in tracks if t.language == "eng"][-1:]
    if not english:
        raise UnavailableError("no English audio track")
    eng = english[0]
    others = [t for t in tracks if t.index != eng.index]
    japanese = [t for t in others if t.language == "jpn"] or others
    if not japanese:
        raise UnavailableError("no Japanese audio track beside the English one")
    return japanese[0], eng


def decode(video: Path, track: Track, rate: int) -> NDArray[np.float64]:
    """One audio stream, channels averaged, at rate."""
    raw = _run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", file_url(video), "-map",
         f"0:a:{track.index}", "-t", str(MAX_TRACK_S), "-ac", "1", "-ar", str(rate),
         "-f", "f32le", "-"],
        f"decoding audio track {track.index} of {video.name}",
    )  # fmt: skip
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def write_wav(path: Path, samples: NDArray[np.float64], rate: int) -> Path:
    import soundfile as sf

    sf.write(str(path), np.clip(samples, -1.0, 1.0).astype(np.float32), rate, subtype="FLOAT")
    return path


def recognise(wav: Path) -> str:
    """The English the embedded Whisper (faster-whisper, the base model) hears, in time order."""
    try:
        from dubset_asr.backends import load_backend
        from dubset_asr.core.model import (
            AsrInputError,
            BackendFailedError,
            DecodeOptions,
            ModelUnavailableError,
        )
    except ImportError as exc:
        raise UnavailableError(f"dubset_asr is not installed ({exc})") from None
    try:
        backend = load_backend("faster-whisper")
        transcript = backend.transcribe(wav, "en", DecodeOptions(), lambda _f, _m: None)
    except (AsrInputError, BackendFailedError, ModelUnavailableError) as exc:
        raise UnavailableError(f"re-recognition: {exc}") from None
    segments = sorted(transcript.segments, key=lambda s: (s.start_ms, s.end_ms))
    return " ".join(s.text.strip() for s in segments)


def dnsmos(clips: Sequence[NDArray[np.float64]], rate: int) -> float | None:
    """Mean DNSMOS P.835 overall (1..5) of the clips of 0.1 s or more; None for none.

    DNSMOS rates 9.01 s windows a second apart, repeating a shorter clip until it fills one;
    each clip is repeated here to just over one window (tile_to), so that it is rated once:
    the window DNSMOS would rate first, the others being the same sound turned around."""
    try:
        from dubset_tts.core.model import BackendUnavailableError, Speech
        from dubset_tts.quality import DnsmosScorer
    except ImportError as exc:
        raise UnavailableError(f"dubset_tts is not installed ({exc})") from None
    scorer = DnsmosScorer()
    scores = []
    try:
        for clip in clips:
            if len(clip) >= rate // 10:
                whole = tile_to(clip, int(DNSMOS_TILE_S * rate))
                speech = Speech(np.clip(whole, -1.0, 1.0).astype(np.float32), rate)
                scores.append(scorer.dnsmos(speech))
    except BackendUnavailableError as exc:
        raise UnavailableError(f"DNSMOS: {exc}") from None
    return float(np.mean(scores)) if scores else None


def embeddings(clips: Sequence[NDArray[np.float64]], rate: int) -> list[NDArray[np.float32]]:
    """resemblyzer's unit-norm speaker embedding of each clip."""
    try:
        from dubset_tts.core.model import BackendUnavailableError, Speech
        from dubset_tts.quality import ResemblyzerEmbedder
    except ImportError as exc:
        raise UnavailableError(f"dubset_tts is not installed ({exc})") from None
    embedder = ResemblyzerEmbedder()
    try:
        return [
            embedder.embed(Speech(np.clip(x, -1.0, 1.0).astype(np.float32), rate)) for x in clips
        ]
    except BackendUnavailableError as exc:
        raise UnavailableError(f"speaker similarity: {exc}") from None
