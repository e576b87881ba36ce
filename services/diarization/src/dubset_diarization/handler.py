"""Diarization wired to its ports: the file-level call the CLI uses, the stage the runner
executes and the inline call gRPC serves."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dubset.v1 import common_pb2, diarization_pb2
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.facts import Facts
from dubset_common.objstore import ObjectStore
from dubset_common.runner import Output, StageContext, StageOutcome, fetch_to_file
from dubset_common.stagerequest import unpack_params
from dubset_diarization import STAGE, VERSION
from dubset_diarization.audio import AudioInfo, chunks, probe
from dubset_diarization.config import BACKENDS, DiarizationConfig
from dubset_diarization.convert import diarization_to_proto, language_name
from dubset_diarization.core.jsonio import dumps, rttm
from dubset_diarization.core.model import (
    BackendUnavailableError,
    Diarization,
    DiarizationInputError,
    SpeakerBounds,
    SpeakerEmbedder,
    SpeechDetector,
)
from dubset_diarization.core.pipeline import diarize
from dubset_diarization.core.turns import renumber

MAX_INPUT_BYTES = 4 * 1024 * 1024 * 1024
EMBEDDED_MODEL = "silero+resemblyzer"
EMBEDDED_BACKEND = f"embedded:{EMBEDDED_MODEL}"
Hook = Callable[[float, str], None]


def _no_hook(_fraction: float, _message: str) -> None:
    return None


class EmbeddedPorts(Protocol):
    """The embedded backend's models (dubset_diarization.embedded.EmbeddedModels, or fakes)."""

    @property
    def vad(self) -> SpeechDetector: ...
    @property
    def embedder(self) -> SpeakerEmbedder: ...
    @property
    def checksums(self) -> Mapping[str, str]: ...
    @property
    def versions(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Result:
    diarization: Diarization
    backend: str
    model: str
    info: dict[str, object] = field(default_factory=dict)


class Backends:
    """Loads each requested model once per process and never swaps one backend for another."""

    def __init__(
        self, config: DiarizationConfig | None = None, embedded: EmbeddedPorts | None = None
    ) -> None:
        self.config = config or DiarizationConfig()
        self._lock = threading.Lock()
        self._embedded = embedded
        self._pyannote: dict[Path, object] = {}

    def pyannote_dir(self, model: str, override: Path | None = None) -> Path:
        if override is not None:
            return override
        root = self.config.pyannote_dir
        if root is None:
            raise ConfigError(
                "the pyannote backend needs a model directory "
                "(DUBSET_DIARIZATION_PYANNOTE_DIR, or --model-dir on the CLI)"
            )
        if not model:
            return root
        if "/" in model or "\\" in model or model.startswith("."):
            raise InvalidInputError(f"model {model!r} must name a directory under the model root")
        return root / model

    def run(
        self,
        path: Path,
        backend: str,
        bounds: SpeakerBounds,
        *,
        model: str = "",
        model_dir: Path | None = None,
        workdir: Path,
        hook: Hook = _no_hook,
    ) -> Result:
        """Diarize one audio file with the named backend; domain errors become DubsetErrors."""
        backend = backend or self.config.backend
        if backend not in BACKENDS:
            raise InvalidInputError(
                f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
            )
        if backend == "embedded" and model not in ("", EMBEDDED_MODEL):
            raise InvalidInputError(f"the embedded backend has one model, {EMBEDDED_MODEL}")
        pyannote_dir = self.pyannote_dir(model, model_dir) if backend == "pyannote" else None
        try:
            info = probe(path)
            if pyannote_dir is None:
                return self._run_embedded(path, info, bounds, hook)
            return self._run_pyannote(path, info, bounds, pyannote_dir, workdir, hook)
        except DiarizationInputError as exc:
            raise InvalidInputError(str(exc)) from None
        except BackendUnavailableError as exc:
            raise ConfigError(str(exc)) from None

    def _run_embedded(
        self, path: Path, info: AudioInfo, bounds: SpeakerBounds, hook: Hook
    ) -> Result:
        with self._lock:
            models = self._embedded
            if models is None:
                from dubset_diarization.embedded import EmbeddedModels

                models = self._embedded = EmbeddedModels()
            d, stats = diarize(
                lambda: chunks(path, info), models.vad, models.embedder, bounds, hook=hook
            )
        extra = {
            "versions": models.versions,
            "checksums": models.checksums,
            "speech_ms": stats.speech_ms,
            "speech_regions": stats.regions,
            "windows": stats.windows,
        }
        return Result(d, EMBEDDED_BACKEND, EMBEDDED_MODEL, _info(d, info, extra))

    def _run_pyannote(
        self,
        path: Path,
        info: AudioInfo,
        bounds: SpeakerBounds,
        model_dir: Path,
        workdir: Path,
        hook: Hook,
    ) -> Result:
        from dubset_common.config import model_device
        from dubset_diarization.pyannote_backend import NAME, PyannoteDiarizer

        with self._lock:
            loaded = self._pyannote.get(model_dir)
            if loaded is None:
                loaded = PyannoteDiarizer(model_dir, workdir / "pyannote", model_device())
                self._pyannote[model_dir] = loaded
            assert isinstance(loaded, PyannoteDiarizer)
            hook(0.1, "pyannote pipeline")
            turns = renumber(loaded.diarize(chunks(path, info), bounds))
        d = Diarization(tuple(turns), round(info.duration_s * 1000))
        extra = {"versions": {"pyannote.audio": loaded.version}, "checksums": loaded.checksums}
        return Result(d, NAME, model_dir.name, _info(d, info, extra))


def _info(d: Diarization, audio: AudioInfo, extra: Mapping[str, object]) -> dict[str, object]:
    return {
        "turns": len(d.turns),
        "speakers": len(d.speakers),
        "duration_ms": d.duration_ms,
        "input_sample_rate": audio.sample_rate,
        "input_channels": audio.channels,
        "overlap": "not modelled: each instant of speech gets one speaker"
        if not any(a.end_ms > b.start_ms for a, b in zip(d.turns, d.turns[1:], strict=False))
        else "overlapping turns present",
        **extra,
    }


@dataclass(frozen=True)
class DiarizationParams:
    """Validated diarization params (hashed into the stage's output key)."""

    language: str | None
    backend: str
    model: str
    num_speakers: int | None
    min_speakers: int | None
    max_speakers: int | None

    @property
    def bounds(self) -> SpeakerBounds:
        return SpeakerBounds(self.num_speakers, self.min_speakers, self.max_speakers)


def bounds_of(params: diarization_pb2.DiarizationParams) -> SpeakerBounds:
    try:
        return SpeakerBounds(
            params.num_speakers if params.HasField("num_speakers") else None,
            params.min_speakers if params.HasField("min_speakers") else None,
            params.max_speakers if params.HasField("max_speakers") else None,
        )
    except DiarizationInputError as exc:
        raise InvalidInputError(str(exc)) from None


def _fetch(store: ObjectStore, ref: common_pb2.MediaRef, dest: Path, max_bytes: int) -> Path:
    fetch_to_file(store, ref, dest, max_bytes, f"audio {ref.uri}")
    return dest


def diarize_inline(
    request: diarization_pb2.DiarizeRequest,
    store: ObjectStore,
    backends: Backends,
    workdir: Path,
) -> diarization_pb2.DiarizeResponse:
    """Diarize the audio a request references (fetched from the object store)."""
    bounds = bounds_of(request.params)
    if not request.audio.uri:
        raise InvalidInputError("audio.uri is required")
    path = _fetch(store, request.audio, workdir / "audio", MAX_INPUT_BYTES)
    result = backends.run(
        path, request.params.backend, bounds, model=request.params.model, workdir=workdir
    )
    return diarization_to_proto(result.diarization, result.backend, result.model, request.params)


class DiarizationStage:
    """Input `audio` (WAV, normally the dialogue stem); outputs turns.json and turns.rttm."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("audio",)

    def __init__(self, backends: Backends | None = None) -> None:
        self.backends = backends or Backends()

    def parse_params(self, request: common_pb2.StageRequest) -> DiarizationParams:
        params = unpack_params(request, diarization_pb2.DiarizationParams, "diarization")
        bounds = bounds_of(params)
        backend = params.backend or self.backends.config.backend
        if backend not in BACKENDS:
            raise InvalidInputError(
                f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
            )
        return DiarizationParams(
            language=language_name(params.language),
            backend=backend,
            model=params.model,
            num_speakers=bounds.num,
            min_speakers=bounds.min,
            max_speakers=bounds.max,
        )

    def run(self, ctx: StageContext[DiarizationParams]) -> StageOutcome:
        p = ctx.params
        path = _fetch(
            ctx.store, ctx.request.inputs["audio"], ctx.workdir / "audio", ctx.max_input_bytes
        )
        ctx.count_input(path.stat().st_size)
        result = self.backends.run(
            path, p.backend, p.bounds, model=p.model, workdir=ctx.workdir, hook=ctx.hook
        )
        outputs = (
            Output(
                "turns",
                "turns.json",
                "application/json",
                data=dumps(result.diarization, p.language),
            ),
            Output(
                "rttm",
                "turns.rttm",
                "text/plain",
                data=rttm(result.diarization, ctx.request.episode_id),
            ),
        )
        d = result.diarization
        facts = Facts(turns=len(d.turns), speakers=len(d.speakers))
        return StageOutcome(outputs=outputs, backend=result.backend, info=result.info, facts=facts)
