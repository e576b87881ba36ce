"""The shaped releases: the EN release's stems, shots and file, and the dual-audio Matroska.

Every ffmpeg call is byte-reproducible (bitexact flags, no metadata), like picture.py's.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_sample import mix, shapes
from dubset_sample.art import ArtLibrary, Look
from dubset_sample.picture import RenderError, Shot, render_video
from dubset_sample.shapes import EnTimeline
from dubset_sample.timemap import TimeMap
from dubset_sample.voices import LINE_RMS

MKV_NAME = "episode.mkv"
_BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
_NO_METADATA = ["-map_metadata", "-1", "-map_chapters", "-1"]
_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}
_BITRATES = {1: "128k", 2: "192k", 6: "384k"}


@dataclass(frozen=True)
class ShapedEn:
    """The EN release after its shapes: master = the 23.976 fps picture with any card."""

    shapes: tuple[str, ...]
    timeline: EnTimeline
    time_map: TimeMap
    master_shots: tuple[Shot, ...]  # rendered at 24000/1001 fps
    master_mix: mix.Audio  # the master's mono mix (sets the picture's length)
    shots: tuple[Shot, ...]  # on the release's timeline (truth)
    dialogue: mix.Audio  # the release's stems
    backing: mix.Audio
    rate: int

    @property
    def surround(self) -> bool:
        return shapes.SURROUND in self.shapes

    def audio(self) -> mix.Audio:
        """What the release's audio track holds: mono, or (n, 6) for surround."""
        if self.surround:
            return shapes.upmix_51(self.dialogue, self.backing, self.rate)
        return (self.dialogue + self.backing).astype(np.float32)


def _ms(audio: mix.Audio, rate: int) -> int:
    return len(audio) * 1000 // rate


def shape_en(
    chosen: Sequence[str],
    dialogue: mix.Audio,
    backing: mix.Audio,
    plain_shots: Sequence[Shot],
    speech: Sequence[tuple[int, int]],
    plain_map: TimeMap,
    seed: int,
    rate: int,
) -> ShapedEn:
    """The EN release from the plain one's stems and shots (speech: plain EN-time spans of
    either language's lines, for placing the card between clip pairs)."""
    card_at = None
    shots = tuple(plain_shots)
    if shapes.CARD in chosen:
        cuts = [s.start_ms for s in shots[1:]]
        card_at = shapes.card_point(speech, cuts, _ms(dialogue, rate))
        shots = shapes.insert_card_shot(shots, card_at, seed)
        chime = shapes.sting(rate, seed, level=1.4 * LINE_RMS)
        dialogue = shapes.insert_silence(dialogue, card_at, rate)
        backing = shapes.insert_silence(backing, card_at, rate, chime)
    timeline = EnTimeline(card_at, shapes.speed_mode(chosen))
    master_mix = (dialogue + backing).astype(np.float32)
    out_shots = shots
    if timeline.speed is not None:
        n_ms = timeline.sped(_ms(dialogue, rate))
        dialogue = stretch(dialogue, rate, timeline.speed, mix.samples(n_ms, rate))
        backing = stretch(backing, rate, timeline.speed, mix.samples(n_ms, rate))
        out_shots = shapes.sped_shots(shots, timeline, n_ms)
    return ShapedEn(
        tuple(chosen),
        timeline,
        timeline.time_map(plain_map),
        shots,
        master_mix,
        out_shots,
        dialogue,
        backing,
        rate,
    )


def stretch(audio: mix.Audio, rate: int, mode: str, n_out: int) -> mix.Audio:
    """audio played PAL-fast: atempo (pitch kept) or resampled (pitch up), n_out samples."""
    if mode == shapes.PAL:
        af = f"atempo={float(shapes.PAL_SPEED)!r}"
    else:
        fast = rate * shapes.PAL_SPEED
        if fast.denominator != 1:
            raise ValueError(f"{rate} Hz has no whole-Hz PAL rate")
        af = f"asetrate={fast.numerator},aresample={rate}"
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
    argv += [*_raw_args("f32le", rate, 1), "-i", "pipe:0", "-af", af, *_BITEXACT]
    argv += ["-f", "f32le", "pipe:1"]
    data = np.ascontiguousarray(audio, "<f4").tobytes()
    proc = subprocess.run(argv, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"ffmpeg {af} failed: {proc.stderr[-2000:].decode(errors='replace')}")
    out = np.frombuffer(proc.stdout, "<f4").astype(np.float32)
    return np.concatenate([out, np.zeros(max(0, n_out - len(out)), np.float32)])[:n_out]


