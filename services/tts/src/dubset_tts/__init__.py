"""dubset TTS service: the baseline automatic English dub of every clip (the MUSHRA anchor)."""

STAGE = "tts"
VERSION = "1"
