"""Separation wired to its ports: the stage the runner executes, also behind gRPC."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from dubset.v1 import common_pb2, separation_pb2
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.runner import OPTIONAL, Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.timemap import TimeMap, TimeMapError
from dubset_common.timemap_proto import timemap_from_proto
from dubset_separation import STAGE, VERSION
from dubset_separation.core.audio import AudioSource
from dubset_separation.core.model import (
    BACKENDS,
    LANGS,
    BackendUnavailableError,
    SeparationInputError,
)
from dubset_separation.core.separate import ExternalSeparator, choose_backend, separate
from dubset_separation.core.tracks import stem_names
from dubset_separation.spleeter_backend import SpleeterSeparator

# A 4-hour 48 kHz stereo 16-bit WAV is 2.8 GB; inputs are files on disk, read in chunks.
MAX_INPUT_BYTES = 4 * 1024 * 1024 * 1024
RESULT_FILE = "separation.json"


@dataclass(frozen=True)
class SeparationParams:
    """Validated separation params (hashed into the stage's output key); backend "": the
    inputs choose (dualdub with both tracks, else repet)."""

    backend: str
    model: str
    ja_offset_ms: int
    time_map: TimeMap | None = field(default=None, metadata=OPTIONAL)  # unset: the offset holds


def params_from_proto(params: separation_pb2.SeparationParams) -> SeparationParams:
    backend = params.backend.strip().lower()
    if backend and backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {params.backend!r}; choose one of {BACKENDS}")
    if params.model and backend != "spleeter":
        raise InvalidInputError(f"model {params.model!r} applies only to the spleeter backend")
    if params.model and params.model != "spleeter:2stems":
        raise InvalidInputError(f"unknown spleeter model {params.model!r}; have spleeter:2stems")
    try:
        time_map = timemap_from_proto(params.time_map)
    except TimeMapError as exc:
        raise InvalidInputError(f"separation time_map: {exc}") from None
    return SeparationParams(
        backend=backend,
        model=params.model,
        ja_offset_ms=int(params.ja_offset_ms),
        time_map=time_map,
    )


class SeparationStage:
    """Inputs `ja` and/or `en` are audio files by reference; outputs one WAV per stem.

    Both inputs are optional to the runner; which ones a request gives is checked against the
    backend in parse_params: dualdub needs both, repet and spleeter run on either or both.
    """

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ()
    optional_inputs: tuple[str, ...] = LANGS

    def __init__(self, spleeter_model_dir: Path | None = None) -> None:
        self.spleeter_model_dir = spleeter_model_dir or (
            Path(os.environ["DUBSET_SPLEETER_MODEL_DIR"])
            if os.environ.get("DUBSET_SPLEETER_MODEL_DIR")
            else None
        )

    def parse_params(self, request: common_pb2.StageRequest) -> SeparationParams:
        params = unpack_params(request, separation_pb2.SeparationParams, "separation")
        parsed = params_from_proto(params)
        try:
            # Refuses no input at all, and dualdub without both tracks, before any work.
            choose_backend(parsed.backend, set(self.languages(request)))
        except SeparationInputError as exc:
            raise InvalidInputError(str(exc)) from None
        return parsed

    @staticmethod
    def languages(request: common_pb2.StageRequest) -> tuple[str, ...]:
        """The languages a request gives, in ja, en order."""
        return tuple(lang for lang in LANGS if lang in request.inputs)

    def _fetch(self, ctx: StageContext[SeparationParams], lang: str) -> Path:
        return ctx.input_file(lang, f"input_{lang}")

    def run(self, ctx: StageContext[SeparationParams]) -> StageOutcome:
        backend, offset = ctx.params.backend, ctx.params.ja_offset_ms
        langs = tuple(lang for lang in LANGS if ctx.has_input(lang))
        out_dir = ctx.workdir / "out"
        out_dir.mkdir()
        try:
            external: ExternalSeparator | None = None
            if backend == "spleeter":
                external = SpleeterSeparator.from_env(self.spleeter_model_dir)
            with ExitStack() as stack:
                sources = {
                    lang: stack.enter_context(AudioSource(self._fetch(ctx, lang), lang))
                    for lang in langs
                }
                result = separate(
                    sources,
                    out_dir,
                    backend=backend,
                    ja_offset_ms=offset,
                    external=external,
                    hook=ctx.hook,
                    time_map=ctx.params.time_map,
                )
        except SeparationInputError as exc:
            raise InvalidInputError(str(exc)) from None
        except BackendUnavailableError as exc:
            # The requested model cannot run here: an operator's fix, never another backend.
            raise ConfigError(str(exc)) from None
        summary = result.to_json()
        outputs = [
            Output(
                "summary",
                RESULT_FILE,
                "application/json",
                data=(json.dumps(summary, indent=2, sort_keys=True) + "\n").encode(),
            )
        ]
        for lang in langs:
            for stem, filename in zip(("dialogue", "backing"), stem_names(lang), strict=True):
                outputs.append(
                    Output(f"{lang}_{stem}", filename, "audio/wav", path=out_dir / filename)
                )
        info = {"stage_version": VERSION, **summary}
        return StageOutcome(outputs=tuple(outputs), backend=result.backend, info=info)
