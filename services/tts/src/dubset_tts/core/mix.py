"""The dub speech levelled to the original dialogue and mixed over the backing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubset_tts.core.model import Audio
from dubset_voices.level import DEFAULT_DIALOGUE_LUFS, limit, loudness, match_gain


@dataclass(frozen=True)
class Mixed:
    speech: Audio  # levelled, limited dry speech track
    mix: Audio  # speech + backing, limited
    target_lufs: float


def mix_clip(
    speech_track: Audio, original_dialogue: Audio, backing: Audio | None, rate: int
) -> Mixed:
    """Gain-match the speech track to the original dialogue of the clip, add the backing.

    Both loudnesses are measured over the whole clip-long track (BS.1770 gating ignores the
    silence around the speech); a silent original gets DEFAULT_DIALOGUE_LUFS. Everything
    written is peak-limited, so nothing clips.
    """
    target = loudness(original_dialogue, rate)
    if not np.isfinite(target):
        target = DEFAULT_DIALOGUE_LUFS
    gain = np.float32(match_gain(speech_track, rate, target))
    speech = limit(speech_track * gain, rate)
    if backing is None:
        return Mixed(speech, speech.copy(), target)
    if len(backing) != len(speech):
        raise ValueError(f"backing has {len(backing)} samples, speech {len(speech)}")
    return Mixed(speech, limit(speech_track * gain + backing, rate), target)
