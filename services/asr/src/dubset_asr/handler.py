"""ASR wired to its ports: the stage the runner executes and the call gRPC serves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dubset.v1 import asr_pb2, common_pb2
from dubset_asr import STAGE, VERSION
from dubset_asr.backends import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    FASTER_WHISPER,
    check_model_name,
    load_backend,
)
from dubset_asr.convert import LANGUAGE_FROM_PROTO, transcript_to_proto
from dubset_asr.core.jsonio import dumps
from dubset_asr.core.model import (
    AsrBackend,
    AsrInputError,
    BackendFailedError,
    DecodeOptions,
    ModelUnavailableError,
    ProgressHook,
    Transcript,
)
from dubset_asr.fromsubs import AlignerLoader, default_aligner, from_subtitles
from dubset_common.errors import (
    ConfigError,
    DubsetError,
    InvalidInputError,
    TransientError,
)
from dubset_common.facts import Facts
from dubset_common.objstore import ObjectStore
from dubset_common.runner import Output, StageContext, StageOutcome, fetch_to_file
from dubset_common.stagerequest import unpack_params
from dubset_common.subtitles import MAX_BYTES as MAX_SUBTITLE_BYTES

MAX_INPUT_BYTES = 4 * 1024 * 1024 * 1024
MAX_PROMPT_CHARS = 1000
BackendLoader = Callable[[str, str], AsrBackend]
_AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".mp4", ".m4a", ".mkv", ".webm"})


def default_loader(backend: str, model: str) -> AsrBackend:
    return load_backend(backend, model)


@dataclass(frozen=True)
class AsrParams:
    """Validated ASR params (hashed into the stage's output key)."""

    language: str
    backend: str
    model: str
    vad: bool
    beam_size: int
    temperature: float
    initial_prompt: str

    def decode_options(self) -> DecodeOptions:
        return DecodeOptions(
            beam_size=self.beam_size, vad=self.vad, initial_prompt=self.initial_prompt
        )


def params_from_proto(params: asr_pb2.AsrParams) -> AsrParams:
    """The validated params, the service defaults filled in."""
    language = LANGUAGE_FROM_PROTO.get(params.language)
    if language is None:
        raise InvalidInputError("asr params: language is required (LANGUAGE_JA or LANGUAGE_EN)")
    backend = params.backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise InvalidInputError(f"asr params: unknown backend {backend!r:.40}; one of {BACKENDS}")
    try:
        model = check_model_name(params.model)
    except AsrInputError as exc:
        raise InvalidInputError(f"asr params: {exc}") from None
    if backend == FASTER_WHISPER:
        model = model or DEFAULT_MODEL
    elif model not in ("", "aws"):
        raise InvalidInputError("asr params: aws-transcribe takes no model")
    beam = params.beam_size if params.HasField("beam_size") else 5
    if not 1 <= beam <= 20:
        raise InvalidInputError(f"asr params: beam_size must be 1..20, not {beam}")
    temperature = round(params.temperature, 4) if params.HasField("temperature") else 0.0
    if temperature != 0.0:
        raise InvalidInputError(
            "asr params: only temperature 0 is supported (deterministic output)"
        )
    if len(params.initial_prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError(f"asr params: initial_prompt over {MAX_PROMPT_CHARS} characters")
    if params.backend_options:
        keys = ", ".join(sorted(params.backend_options))
        raise InvalidInputError(f"asr params: backend_options are not supported ({keys})")
    return AsrParams(
        language=language,
        backend=backend,
        model=model,
        vad=params.vad if params.HasField("vad") else True,
        beam_size=beam,
        temperature=temperature,
        initial_prompt=params.initial_prompt,
    )


def run_backend(
    loader: BackendLoader, params: AsrParams, audio: Path, hook: ProgressHook
) -> tuple[AsrBackend, Transcript]:
    """Load and run the requested backend; domain failures become dubset errors."""
    try:
        asr = loader(params.backend, params.model)
        return asr, asr.transcribe(audio, params.language, params.decode_options(), hook)
    except AsrInputError as exc:
        raise InvalidInputError(str(exc)) from None
    except ModelUnavailableError as exc:
        raise ConfigError(str(exc)) from None
    except BackendFailedError as exc:
        if exc.retryable:
            raise TransientError(str(exc)) from None
        raise DubsetError(str(exc)) from None


def backend_label(asr: AsrBackend) -> str:
    return f"{asr.name}:{asr.model}"


def _suffix(uri: str) -> str:
    suffix = PurePosixPath(uri).suffix.lower()
    return suffix if suffix in _AUDIO_SUFFIXES else ""


def fetch_audio(store: ObjectStore, ref: common_pb2.MediaRef, workdir: Path, limit: int) -> Path:
    """Copy the referenced audio into workdir (streamed), checked against its size and sha256."""
    path = workdir / f"audio{_suffix(ref.uri)}"
    fetch_to_file(store, ref, path, limit, f"audio {ref.uri}")
    return path


class AsrStage:
    """Input `audio` (a WAV, normally the dialogue stem); output `transcript` (transcript.json)."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("audio",)

    optional_inputs: tuple[str, ...] = ("subtitles",)  # a subtitle file: the transcript

    def __init__(
        self, loader: BackendLoader = default_loader, aligner: AlignerLoader = default_aligner
    ) -> None:
        self.loader = loader
        self.aligner = aligner

    def parse_params(self, request: common_pb2.StageRequest) -> AsrParams:
        params = unpack_params(request, asr_pb2.AsrParams, "asr")
        return params_from_proto(params)

    def run(self, ctx: StageContext[AsrParams]) -> StageOutcome:
        audio = fetch_audio(
            ctx.store, ctx.request.inputs["audio"], ctx.workdir, ctx.max_input_bytes
        )
        if ctx.has_input("subtitles"):
            return self._from_subtitles(ctx, audio)
        asr, transcript = run_backend(self.loader, ctx.params, audio, ctx.hook)
        out = Output("transcript", "transcript.json", "application/json", data=dumps(transcript))
        words = sum(len(s.words) for s in transcript.segments)
        info: dict[str, object] = dict(asr.info())
        info.update(
            {
                "vad": ctx.params.vad if asr.name == FASTER_WHISPER else "n/a",
                "segments": len(transcript.segments),
                "words": words,
                "audio_duration_ms": transcript.duration_ms,
            }
        )
        facts = Facts(segments=len(transcript.segments))
        return StageOutcome(outputs=(out,), backend=backend_label(asr), info=info, facts=facts)

    def _from_subtitles(self, ctx: StageContext[AsrParams], audio: Path) -> StageOutcome:
        """The subtitle file's cues as the transcript, their times aligned to the speech."""
        ctx.hook(0.1, "aligning the subtitles to the speech")
        size = ctx.request.inputs["subtitles"].size_bytes
        if size > MAX_SUBTITLE_BYTES:
            raise InvalidInputError(f"the subtitle file is {size} bytes, over {MAX_SUBTITLE_BYTES}")
        data = ctx.read_input("subtitles")
        p = ctx.params
        raw, aligned, info = from_subtitles(self.aligner, p.model, audio, data, p.language)
        out = Output("transcript", "transcript.json", "application/json", data=raw)
        facts = Facts(segments=len(aligned.transcript.segments))
        return StageOutcome(
            outputs=(out,), backend="subtitles+whisper-align", info=info, facts=facts
        )


def transcribe_inline(
    request: asr_pb2.TranscribeRequest,
    store: ObjectStore,
    workdir: Path,
    loader: BackendLoader = default_loader,
    max_input_bytes: int = MAX_INPUT_BYTES,
) -> asr_pb2.TranscribeResponse:
    """Transcribe the audio a request references (read from the object store)."""
    params = params_from_proto(request.params)
    if not request.audio.uri:
        raise InvalidInputError("audio.uri is required")
    audio = fetch_audio(store, request.audio, workdir, max_input_bytes)
    asr, transcript = run_backend(loader, params, audio, lambda _f, _m: None)
    return transcript_to_proto(transcript, asr.name, asr.model)
