"""truth.json: every line, speaker, timing, shot and stem of a generated episode."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dubset_sample.art import Look
from dubset_sample.merge import Span, merge
from dubset_sample.picture import Shot
from dubset_sample.script import ScriptLine
from dubset_sample.voices import CastMember

FORMAT = "dubset-truth/1"


@dataclass(frozen=True)
class TruthInputs:
    seed: int
    seconds: float
    characters: int
    overlap_rate: float
    noise_db: float | None
    version: str
    episode: int
    sample_rate: int
    ja_offset_ms: int


def episode_id(seed: int, episode: int) -> str:
    return f"sample-{seed}-e{episode:02d}"


def show_name(seed: int) -> str:
    return f"Sample Show {seed}"


def build(
    *,
    opts: TruthInputs,
    cast: Sequence[CastMember],
    lines: Sequence[ScriptLine],
    intro: Mapping[str, int],
    durations: Mapping[str, int],
    shots: Mapping[str, Sequence[Shot]],
    looks: Mapping[str, Look],
    similarity: Mapping[str, object] | None,
    en_time: Callable[[int], int] | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """truth.json's value. en_time maps the plain EN timeline (intro + program) onto a shaped
    EN release's (shots are given on it already); extra: more top-level fields."""
    placed = [_line(ln, intro) for ln in lines]
    pairs = expected_pairs(placed, opts.ja_offset_ms)
    if en_time is not None:
        placed = [_retimed(line, en_time, "en", "") for line in placed]
        pairs = [_retimed(pair, en_time, "", "en_") for pair in pairs]
    value: dict[str, object] = {
        "format": FORMAT,
        "generator": {
            "seed": opts.seed,
            "seconds": opts.seconds,
            "characters": opts.characters,
            "overlap_rate": opts.overlap_rate,
            "noise_db": opts.noise_db,
            "version": opts.version,
        },
        "episode_id": episode_id(opts.seed, opts.episode),
        "show": show_name(opts.seed),
        "episode_number": opts.episode,
        "sample_rate": opts.sample_rate,
        "ja_offset_ms": opts.ja_offset_ms,
        "duration_ms": {lang: durations[lang] for lang in ("ja", "en")},
        "characters": [
            {
                "id": f"S{i}",
                "name": m.name,
                "gender": m.gender,
                "voices": {"ja": m.ja.label, "en": m.en.label},
                "sprite": looks[f"S{i}"].sprite,
            }
            for i, m in enumerate(cast)
        ],
        "lines": placed,
        "pairs": pairs,
        "shots": {lang: [_shot(s) for s in shots[lang]] for lang in ("ja", "en")},
        "stems": {
            "ja": {"dialogue": "ja_dialogue.wav", "backing": "ja_backing.wav"},
            "en": {"dialogue": "en_dialogue.wav", "backing": "en_backing.wav"},
            "backing": "backing.wav",
        },
        "videos": {"ja": "ja.mp4", "en": "en.mp4"},
    }
    if extra is not None:
        value.update(extra)
    if similarity is not None:
        value["voices"] = dict(similarity)
    return value


def placed_lines(
    lines: Sequence[ScriptLine],
    intro: Mapping[str, int],
    en_time: Callable[[int], int] | None = None,
) -> list[dict[str, object]]:
    """truth.json's `lines`: JA times on the JA release, EN times through en_time (plain EN
    times without it)."""
    placed = [_line(ln, intro) for ln in lines]
    if en_time is None:
        return placed
    return [_retimed(line, en_time, "en", "") for line in placed]


def _retimed(
    value: object, en_time: Callable[[int], int], key: str, prefix: str
) -> dict[str, object]:
    """A line (key "en") or pair (prefix "en_") with its EN start/end through en_time."""
    assert isinstance(value, dict)
    out = dict(value)
    inner = dict(out[key]) if key else out
    for end in ("start_ms", "end_ms"):
        inner[prefix + end] = en_time(int(inner[prefix + end]))
    if key:
        out[key] = inner
    return out


def _line(ln: ScriptLine, intro: Mapping[str, int]) -> dict[str, object]:
    return {
        "index": ln.index,
        "line_id": ln.line.id,
        "speaker": f"S{ln.speaker}",
        "transition": ln.transition,
        "ja": {
            "text": ln.line.ja,
            "start_ms": ln.ja.start_ms + intro["ja"],
            "end_ms": ln.ja.end_ms + intro["ja"],
        },
        "en": {
            "text": ln.line.en,
            "start_ms": ln.en.start_ms + intro["en"],
            "end_ms": ln.en.end_ms + intro["en"],
        },
    }


def expected_pairs(lines: Sequence[dict[str, object]], ja_offset_ms: int) -> list[object]:
    """The clip pairs a perfect pipeline makes: the truth lines through the Anim-400K rule
    (dubset_sample.merge, independent of the alignment service's implementation)."""

    def span(line: dict[str, object], lang: str) -> Span:
        value = line[lang]
        assert isinstance(value, dict)
        return Span(int(value["start_ms"]), int(value["end_ms"]))

    en = [span(ln, "en") for ln in lines]
    ja = [span(ln, "ja") for ln in lines]
    pairs: list[object] = []
    for pair in merge(en, ja, ja_offset_ms):
        members = sorted(set(pair.en) | set(pair.ja))
        speakers = sorted({str(lines[i]["speaker"]) for i in members})
        pairs.append(
            {
                "lines": members,
                "ja_start_ms": pair.ja_start_ms,
                "ja_end_ms": pair.ja_end_ms,
                "en_start_ms": pair.en_start_ms,
                "en_end_ms": pair.en_end_ms,
                "speakers": speakers,
            }
        )
    return pairs


def _shot(shot: Shot) -> dict[str, object]:
    return {
        "start_ms": shot.start_ms,
        "end_ms": shot.end_ms,
        "background": shot.background,
        "characters": list(shot.characters),
        "motion": shot.motion,
    }