def render_en(
    shaped: ShapedEn,
    looks: Mapping[str, Look],
    art: ArtLibrary,
    out: Path,
    tmp: Path,
    hook: Callable[[float], None],
) -> None:
    """en.mp4: the master picture over the release's audio (5.1 AAC for surround; a PAL
    release's frames retimed to 25 fps without re-encoding)."""
    wav = tmp / "en_master.wav"
    sf.write(wav, mix.to_pcm16(shaped.master_mix), shaped.rate, subtype="PCM_16")
    if not shaped.surround and shaped.timeline.speed is None:
        render_video(shaped.master_shots, looks, wav, out, art, hook=hook)
        return
    master = tmp / "en_master.mp4"
    render_video(shaped.master_shots, looks, wav, master, art, hook=hook)
    audio = tmp / "en_audio.raw"
    channels = _write_raw(audio, shaped.audio())
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    if shaped.timeline.speed is not None:
        argv += ["-itsscale", _decimal(shapes.PAL_TIME)]
    argv += ["-i", _url(master), *_raw_args("s16le", shaped.rate, channels)]
    argv += ["-i", _url(audio)]
    argv += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"]
    if shaped.timeline.speed is not None:
        # The container says 25 fps and so does the stream's own timing (H.264 VUI).
        argv += ["-bsf:v", "h264_metadata=tick_rate=50", "-video_track_timescale", "25"]
    argv += ["-c:a", "aac", "-b:a", _BITRATES[channels], *_BITEXACT, *_NO_METADATA]
    argv += ["-movflags", "+faststart", "-f", "mp4"]
    _ffmpeg(argv, out)


@dataclass(frozen=True)
class Track:
    audio: mix.Audio  # (n,) mono is written as 2.0, or (n, 6)
    language: str  # ISO 639-2
    title: str
    disposition: str  # "default", "comment" or "0"
    role: str  # "main" or "commentary"
    lang: str | None  # the truth language this track carries


@dataclass(frozen=True)
class SubtitleStream:
    ass: str  # the text of an ASS file, muxed as it is (codec ass)
    language: str  # ISO 639-2
    title: str
    disposition: str  # "default", "forced" or "0"


def write_mkv(
    ja_video: Path,
    tracks: Sequence[Track],
    out: Path,
    tmp: Path,
    rate: int,
    subtitles: Sequence[SubtitleStream] = (),
) -> list[object]:
    """One Matroska file: ja_video's picture (copied), the tracks, then the subtitle streams;
    the tracks' truth entries."""
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", _url(ja_video)]
    entries: list[object] = []
    for i, track in enumerate(tracks):
        stereo = track.audio if track.audio.ndim == 2 else np.stack([track.audio] * 2, axis=1)
        path = tmp / f"mkv_{i}.raw"
        channels = _write_raw(path, stereo)
        argv += [*_raw_args("s16le", rate, channels), "-i", _url(path)]
        entries.append(
            {
                "stream": f"a:{i}",
                "language": track.language,
                "title": track.title,
                "disposition": track.disposition,
                "role": track.role,
                "lang": track.lang,
                "channel_layout": _LAYOUTS[channels],
            }
        )
    for i, sub in enumerate(subtitles):
        path = tmp / f"mkv_s{i}.ass"
        path.write_bytes(sub.ass.encode("utf-8"))
        argv += ["-f", "ass", "-i", _url(path)]
    argv += ["-map", "0:v:0", "-c:v", "copy", "-metadata:s:v:0", "language=jpn"]
    argv += ["-disposition:v:0", "default"]
    for i, (track, entry) in enumerate(zip(tracks, entries, strict=True)):
        assert isinstance(entry, dict)
        argv += ["-map", f"{i + 1}:a:0", f"-c:a:{i}", "aac"]
        argv += [f"-b:a:{i}", _BITRATES[_channels_of(entry["channel_layout"])]]
        argv += [f"-metadata:s:a:{i}", f"language={track.language}"]
        argv += [f"-metadata:s:a:{i}", f"title={track.title}"]
        argv += [f"-disposition:a:{i}", track.disposition]
    for i, sub in enumerate(subtitles):
        argv += ["-map", f"{1 + len(tracks) + i}:s:0", f"-c:s:{i}", "copy"]
        argv += [f"-metadata:s:s:{i}", f"language={sub.language}"]
        argv += [f"-metadata:s:s:{i}", f"title={sub.title}"]
        argv += [f"-disposition:s:{i}", sub.disposition]
    argv += [*_BITEXACT, *_NO_METADATA, "-f", "matroska"]
    _ffmpeg(argv, out)
    return entries


def _channels_of(layout: object) -> int:
    return {v: k for k, v in _LAYOUTS.items()}[str(layout)]


