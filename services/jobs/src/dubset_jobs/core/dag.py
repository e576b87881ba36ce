"""The per-episode DAG as data, and the inputs and params each task's request gets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dubset_common.errors import InvalidInputError
from dubset_common.timemap import TimeMap
from dubset_jobs.core.model import Job, JobSpec, Ref

# The params message each stage noun takes (JobOptions.stage_params is checked against it).
PARAMS_TYPES: dict[str, str] = {
    "media": "dubset.v1.MediaParams",
    "separation": "dubset.v1.SeparationParams",
    "asr": "dubset.v1.AsrParams",
    "diarization": "dubset.v1.DiarizationParams",
    "alignment": "dubset.v1.AlignmentParams",
    "packaging": "dubset.v1.PackagingParams",
    "tts": "dubset.v1.TtsParams",
    "translation": "dubset.v1.TranslationParams",
    "render": "dubset.v1.RenderParams",
    "faces": "dubset.v1.FacesParams",
    "quality": "dubset.v1.QualityParams",
}
LANGUAGE = {"ja": "LANGUAGE_JA", "en": "LANGUAGE_EN"}


@dataclass(frozen=True)
class Task:
    name: str
    stage: str  # the stage noun: topics, params type
    needs: tuple[str, ...]
    produces: tuple[str, ...]  # outputs later tasks read; a result without them is refused
    language: str = ""


TASKS: tuple[Task, ...] = (
    Task("media", "media", (), ("ja", "en", "media")),
    Task("separation", "separation", ("media",), ("ja_dialogue", "en_dialogue", "en_backing")),
    Task("asr.ja", "asr", ("separation",), ("transcript",), "ja"),
    Task("asr.en", "asr", ("separation",), ("transcript",), "en"),
    Task("diarization.ja", "diarization", ("separation",), ("turns",), "ja"),
    Task("diarization.en", "diarization", ("separation",), ("turns",), "en"),
    # Alignment reads the turns to cut a segment where the speaker changes (lines, not pauses).
    Task(
        "alignment",
        "alignment",
        ("media", "asr.ja", "asr.en", "diarization.ja", "diarization.en"),
        ("clips",),
    ),
    # Packaging needs every backend for the episode document's provenance.
    Task(
        "packaging",
        "packaging",
        (
            "media",
            "separation",
            "asr.ja",
            "asr.en",
            "diarization.ja",
            "diarization.en",
            "alignment",
        ),
        ("episode",),
    ),
    # The baseline English dub of every clip; a job has it unless the submission turns it off.
    Task("tts", "tts", ("packaging", "separation", "diarization.en"), ("baseline",)),
    # AniVid face clips of the JA video and who speaks on screen in each clip pair.
    Task("faces", "faces", ("packaging", "diarization.ja"), ("faces",)),
    # Per clip pair: DNSMOS, overlap, duration ratio, ASR confidence, re-ASR agreement, music
    # level and one quality score (the dataset's quality fragment, joined by export).
    Task(
        "quality",
        "quality",
        ("packaging", "separation", "asr.ja", "asr.en", "diarization.ja", "diarization.en"),
        ("quality",),
    ),
)
# A dub job (JobOptions.kind DUB): the Japanese episode with an English track (docs/dubbing.md).
DUB_TASKS: tuple[Task, ...] = (
    Task("media", "media", (), ("ja", "media")),
    Task("separation", "separation", ("media",), ("ja_dialogue",)),
    Task("asr.ja", "asr", ("separation",), ("transcript",), "ja"),
    Task("diarization.ja", "diarization", ("separation",), ("turns",), "ja"),
    Task("translation", "translation", ("asr.ja", "diarization.ja"), ("translation",)),
    Task("voice", "tts", ("translation", "diarization.ja"), ("speech", "lines")),
    Task("render", "render", ("voice", "media"), ("video", "report", "subtitles")),
)
# A dub timed to the mouth flaps (JobOptions.run_faces true on a dub job): the faces of the
# Japanese video, who speaks each translated line, then the voices moved onto the flaps.
DUB_FLAP_TASKS: tuple[Task, ...] = (
    *DUB_TASKS[:5],
    Task("faces", "faces", ("translation", "diarization.ja"), ("faces",)),
    Task("voice", "tts", ("translation", "diarization.ja", "faces"), ("speech", "lines")),
    DUB_TASKS[6],
)
DATASET, DUB = "dataset", "dub"
KINDS: dict[str, tuple[Task, ...]] = {DATASET: TASKS, DUB: DUB_TASKS}
BY_NAME: dict[str, Task] = {t.name: t for t in TASKS}
_BY_KIND: dict[str, dict[str, Task]] = {k: {t.name: t for t in ts} for k, ts in KINDS.items()}
_DUB_ON_FLAPS: dict[str, Task] = {t.name: t for t in DUB_FLAP_TASKS}
STAGES: tuple[str, ...] = tuple(dict.fromkeys(t.stage for ts in KINDS.values() for t in ts))
PACKAGING = "packaging"
TTS = "tts"
FACES = "faces"
QUALITY = "quality"
OPTIONAL: frozenset[str] = frozenset({TTS, FACES, QUALITY})  # tasks a submission may leave out
# Outputs only an optional task reads: required of their producer only when it is in the job.
ONLY_FOR: dict[tuple[str, str], str] = {("separation", "en_backing"): TTS}


def tasks_for(spec: JobSpec) -> tuple[Task, ...]:
    """The tasks of a new job: its kind's, less tts, faces and quality when the submission
    turned them off."""
    if spec.kind == DUB:
        return DUB_FLAP_TASKS if spec.flaps else DUB_TASKS
    off = {TTS} if not spec.run_tts else set()
    off |= {FACES} if not spec.run_faces else set()
    off |= {QUALITY} if not spec.run_quality else set()
    return tuple(t for t in TASKS if t.name not in off)


def task_of(job: Job, name: str) -> Task:
    """A task of this job's kind by name (a dub on the flaps: its voice waits for the faces)."""
    if job.spec.kind == DUB and job.spec.flaps:
        return _DUB_ON_FLAPS[name]
    return _BY_KIND[job.spec.kind][name]


