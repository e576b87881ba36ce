"""dubset asr service: speech recognition with word timestamps (faster-whisper, aws-transcribe)."""

STAGE = "asr"
VERSION = "1"
