"""Build a MUSHRA listening-test kit from an exported dataset: audio, key file, index.html."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dubset_cli.datasetdir import not_a_dataset
from dubset_cli.mushra import audio
from dubset_cli.mushra.errors import KitError
from dubset_cli.mushra.page import render
from dubset_cli.mushra.select import Candidate, condition_order, pick, read_manifest
from dubset_common.keys import canonical_json, file_sha256

KEY_FORMAT = "dubset-mushra-key/1"
SYSTEMS = ("reference", "baseline", "anchor")  # hidden reference, TTS baseline, low anchor
LABELS = "ABCDEFGH"
Hook = Callable[[float, str], None]


@dataclass(frozen=True)
class KitSpec:
    dataset: Path
    out: Path
    clips: int = 20
    seed: int = 0
    anchor_hz: float = 3500.0
    min_ms: int = 1000
    max_ms: int = 10000
    title: str = ""


@dataclass(frozen=True)
class KitSummary:
    kit: str
    trials: int
    en_clips: int
    without_baseline: int
    too_short: int
    warnings: tuple[str, ...]


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as f:
            yield from f
    except OSError as exc:
        raise KitError(f"{path}: {exc.strerror or exc}") from None


def _checked(dataset: Path, rel: str, sha256: str) -> Path:
    path = dataset / rel
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise KitError(f"{path}: {exc.strerror or exc}") from None
    if actual != sha256:
        raise KitError(f"{path}: sha256 {actual} is not the manifest's {sha256}")
    return path


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def _trial(spec: KitSpec, ffmpeg: str, index: int, cand: Candidate) -> dict[str, object]:
    length = min(cand.duration_ms, spec.max_ms)
    human = audio.decode(ffmpeg, _checked(spec.dataset, cand.human.path, cand.human.sha256), length)
    tts = audio.decode(
        ffmpeg, _checked(spec.dataset, cand.baseline.path, cand.baseline.sha256), length
    )
    stimuli = audio.match(
        {"reference": human, "baseline": tts, "anchor": audio.low_pass(human, spec.anchor_hz)}
    )
    trial_id = f"t{index:02d}"
    folder = f"audio/{trial_id}"
    ref = audio.wav_bytes(stimuli["reference"].samples)
    _write(spec.out / folder / "ref.wav", ref)
    conditions = []
    for label, system in zip(LABELS, condition_order(SYSTEMS, spec.seed, cand.clip), strict=False):
        data = audio.wav_bytes(stimuli[system].samples)
        _write(spec.out / folder / f"{label}.wav", data)
        s = stimuli[system]
        conditions.append(
            {
                "label": label,
                "system": system,
                "path": f"{folder}/{label}.wav",
                "sha256": hashlib.sha256(data).hexdigest(),
                "gain_db": s.gain_db,
                "loudness_lufs": None if s.loudness_lufs is None else round(s.loudness_lufs, 2),
            }
        )
    return {
        "id": trial_id,
        "clip": cand.clip,
        "episode_id": cand.episode_id,
        "duration_ms": stimuli["reference"].samples.size * 1000 // audio.RATE,
        "sources": {"reference": cand.human.path, "baseline": cand.baseline.path},
        "reference": {"path": f"{folder}/ref.wav", "sha256": hashlib.sha256(ref).hexdigest()},
        "conditions": conditions,
    }


def build(spec: KitSpec, hook: Hook) -> KitSummary:
    """Pick the clips, write OUT/audio/tNN/{ref,A,B,C}.wav, OUT/trials.json (the key: which
    label is which system) and OUT/index.html (labels only); same inputs give the same bytes."""
    if not 1 <= spec.clips <= 500:
        raise KitError(f"--clips {spec.clips}: choose 1 to 500 trials")
    if not 500 <= spec.min_ms <= spec.max_ms:
        raise KitError("clip lengths: need 500 <= --min-ms <= --max-ms")
    manifest = spec.dataset / "manifest.jsonl"
    if not manifest.is_file():
        raise KitError(not_a_dataset(spec.dataset) or f"{spec.dataset}: no manifest.jsonl")
    ffmpeg = audio.find_ffmpeg()
    catalogue = read_manifest(_lines(manifest), spec.min_ms)
    if not catalogue.candidates:
        raise KitError(
            f"{manifest}: no EN clip of {spec.min_ms} ms or longer has a baseline dub "
            f"({catalogue.en_clips} EN clips, {catalogue.without_baseline} without a baseline, "
            f"{catalogue.too_short} too short); run the pipeline with TTS and export again"
        )
    chosen = pick(catalogue.candidates, spec.clips, spec.seed)
    warnings = []
    if len(chosen) < spec.clips:
        warnings.append(f"only {len(chosen)} usable clips; the kit has {len(chosen)} trials")
    trials = []
    for i, cand in enumerate(chosen, 1):
        hook((i - 1) / len(chosen), f"trial {i} of {len(chosen)}: {cand.clip}")
        trials.append(_trial(spec, ffmpeg, i, cand))
    body: dict[str, object] = {
        "format": KEY_FORMAT,
        "dataset": spec.dataset.resolve().name,
        "seed": spec.seed,
        "anchor_hz": spec.anchor_hz,
        "loudness_lufs": audio.TARGET_LUFS,
        "systems": list(SYSTEMS),
        "trials": trials,
    }
    kit = hashlib.sha256(canonical_json(body)).hexdigest()[:16]
    key = {"kit": kit, **body}
    _write(spec.out / "trials.json", json.dumps(key, indent=1, sort_keys=True).encode() + b"\n")
    title = spec.title or f"Dub listening test ({spec.dataset.resolve().name})"
    _write(spec.out / "index.html", render(kit, title, trials).encode("utf-8"))
    hook(1.0, "done")
    return KitSummary(
        kit,
        len(trials),
        catalogue.en_clips,
        catalogue.without_baseline,
        catalogue.too_short,
        tuple(warnings),
    )