def required_outputs(job: Job, task: Task) -> tuple[str, ...]:
    """The outputs a task's result must carry in this job (others' inputs)."""
    present = {t.name for t in job.tasks}
    return tuple(n for n in task.produces if ONLY_FOR.get((task.name, n), task.name) in present)


def check_overrides(type_names: Mapping[str, str]) -> None:
    """Refuse params overrides for unknown stages or of the wrong message type."""
    for noun, type_name in sorted(type_names.items()):
        want = PARAMS_TYPES.get(noun)
        if want is None:
            raise InvalidInputError(
                f"stage_params has no stage {noun!r}; stages: {', '.join(PARAMS_TYPES)}"
            )
        if type_name != want:
            raise InvalidInputError(
                f"stage_params[{noun!r}] must be a {want}, not {type_name or 'an empty Any'}"
            )


def _out(job: Job, task: str, name: str) -> Ref:
    ref = job.task(task).outputs.get(name)
    if ref is None:
        raise KeyError(f"{task} has no output {name}")
    return ref


def inputs_for(job: Job, task: Task) -> dict[str, Ref]:
    """The named inputs of a task whose needs are done (KeyError when one is missing)."""
    if job.spec.kind == DUB:
        return _dub_inputs(job, task)
    return _dataset_inputs(job, task)


def _dataset_inputs(job: Job, task: Task) -> dict[str, Ref]:
    spec = job.spec
    if task.name == "media":
        return {"ja": spec.ja, "en": spec.en}
    if task.name == "separation":
        return {"ja": _out(job, "media", "ja"), "en": _out(job, "media", "en")}
    if task.stage in ("asr", "diarization"):
        inputs = {"audio": _out(job, "separation", f"{task.language}_dialogue")}
        if task.stage == "asr":
            subtitles = _subtitles(job, task.language or "")
            if subtitles is not None:
                inputs["subtitles"] = subtitles
        return inputs
    if task.name == "alignment":
        return {
            "en": _out(job, "asr.en", "transcript"),
            "ja": _out(job, "asr.ja", "transcript"),
            "en_turns": _out(job, "diarization.en", "turns"),
            "ja_turns": _out(job, "diarization.ja", "turns"),
        }
    return _late_inputs(job, task)


def _late_inputs(job: Job, task: Task) -> dict[str, Ref]:
    """Packaging and the tasks that read its episode fragment (tts, faces, quality)."""
    spec = job.spec
    if task.name == PACKAGING:
        if job.episode_doc is None:
            raise KeyError("packaging needs the episode document")
        return {
            "ja_video": spec.ja,
            "en_video": spec.en,
            "media": _out(job, "media", "media"),
            "clips": _out(job, "alignment", "clips"),
            "ja_turns": _out(job, "diarization.ja", "turns"),
            "en_turns": _out(job, "diarization.en", "turns"),
            "episode": job.episode_doc,
        }
    if task.name == TTS:
        return {
            "episode": _out(job, PACKAGING, "episode"),
            "en_dialogue": _out(job, "separation", "en_dialogue"),
            "en_backing": _out(job, "separation", "en_backing"),
            "ja_dialogue": _out(job, "separation", "ja_dialogue"),
            "en_turns": _out(job, "diarization.en", "turns"),
        }
    if task.name == FACES:
        return {
            "video": spec.ja,
            "episode": _out(job, PACKAGING, "episode"),
            "ja_turns": _out(job, "diarization.ja", "turns"),
        }
    if task.name == QUALITY:
        inputs = {
            "episode": _out(job, PACKAGING, "episode"),
            "ja_dialogue": _out(job, "separation", "ja_dialogue"),
            "en_dialogue": _out(job, "separation", "en_dialogue"),
            "ja": _out(job, "asr.ja", "transcript"),
            "en": _out(job, "asr.en", "transcript"),
            "ja_turns": _out(job, "diarization.ja", "turns"),
            "en_turns": _out(job, "diarization.en", "turns"),
        }
        backing = job.task("separation").outputs.get("en_backing")
        if backing is not None:  # the music level under the English dialogue
            inputs["en_backing"] = backing
        return inputs
    raise KeyError(f"unknown task {task.name}")