def _write_raw(path: Path, audio: mix.Audio) -> int:
    """Interleaved s16le of audio ((n,) or (n, channels)); the channel count."""
    pcm = mix.to_pcm16(audio)
    path.write_bytes(np.ascontiguousarray(pcm, "<i2").tobytes())
    return 1 if pcm.ndim == 1 else int(pcm.shape[1])


def _raw_args(fmt: str, rate: int, channels: int) -> list[str]:
    return ["-f", fmt, "-ar", str(rate), "-ch_layout", _LAYOUTS[channels]]


def _decimal(value: Fraction) -> str:
    """The double nearest value, written so that ffmpeg parses that same double."""
    return repr(float(value))


def _ffmpeg(argv: list[str], out: Path) -> None:
    partial = out.with_name(out.name + ".part")
    proc = subprocess.run([*argv, _url(partial)], capture_output=True, check=False)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = proc.stderr[-4000:].decode("utf-8", "replace").strip()
        raise RenderError(f"ffmpeg exited with {proc.returncode}: {tail}")
    os.replace(partial, out)


def _url(path: Path) -> str:
    return "file:" + str(Path(path).resolve())


def truth_fields(
    shaped: ShapedEn,
    stems: Mapping[str, mix.Audio],
    ja_offset_ms: int,
    out: Path,
    tmp: Path,
    subtitles: Sequence[SubtitleStream] = (),
) -> dict[str, object]:
    """truth.json's `release` and `time_map`; writes episode.mkv for dual-mkv (after ja.mp4),
    with the subtitle streams after its audio tracks."""
    timeline = shaped.timeline
    card = None
    if timeline.card_at_ms is not None:
        at = timeline.card_at_ms
        card = {
            "start_ms": timeline.sped(at),
            "end_ms": timeline.sped(at + shapes.CARD_MS),
            "sting_ms": timeline.sped(at + shapes.STING_MS) - timeline.sped(at),
        }
    speed = None
    if timeline.speed is not None:
        factor = shapes.PAL_SPEED
        speed = {
            "factor": f"{factor.numerator}/{factor.denominator}",
            "pitch_corrected": timeline.speed == shapes.PAL,
        }
    channels = 6 if shaped.surround else 1
    value: dict[str, object] = {
        "shapes": list(shaped.shapes),
        "files": {"ja": "ja.mp4", "en": "en.mp4"},
        "ja": {"fps": "24000/1001", "channel_layout": "mono"},
        "en": {
            "fps": "25/1" if speed else "24000/1001",
            "channel_layout": _LAYOUTS[channels],
            "surround": shapes.SURROUND_MATRIX if shaped.surround else None,
            "card": card,
            "speed": speed,
        },
    }
    if shapes.DUAL_MKV in shaped.shapes:
        mkv = out / MKV_NAME
        value["mkv"] = dual_mkv(out / "ja.mp4", stems, shaped, ja_offset_ms, mkv, tmp, subtitles)
        value["files"] = {"ja": "ja.mp4", "en": "en.mp4", "mkv": MKV_NAME}
    return {"release": value, "time_map": shaped.time_map.to_json()}


def dual_mkv(
    ja_video: Path,
    stems: Mapping[str, mix.Audio],
    shaped: ShapedEn,
    ja_offset_ms: int,
    out: Path,
    tmp: Path,
    subtitles: Sequence[SubtitleStream] = (),
) -> dict[str, object]:
    """episode.mkv from the plain stems: the JA mix, the EN mix conformed to the JA video's
    timeline (5.1 for surround; no card, no speed-up: a dual-audio release shares one
    picture), and a commentary track; its truth entry."""
    rate = shaped.rate
    ja_ms = len(stems["ja_dialogue"]) * 1000 // rate

    def conform(audio: mix.Audio) -> mix.Audio:
        return shapes.on_ja_timeline(audio, ja_offset_ms, ja_ms, rate)

    dialogue, backing = conform(stems["en_dialogue"]), conform(stems["en_backing"])
    en_mix = (dialogue + backing).astype(np.float32)
    main = shapes.upmix_51(dialogue, backing, rate) if shaped.surround else en_mix
    ja_mix = (stems["ja_dialogue"] + stems["ja_backing"]).astype(np.float32)
    english = "English 5.1" if shaped.surround else "English 2.0"
    tracks = [
        Track(ja_mix, "jpn", "Japanese 2.0", "default", "main", "ja"),
        Track(main, "eng", english, "0", "main", "en"),
        Track(
            shapes.commentary(dialogue, en_mix), "eng", "Commentary", "comment", "commentary", None
        ),
    ]
    entries = write_mkv(ja_video, tracks, out, tmp, rate, subtitles)
    return {"file": out.name, "video": "ja", "en_timeline": "ja", "tracks": entries}
