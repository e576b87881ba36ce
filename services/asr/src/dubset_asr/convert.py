"""The one place protobuf messages and ASR values meet."""

from __future__ import annotations

from dubset.v1 import asr_pb2, common_pb2
from dubset_asr.core.model import Transcript

LANGUAGE_TO_PROTO = {"ja": common_pb2.LANGUAGE_JA, "en": common_pb2.LANGUAGE_EN}
LANGUAGE_FROM_PROTO = {v: k for k, v in LANGUAGE_TO_PROTO.items()}


def transcript_to_proto(t: Transcript, backend: str, model: str) -> asr_pb2.TranscribeResponse:
    language = LANGUAGE_TO_PROTO[t.language]
    return asr_pb2.TranscribeResponse(
        segments=[
            common_pb2.Segment(
                start_ms=s.start_ms,
                end_ms=s.end_ms,
                text=s.text,
                language=language,
                words=[
                    common_pb2.Word(
                        start_ms=w.start_ms, end_ms=w.end_ms, text=w.text, confidence=w.confidence
                    )
                    for w in s.words
                ],
            )
            for s in t.segments
        ],
        language=language,
        backend=backend,
        model=model,
        audio_duration_ms=t.duration_ms or 0,
    )