def _dub_inputs(job: Job, task: Task) -> dict[str, Ref]:
    """A dub job's task inputs: the Japanese episode alone, then what the dub is made of."""
    if task.name == "media":
        return {"ja": job.spec.ja}
    if task.name == "separation":
        return {"ja": _out(job, "media", "ja")}
    if task.stage in ("asr", "diarization"):
        inputs = {"audio": _out(job, "separation", "ja_dialogue")}
        if task.stage == "asr" and "ja" in job.spec.subtitles:
            inputs["subtitles"] = job.spec.subtitles["ja"]
        return inputs
    turns = _out(job, "diarization.ja", "turns")
    dialogue = _out(job, "separation", "ja_dialogue")
    if task.name == "translation":
        inputs = {"ja": _out(job, "asr.ja", "transcript"), "turns": turns, "ja_dialogue": dialogue}
        english = job.spec.subtitles.get("en") or job.task("media").outputs.get("en_subtitles")
        if english is not None:
            inputs["subtitles"] = english
        return inputs
    return _dub_after_translation(job, task, turns, dialogue)


def _dub_after_translation(job: Job, task: Task, turns: Ref, dialogue: Ref) -> dict[str, Ref]:
    translation = _out(job, "translation", "translation")
    if task.name == "voice":
        voice = {"translation": translation, "ja_dialogue": dialogue, "ja_turns": turns}
        if any(t.name == FACES for t in job.tasks):  # timed to the mouth flaps
            voice["faces"] = _out(job, FACES, "faces")
        return voice
    if task.name == FACES:
        return {"video": job.spec.ja, "translation": translation, "ja_turns": turns}
    if task.name == "render":
        return {
            "video": job.spec.ja,
            "speech": _out(job, "voice", "speech"),
            "lines": _out(job, "voice", "lines"),
            "ja_dialogue": dialogue,
            "translation": translation,
            "media": _out(job, "media", "media"),
        }
    raise KeyError(f"unknown dub task {task.name}")


def _subtitles(job: Job, language: str) -> Ref | None:
    """A language's subtitle file: the one submitted, else the stream media extracted."""
    if language in job.spec.subtitles:
        return job.spec.subtitles[language]
    media = next((t for t in job.tasks if t.name == "media"), None)
    return None if media is None else media.outputs.get(f"{language}_subtitles")


def params_for(job: Job, task: Task) -> dict[str, object]:
    """Params fields (proto JSON names): the task's own, then the submission's overrides, then
    what the task fixes (its language). The measured offset yields to an explicit override."""
    params: dict[str, object] = {}
    if task.stage in ("separation", "alignment") and job.ja_offset_ms is not None:
        params["ja_offset_ms"] = job.ja_offset_ms
    if task.stage in ("separation", "alignment") and job.time_map is not None:
        params["time_map"] = time_map_params(job.time_map)
    if task.stage in (PACKAGING, TTS, FACES, QUALITY) and job.spec.kind == DATASET:
        params["dataset"] = job.spec.dataset
    if job.spec.kind == DUB and task.stage == "separation":
        params["backend"] = "repet"  # one release: nothing to dual-dub against
    params.update(job.spec.overrides.get(task.stage, {}))
    if task.language:
        params["language"] = LANGUAGE[task.language]
    return params


def time_map_params(m: TimeMap) -> dict[str, object]:
    """The map as the fields of a dubset.v1.TimeMap (params are built as proto JSON)."""
    return {
        "pieces": [
            {
                "ja_start_ms": p.ja_start_ms,
                "ja_end_ms": p.ja_end_ms,
                "en_start_ms": p.en_start_ms,
                "en_end_ms": p.en_end_ms,
                "confidence": p.confidence,
            }
            for p in m.pieces
        ],
        "ja_only": [{"start_ms": s, "end_ms": e} for s, e in m.ja_only],
        "en_only": [{"start_ms": s, "end_ms": e} for s, e in m.en_only],
    }


def provenance(job: Job) -> dict[str, str]:
    """Which backend produced each task's outputs (for the episode document): the tasks
    packaging needs; tts runs after it, so it is not there (its backend is in the job and in
    the baseline fragment)."""
    needs = BY_NAME[PACKAGING].needs
    return {t.name: t.backend for t in job.tasks if t.name in needs}


def episode_document(job: Job) -> dict[str, object]:
    """The packaging stage's "episode" input; empty video ids become the videos' sha256."""
    episode = dict(job.spec.episode)
    if not episode.get("jp_video_id"):
        episode["jp_video_id"] = job.spec.ja.sha256
    if not episode.get("en_video_id"):
        episode["en_video_id"] = job.spec.en.sha256
    return {
        "format": "dubset-episode/1",
        "episode_id": job.spec.episode_id,
        "episode_number": job.spec.episode_number,
        "show": {k: v for k, v in job.spec.show.items() if k != "episodes"},
        "episode": episode,
        "provenance": provenance(job),
    }
