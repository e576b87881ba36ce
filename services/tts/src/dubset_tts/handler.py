"""TTS wired to its ports: the pipeline stage that dubs an episode into the dataset."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.facts import Facts
from dubset_common.keys import canonical_json
from dubset_common.objstore import put_if_changed
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.tools import stage_errors
from dubset_tts import STAGE, VERSION
from dubset_tts.config import load_config
from dubset_tts.convert import TtsParams, params_from_proto, policy_of
from dubset_tts.core.backend import SpeechSynthesizer, Translator
from dubset_tts.core.episode import Chosen, EpisodeInputs, dub_episode, mean_scores
from dubset_tts.core.model import (
    BackendUnavailableError,
    ClipDub,
    EpisodeDub,
    Speech,
    TtsInputError,
    Voice,
)
from dubset_tts.dataset import baseline_key, check_stored, clip_key
from dubset_tts.dubepisode import check_dub_request, dub_episode_lines
from dubset_tts.encode import MAX_BATCH, MP3_RATE_HZ, encode_batch, write_wav
from dubset_tts.fragment import ClipFile, baseline_fragment, parse_episode_fragment, parse_turns
from dubset_tts.metrics import TtsMetrics
from dubset_tts.models import Models

log = logging.getLogger(__name__)
MAX_INPUT_BYTES = 16 * 1024**3
DATASET_INPUTS = ("episode", "en_dialogue", "en_backing", "en_turns")
# Clips dubbed per core call: their audio is all that is held in memory at once.
CHUNK_CLIPS = 32
_EMPTY = Speech(np.zeros(0, np.float32), MP3_RATE_HZ)


@contextlib.contextmanager
def tts_errors() -> Iterator[None]:
    """Core and tool failures as job errors: bad input is not retried, a missing model or
    tool is an operator's (ConfigError), a starved ffmpeg is retried."""
    with stage_errors(TtsInputError):
        try:
            yield
        except BackendUnavailableError as exc:
            raise ConfigError(str(exc)) from None


def parse_stage_params(request: common_pb2.StageRequest) -> TtsParams:
    params = unpack_params(request, tts_pb2.TtsParams, "tts")
    return params_from_proto(params)


def load_ports(models: Models, params: TtsParams) -> tuple[SpeechSynthesizer, Translator]:
    synth = models.synthesizer(params.backend, params.voice, params.model_dir)
    return synth, models.translator(params.translation)


