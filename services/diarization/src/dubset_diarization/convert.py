"""The one place protobuf messages and diarization values meet."""

from __future__ import annotations

from dubset.v1 import common_pb2, diarization_pb2
from dubset_diarization.core.model import Diarization

_LANGUAGES = {common_pb2.LANGUAGE_JA: "ja", common_pb2.LANGUAGE_EN: "en"}


def language_name(language: int) -> str | None:
    """ "ja", "en", or None when unspecified."""
    return _LANGUAGES.get(common_pb2.Language.ValueType(language))


def diarization_to_proto(
    d: Diarization, backend: str, model: str, params: diarization_pb2.DiarizationParams
) -> diarization_pb2.DiarizeResponse:
    return diarization_pb2.DiarizeResponse(
        turns=[
            common_pb2.SpeakerTurn(
                start_ms=t.start_ms, end_ms=t.end_ms, speaker=t.speaker, language=params.language
            )
            for t in d.turns
        ],
        speakers=d.speakers,
        backend=backend,
        model=model,
    )
