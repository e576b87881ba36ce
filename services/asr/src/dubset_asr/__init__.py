"""dubset asr service: speech recognition with word timestamps (faster-whisper, aws-transcribe)."""

STAGE = "asr"
VERSION = "3"  # 2: segments split at pauses (core/words.py); 3: and at VAD silences
