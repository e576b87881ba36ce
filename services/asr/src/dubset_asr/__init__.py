"""dubset asr service: speech recognition with word timestamps (faster-whisper, aws-transcribe)."""

STAGE = "asr"
# 2: segments split at pauses (core/words.py); 3: and at VAD silences; 4: Japanese text keeps
# the space the recogniser puts between two sentences it leaves without 。; 5: the transcript
# carries its speech map (alignment looks for line breaks in its pauses)
VERSION = "5"
