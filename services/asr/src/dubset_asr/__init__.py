"""dubset asr service: speech recognition with word timestamps (faster-whisper, aws-transcribe)."""

STAGE = "asr"
# 2: segments split at pauses (core/words.py); 3: and at VAD silences; 4: Japanese text keeps
# the space the recogniser puts between two sentences it leaves without 。; 5: the transcript
# carries its speech map (alignment looks for line breaks in its pauses); 6: a segment ends where
# the speech under its last word ends (core/speech.py end_on_speech), not at Whisper's word end
VERSION = "6"
