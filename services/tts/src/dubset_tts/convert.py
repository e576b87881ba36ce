"""The one place protobuf messages and TTS values meet: params, scores, responses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_common.runner import OPTIONAL
from dubset_tts.backends import BACKENDS as SYNTH_BACKENDS
from dubset_tts.backends import DEFAULT_BACKEND
from dubset_tts.core.model import ClipDub, FitPolicy, Scores
from dubset_tts.translation import TRANSLATORS

DEFAULT_TRANSLATOR = "reference"
DEFAULT_DATASET = "default"
DEFAULT_RATE_HZ = 44_100
MIN_RATE_HZ, MAX_RATE_HZ = 8_000, 48_000
NO_STRETCH = FitPolicy(max_speedup=1.0, max_slowdown=1.0)
_VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=:-]{0,127}$")
# A model directory is a plain absolute path: no "..", no "~", no URL, no odd characters.
_PLAIN_PATH = re.compile(r"^(/[A-Za-z0-9_][A-Za-z0-9._+=-]{0,127}){1,32}$")


@dataclass(frozen=True)
class TtsParams:
    """Validated TTS params (hashed into the stage's output key and the Synthesize key)."""

    dataset: str
    backend: str
    voice: str
    translation: str
    fit_duration: bool
    mix_backing: bool
    sample_rate_hz: int
    compute_scores: bool
    model_dir: str
    # Dubbing an episode: (speaker, voice) pins, sorted; None when there are none.
    pins: tuple[tuple[str, str], ...] | None = field(default=None, metadata=OPTIONAL)
    # Dubbing an episode: the version of the casting rules (dubepisode.CASTING), so a change of
    # them makes new keys for dubs only; None for the dataset's per-clip dubs.
    casting: int | None = field(default=None, metadata=OPTIONAL)


def params_from_proto(params: tts_pb2.TtsParams) -> TtsParams:
    """The validated params, the service defaults filled in."""
    backend = params.backend or DEFAULT_BACKEND
    if backend not in SYNTH_BACKENDS:
        raise InvalidInputError(
            f"tts params: unknown backend {backend!r:.40}; one of {', '.join(SYNTH_BACKENDS)}"
        )
    if params.voice and not _VOICE.fullmatch(params.voice):
        raise InvalidInputError(
            f"tts params: voice {params.voice!r:.60} is not a voice name "
            "(1-128 of A-Z a-z 0-9 . _ + = : - starting alphanumeric)"
        )
    translation = params.translation_backend or DEFAULT_TRANSLATOR
    if translation not in TRANSLATORS:
        raise InvalidInputError(
            f"tts params: unknown translation_backend {translation!r:.40}; "
            f"one of {', '.join(TRANSLATORS)}"
        )
    rate = params.sample_rate_hz if params.HasField("sample_rate_hz") else DEFAULT_RATE_HZ
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise InvalidInputError(
            f"tts params: sample_rate_hz must be {MIN_RATE_HZ}..{MAX_RATE_HZ}, not {rate}"
        )
    dataset = params.dataset or DEFAULT_DATASET
    try:
        check_id(dataset, "dataset name")
    except InvalidInputError as exc:
        raise InvalidInputError(f"tts params: {exc}") from None
    if params.voice and backend == "yourtts":
        raise InvalidInputError(
            "tts params: yourtts clones each speaker's voice from the EN dialogue; "
            "leave voice empty"
        )
    if params.model_dir and backend != "yourtts":
        raise InvalidInputError(
            f"tts params: model_dir is for the yourtts backend only, not {backend}"
        )
    if params.model_dir and (
        not _PLAIN_PATH.fullmatch(params.model_dir)
        or any(part in (".", "..") for part in params.model_dir.split("/"))
    ):
        raise InvalidInputError(
            f"tts params: model_dir {params.model_dir!r:.80} must be a plain absolute path "
            "(/a/b/c of A-Z a-z 0-9 . _ + = -, no '..')"
        )
    pins = tuple(sorted(params.voices.items())) or None
    for speaker, voice in pins or ():
        if not _VOICE.fullmatch(speaker) or not _VOICE.fullmatch(voice):
            raise InvalidInputError(
                f"tts params: voices {speaker!r:.40}={voice!r:.40} is not SPEAKER=VOICE of names"
            )
    return TtsParams(
        dataset=dataset,
        backend=backend,
        voice=params.voice,
        translation=translation,
        fit_duration=params.fit_duration if params.HasField("fit_duration") else True,
        mix_backing=params.mix_backing if params.HasField("mix_backing") else True,
        sample_rate_hz=rate,
        compute_scores=params.compute_scores if params.HasField("compute_scores") else True,
        model_dir=params.model_dir,
        pins=pins,
    )


def policy_of(params: TtsParams) -> FitPolicy:
    """The default stretch bounds, or none at all when fit_duration is off."""
    return FitPolicy() if params.fit_duration else NO_STRETCH


def scores_to_proto(scores: Scores) -> tts_pb2.TtsScores:
    out = tts_pb2.TtsScores()
    if scores.dnsmos is not None:
        out.dnsmos = scores.dnsmos
    if scores.duration_ratio is not None:
        out.duration_ratio = scores.duration_ratio
    if scores.speaker_similarity is not None:
        out.speaker_similarity = scores.speaker_similarity
    return out


def scores_from_json(doc: Mapping[str, object]) -> Scores:
    def get(name: str) -> float | None:
        value = doc.get(name)
        return float(value) if isinstance(value, int | float) else None

    return Scores(get("dnsmos"), get("duration_ratio"), get("speaker_similarity"))


def synth_response(
    clip_id: str,
    dub: ClipDub,
    audio: common_pb2.MediaRef,
    speech: common_pb2.MediaRef,
    backend: str,
    translation_backend: str,
) -> tts_pb2.SynthesizeResponse:
    return tts_pb2.SynthesizeResponse(
        clip_id=clip_id,
        audio=audio,
        speech=speech,
        text=dub.text,
        scores=scores_to_proto(dub.scores),
        backend=backend,
        translation_backend=translation_backend,
        voice=dub.voice,
        fits=dub.fits,
        natural_duration_ratio=dub.natural_duration_ratio,
    )
