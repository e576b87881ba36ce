"""Quality wired to its ports: the stage the runner executes (the gRPC call runs it too)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

from dubset.v1 import common_pb2, quality_pb2
from dubset_asr.core.model import ModelUnavailableError
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.keys import check_id, join_key, sha256_hex
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_quality import STAGE, VERSION
from dubset_quality.audio import Stem
from dubset_quality.convert import QualityParams, params_from_proto
from dubset_quality.core.doc import (
    dumps,
    parse_episode_fragment,
    parse_turns,
    parse_words,
    quality_doc,
)
from dubset_quality.core.model import LANGUAGES, QualityInputError
from dubset_quality.measure import Evidence, Scorer, measure
from dubset_quality.recognize import AsrRecognizer, Recognizer
from dubset_voices.dnsmos import Dnsmos, DnsmosUnavailableError

MAX_INPUT_BYTES = 16 * 1024**3
BACKEND = "dubset-quality"


def quality_key(dataset: str, episode_id: str) -> str:
    """datasets/<dataset>/quality/<episode_id>.json, which `dubset export` joins."""
    return join_key("datasets", check_id(dataset, "dataset name"), "quality",
                    f"{episode_id}.json")  # fmt: skip


class QualityStage:
    """Inputs `episode` (packaging's fragment), `ja_dialogue`/`en_dialogue` (separation),
    `ja`/`en` (ASR transcripts), `ja_turns`/`en_turns` (diarization); optional `en_backing`
    (the music-and-effects stem). Output `quality` (quality.json), also written into the
    dataset as its quality fragment."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = (
        "episode", "ja_dialogue", "en_dialogue", "ja", "en", "ja_turns", "en_turns",
    )  # fmt: skip
    optional_inputs: tuple[str, ...] = ("en_backing",)

    def __init__(
        self,
        dnsmos: Scorer | None = None,
        recognizer: Callable[[QualityParams, Path], Recognizer] | None = None,
    ) -> None:
        self._dnsmos = dnsmos
        self._make_recognizer = recognizer or _asr_recognizer

    def parse_params(self, request: common_pb2.StageRequest) -> QualityParams:
        params = unpack_params(request, quality_pb2.QualityParams, "quality")
        try:
            return params_from_proto(params)
        except QualityInputError as exc:
            raise InvalidInputError(str(exc)) from None

    def run(self, ctx: StageContext[QualityParams]) -> StageOutcome:
        try:
            return self._run(ctx)
        except QualityInputError as exc:
            raise InvalidInputError(str(exc)) from None
        except (ModelUnavailableError, DnsmosUnavailableError) as exc:
            raise ConfigError(str(exc)) from None

    def _run(self, ctx: StageContext[QualityParams]) -> StageOutcome:
        p = ctx.params
        episode_bytes = ctx.read_input("episode")
        episode_id, pairs = parse_episode_fragment(episode_bytes)
        recognizer = self._recognizer(p, ctx.workdir)
        dnsmos = (self._dnsmos or Dnsmos()) if p.dnsmos else None
        with _stems(ctx) as (dialogue, backing):
            evidence = {
                lang: Evidence(
                    parse_words(ctx.read_input(lang), f"{lang} transcript"),
                    parse_turns(ctx.read_input(f"{lang}_turns"), f"{lang}_turns"),
                    dialogue[lang],
                )
                for lang in LANGUAGES
            }
            ctx.hook(0.05, f"scoring {len(pairs)} clip pairs")
            qualities = measure(pairs, evidence, backing, dnsmos, recognizer,
                                lambda f, m: ctx.hook(0.05 + 0.9 * f, m))  # fmt: skip
        backend = BACKEND if recognizer is None else f"{BACKEND}+{recognizer.name}"
        if dnsmos is not None:
            backend += "+dnsmos-p835"
        params = {k: v for k, v in asdict(p).items() if k != "dataset"}
        doc = quality_doc(episode_id, sha256_hex(episode_bytes), pairs, qualities, backend,
                          params)  # fmt: skip
        data = dumps(doc)
        ctx.hook(0.97, "writing the quality fragment")
        ctx.store.put_bytes(quality_key(p.dataset, episode_id), data, "application/json")
        scores = sorted(float(q["score"] or 0.0) for q in qualities)
        info: dict[str, object] = {"clips": len(pairs)}
        if scores:
            info["median_quality"] = scores[len(scores) // 2]
        out = Output("quality", "quality.json", "application/json", data=data)
        return StageOutcome(outputs=(out,), backend=backend, info=info)

    def _recognizer(self, p: QualityParams, workdir: Path) -> Recognizer | None:
        return self._make_recognizer(p, workdir) if p.reasr else None


def _asr_recognizer(p: QualityParams, workdir: Path) -> Recognizer:
    return AsrRecognizer(p.asr_backend, p.asr_model, workdir)


@contextlib.contextmanager
def _stems(ctx: StageContext[QualityParams]) -> Iterator[tuple[dict[str, Stem], Stem | None]]:
    with contextlib.ExitStack() as stack:
        dialogue = {
            lang: stack.enter_context(Stem(ctx.input_file(f"{lang}_dialogue"), f"{lang}_dialogue"))
            for lang in LANGUAGES
        }
        backing = None
        if ctx.has_input("en_backing"):
            backing = stack.enter_context(Stem(ctx.input_file("en_backing"), "en_backing"))
        yield dialogue, backing
