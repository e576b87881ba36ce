"""Media test material: small files made with ffmpeg, and one generated episode per session."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_media.ffmpeg import Tools

EPISODE_SECONDS = 30
EPISODE_SEED = 11
INTRO_MS = 30_000  # the generated pair: JA has a 30 s intro the EN release lacks


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def tools() -> Tools:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg and ffprobe are required (Debian package ffmpeg)")
    return Tools(probe_timeout_s=20.0).resolve()


@pytest.fixture(scope="session")
def av_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of H.264 video with a stereo AAC tone, tagged Japanese."""
    path = tmp_path_factory.mktemp("media") / "av.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=4",
        "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:duration=4",
        "-map", "0:v", "-map", "1:a", "-ac", "2", "-c:v", "libx264", "-c:a", "aac",
        "-metadata:s:a:0", "language=jpn", str(path),
    )  # fmt: skip
    return path


@dataclass(frozen=True)
class Episode:
    dir: Path
    truth: dict[str, object]
    ja_wav: Path  # 16 kHz mono audio of each video
    en_wav: Path


@pytest.fixture(scope="session")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Episode:
    """One generated 30 s episode pair, JA 30 s longer (intro), and its 16 kHz audio."""
    from dubset_sample.generate import SampleOptions, generate

    out = tmp_path_factory.mktemp("episode")
    generate(
        SampleOptions(out=out, seconds=EPISODE_SECONDS, seed=EPISODE_SEED, ja_offset_ms=INTRO_MS)
    )
    wavs = {}
    for lang in ("ja", "en"):
        wavs[lang] = out / f"{lang}.16k.wav"
        ffmpeg("-i", str(out / f"{lang}.mp4"), "-map", "0:a:0", "-ac", "1", "-ar", "16000",
               "-c:a", "pcm_s16le", str(wavs[lang]))  # fmt: skip
    truth = json.loads((out / "truth.json").read_text())
    return Episode(out, truth, wavs["ja"], wavs["en"])


def shifted_pair(ep: Episode, ja_offset_ms: int, out: Path) -> tuple[Path, Path]:
    """(ja, en) 16 kHz WAVs of the episode re-cut so that JA time = EN time + ja_offset_ms.

    The JA track opens with a 30 s theme the EN track lacks: dropping part of that theme
    shortens the JA intro; a negative offset moves the theme's tail in front of the EN track.
    """
    ja, rate = sf.read(ep.ja_wav, dtype="int16")
    en, _ = sf.read(ep.en_wav, dtype="int16")
    intro = INTRO_MS * rate // 1000
    if ja_offset_ms >= 0:
        ja = ja[intro - ja_offset_ms * rate // 1000 :]
    else:
        lead = -ja_offset_ms * rate // 1000
        en = np.concatenate([ja[intro - lead : intro], en])
        ja = ja[intro:]
    paths = (out / f"ja{ja_offset_ms}.wav", out / f"en{ja_offset_ms}.wav")
    sf.write(paths[0], ja, rate, subtype="PCM_16")
    sf.write(paths[1], en, rate, subtype="PCM_16")
    return paths


@pytest.fixture(scope="session")
def other_episode_en(episode: Episode, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An EN video of a different episode: the same EN dialogue over another seed's bed."""
    from dubset_sample import mix
    from dubset_sample.backing import render_bed
    from dubset_sample.voices import LINE_RMS

    dialogue, rate = sf.read(episode.dir / "en_dialogue.wav", dtype="float32")
    bed = render_bed(len(dialogue) * 1000 // rate, rate, EPISODE_SEED + 1).audio
    backing = mix.backing_track(bed[:0], bed, LINE_RMS)[: len(dialogue)]
    mixed = np.clip(dialogue + backing, -1.0, 1.0)
    out = tmp_path_factory.mktemp("other")
    sf.write(out / "mix.wav", mixed, rate, subtype="PCM_16")
    video = out / "en.mp4"
    ffmpeg("-i", str(episode.dir / "en.mp4"), "-i", str(out / "mix.wav"), "-map", "0:v",
           "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", str(video))  # fmt: skip
    return video