class TtsStage:
    """Inputs: the episode fragment, the EN stems and turns (optionally the JA dialogue);
    writes baseline mp3s and the baseline fragment under datasets/<dataset>/; output `baseline`."""

    name = STAGE
    version = VERSION
    # Two kinds of request: a dataset's baseline (DATASET_INPUTS, optionally ja_dialogue), or
    # dubbing an episode (a `translation`, optionally ja_dialogue, ja_turns and the faces
    # stage's faces.json to time the lines to the mouth flaps: dubepisode.py).
    inputs: tuple[str, ...] = ()
    optional_inputs: tuple[str, ...] = (
        *DATASET_INPUTS, "ja_dialogue", "translation", "ja_turns", "faces"
    )  # fmt: skip

    def __init__(self, models: Models | None = None, metrics: TtsMetrics | None = None) -> None:
        self.models = models or Models(load_config())
        self.metrics = metrics

    def parse_params(self, request: common_pb2.StageRequest) -> TtsParams:
        params = parse_stage_params(request)
        if "translation" in request.inputs:
            return check_dub_request(request, params)
        missing = [n for n in DATASET_INPUTS if n not in request.inputs]
        if missing:
            raise InvalidInputError(
                f"missing inputs: {', '.join(missing)} (or a translation, to dub an episode)"
            )
        if params.pins:
            raise InvalidInputError("voices pins are for dubbing an episode (a translation)")
        if params.translation != "reference" and "ja_dialogue" not in request.inputs:
            raise InvalidInputError(
                f"translation_backend {params.translation} translates the JA speech: "
                "give the ja_dialogue input"
            )
        return params

    def run(self, ctx: StageContext[TtsParams]) -> StageOutcome:
        with tts_errors():
            if ctx.has_input("translation"):
                return dub_episode_lines(ctx, self.models)
            return self._run(ctx)

    def _run(self, ctx: StageContext[TtsParams]) -> StageOutcome:
        params = ctx.params
        dataset = params.dataset
        frag_sha = ctx.request.inputs["episode"].sha256
        episode = parse_episode_fragment(ctx.read_input("episode"))
        turns = parse_turns(ctx.read_input("en_turns"))
        ctx.hook(0.01, "fetching stems")
        en = ctx.input_file("en_dialogue", "en_dialogue.wav")
        backing = ctx.input_file("en_backing", "en_backing.wav") if params.mix_backing else None
        ja = None
        if params.translation != "reference" and ctx.has_input("ja_dialogue"):
            ja = ctx.input_file("ja_dialogue", "ja_dialogue.wav")
        rate = params.sample_rate_hz
        with self.models.lock:
            synth, translator = load_ports(self.models, params)
            scoring = params.compute_scores
            embedder = self.models.embedder() if scoring else None
            scorer = self.models.scorer() if scoring else None
            backend = synth.backend()
            started = time.monotonic()
            chunks: list[EpisodeDub] = []
            files: list[ClipFile] = []
            clips = episode.clips
            chosen: Chosen = {}  # each speaker's voice, chosen by the first chunk it speaks in
            for first in range(0, max(1, len(clips)), CHUNK_CLIPS):
                part = clips[first : first + CHUNK_CLIPS]

                def hook(f: float, message: str, first: int = first, n: int = len(part)) -> None:
                    done = (first + f * n) / max(1, len(clips))
                    ctx.hook(0.05 + 0.9 * done, message)

                inputs = EpisodeInputs(
                    part, en, backing, ja, turns, policy_of(params), rate, scoring
                )
                dub = dub_episode(inputs, synth, translator, embedder, scorer, hook, chosen=chosen)
                files += self._store(ctx, dataset, dub.clips)
                chunks.append(_without_audio(dub))
            wall_s = time.monotonic() - started
        dub = _merge(chunks)
        check_stored(ctx.store, dataset, files)
        frag = canonical_json(
            baseline_fragment(
                episode_id=episode.episode_id,
                episode_sha256=frag_sha,
                dub=dub,
                files=files,
                backend=backend,
                translator=translator.name,
                translation_backend=translator.backend(),
                sample_rate=MP3_RATE_HZ,
            )
        )
        ctx.store.put_bytes(baseline_key(dataset, episode.episode_id), frag, "application/json")
        audio_ms = sum(f.duration_ms for f in files)
        self._observe(backend, dub, audio_ms, wall_s)
        info = {
            "dataset": dataset,
            "episode_id": episode.episode_id,
            "clips": len(dub.clips),
            "unfit": len(dub.unfit_clips),
            "skipped": len(dub.skipped),
            "audio_ms": audio_ms,
            "mean_scores": {
                k: round(v, 4)
                for k, v in dataclasses.asdict(dub.mean_scores).items()
                if v is not None
            },
            "translation": translator.backend(),
        }
        out = Output("baseline", "baseline.json", "application/json", data=frag)
        facts = Facts(clips=len(dub.clips))
        return StageOutcome(outputs=(out,), backend=backend, info=info, facts=facts)

    def _store(
        self, ctx: StageContext[TtsParams], dataset: str, dubs: Sequence[ClipDub]
    ) -> list[ClipFile]:
        """Encode the chunk's mixes to mp3 (MAX_BATCH per ffmpeg) and store each under the
        dataset, skipping files already there with the same bytes."""
        folder = ctx.workdir / "baseline"
        folder.mkdir(exist_ok=True)
        out: list[ClipFile] = []
        for first in range(0, len(dubs), MAX_BATCH):
            batch = dubs[first : first + MAX_BATCH]
            jobs: list[tuple[Path, Path]] = []
            for n, d in enumerate(batch):
                wav = write_wav(d.mix.samples, d.mix.rate, folder / f"{n}.wav")
                jobs.append((wav, folder / f"{n}.mp3"))
            media_ms = sum(d.mix.duration_ms for d in batch)
            for d, mp3 in zip(batch, encode_batch(jobs, media_ms), strict=True):
                digest, size = put_if_changed(
                    ctx.store, clip_key(dataset, d.clip_id), mp3.path, "audio/mpeg"
                )
                out.append(ClipFile(d.clip_id, digest, size, mp3.duration_ms))
            for wav, mp3_path in jobs:
                wav.unlink()
                mp3_path.unlink()
        return out

    def _observe(self, backend: str, dub: EpisodeDub, audio_ms: int, wall_s: float) -> None:
        rtf = wall_s / (audio_ms / 1000) if audio_ms else 0.0
        log.info(
            "dubbed %d clips (%d unfit, %d skipped), %.1f s of audio in %.1f s (RTF %.2f)",
            len(dub.clips), len(dub.unfit_clips), len(dub.skipped), audio_ms / 1000, wall_s, rtf,
        )  # fmt: skip
        if self.metrics is not None:
            unfit = len(dub.unfit_clips)
            self.metrics.observe(
                backend, len(dub.clips) - unfit, unfit, len(dub.skipped), audio_ms / 1000, wall_s
            )


def _without_audio(dub: EpisodeDub) -> EpisodeDub:
    """The chunk's dub with its audio dropped once stored (bounded memory)."""
    clips = tuple(dataclasses.replace(c, mix=_EMPTY, speech=_EMPTY) for c in dub.clips)
    return dataclasses.replace(dub, clips=clips)


def _merge(chunks: Sequence[EpisodeDub]) -> EpisodeDub:
    """One EpisodeDub of the chunks (a speaker's voice is chosen once: the first kept)."""
    voices: dict[str, Voice] = {}
    for chunk in chunks:
        for v in chunk.voices:
            voices.setdefault(v.speaker, v)
    clips = tuple(c for chunk in chunks for c in chunk.clips)
    return EpisodeDub(
        clips=clips,
        voices=tuple(voices[s] for s in sorted(voices)),
        mean_scores=mean_scores([c.scores for c in clips]),
        unfit_clips=tuple(c for chunk in chunks for c in chunk.unfit_clips),
        skipped=tuple(s for chunk in chunks for s in chunk.skipped),
    )
