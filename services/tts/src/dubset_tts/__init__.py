"""dubset TTS service: the baseline automatic English dub of every clip (the MUSHRA anchor)."""

STAGE = "tts"
VERSION = "2"  # 2: DNSMOS one run per 9.01 s window (ovrl_clip); embedder on one thread
