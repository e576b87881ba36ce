"""--shape subs: the episode's subtitles, timed the way real subtitle files are.

Side files next to the videos: en.ass (Actor = the speaking character's name), en.srt (the same
cues) on en.mp4's timeline, and ja.srt on ja.mp4's. With dual-mkv, episode.mkv also carries the
English ASS on its own EN timeline (the JA video's) and a forced "Signs & Songs" stream of one
sign. Cue times are not the truth: each cue shows LEAD_MS before its line and stays TRAIL_MS
after it (drawn from the seed), trimmed so that consecutive cues do not overlap (unless their
lines do: then the earlier ends with its line and the later starts with its line) and kept
inside the video. Times are whole centiseconds, so ASS holds them exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dubset_common.subtitles import Cue, to_ass, to_srt
from dubset_sample.picture import Shot
from dubset_sample.release import MKV_NAME, SubtitleStream
from dubset_sample.script import ScriptLine
from dubset_sample.truth import placed_lines

LEAD_MS = (150, 450)  # a cue shows this long before its line starts (before trimming)
TRAIL_MS = (300, 800)  # and stays this long after it ends
GRID_MS = 10  # ASS times are centiseconds
SIGN_DELAY_MS = 250  # the sign shows this long after its shot starts
SIGN_MS = 2500
SIGNS_STYLE = "Signs"
PLACES = {
    "cave": "Crystal Cave",
    "club": "Club Room",
    "lecturehall": "Lecture Hall 3",
    "meadow": "North Meadow",
    "uni": "Sakuragaoka University",
    "washington": "Washington, D.C.",
    "whitehouse": "The White House",
}


@dataclass(frozen=True)
class Subtitles:
    files: dict[str, str]  # side file name -> its text
    streams: tuple[SubtitleStream, ...]  # episode.mkv's, in stream order
    truth: dict[str, object]  # release.subtitles

    def write(self, out: Path) -> None:
        for name, text in self.files.items():
            (out / name).write_bytes(text.encode("utf-8"))

    def with_truth(self, extra: Mapping[str, object]) -> dict[str, object]:
        """truth_fields' value with `release.subtitles` added."""
        value = extra["release"]
        assert isinstance(value, dict)
        return {**extra, "release": {**value, "subtitles": self.truth}}


def _floor(ms: int) -> int:
    return ms - ms % GRID_MS


def _ceil(ms: int) -> int:
    return -(-ms // GRID_MS) * GRID_MS


def draws(count: int, seed: int, lang: str) -> list[tuple[int, int]]:
    """(lead, trail) ms before rounding to the grid, one per line in line order; rounding the
    cue outwards adds under GRID_MS, so the shown lead and trail stay within their ranges."""
    rng = random.Random(f"subs:{seed}:{lang}")
    lead = (LEAD_MS[0], LEAD_MS[1] - GRID_MS + 1)
    trail = (TRAIL_MS[0], TRAIL_MS[1] - GRID_MS + 1)
    return [(rng.randint(*lead), rng.randint(*trail)) for _ in range(count)]


def cue_spans(
    spans: Sequence[tuple[int, int]], duration_ms: int, drawn: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Each line's cue (start, end) on its video's timeline: drawn[i]'s lead and trail around
    spans[i], trimmed as the module says, within [0, duration_ms]."""
    cap = _floor(duration_ms)
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], i))
    cues: dict[int, list[int]] = {}
    open_: list[int] = []  # earlier cues that may still end after the next one starts
    latest_end = None  # of the earlier lines, the latest end (on the grid)
    for i in order:
        (line_start, line_end), (lead, trail) = spans[i], drawn[i]
        start = max(0, _floor(line_start - lead))
        if latest_end is not None and latest_end > _floor(line_start):
            start = _floor(line_start)  # speech overlaps an earlier line's
        elif latest_end is not None:
            start = max(start, latest_end)  # earlier lines stay covered
        for j in open_:
            cues[j][1] = min(cues[j][1], max(_ceil(spans[j][1]), start))
        open_ = [j for j in open_ if cues[j][1] > start]
        cues[i] = [start, min(cap, _ceil(line_end + trail))]
        open_.append(i)
        latest_end = max(latest_end or 0, _ceil(line_end))
    return [(cues[i][0], cues[i][1]) for i in range(len(spans))]


def _track(
    placed: Sequence[Mapping[str, object]],
    lang: str,
    duration_ms: int,
    seed: int,
    actors: Mapping[str, str],
) -> tuple[list[Cue], list[object]]:
    """The cues of one language's lines (in time order) and the truth line index of each."""
    sides = [_side(line, lang) for line in placed]
    spans = [(int(str(side["start_ms"])), int(str(side["end_ms"]))) for side in sides]
    times = cue_spans(spans, duration_ms, draws(len(placed), seed, lang))
    rows = []
    for line, side, (start, end) in zip(placed, sides, times, strict=True):
        actor = actors.get(str(line["speaker"]), "")
        rows.append((start, int(str(line["index"])), Cue(start, end, str(side["text"]), actor)))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in rows], [row[1] for row in rows]


def _side(line: Mapping[str, object], lang: str) -> Mapping[str, object]:
    side = line[lang]
    assert isinstance(side, dict)
    return side


def plan(
    *,
    lines: Sequence[ScriptLine],
    intro: Mapping[str, int],
    names: Sequence[str],
    durations: Mapping[str, int],
    en_time: Callable[[int], int],
    ja_offset_ms: int,
    ja_shots: Sequence[Shot],
    show: str,
    seed: int,
    mkv: bool,
) -> Subtitles:
    """The side files (EN on the release's timeline through en_time, JA on the JA one) and,
    for mkv, episode.mkv's streams (its EN timeline is the JA video's: plain EN + offset)."""
    actors = {f"S{i}": name for i, name in enumerate(names)}
    placed = placed_lines(lines, intro, en_time)
    en, en_lines = _track(placed, "en", durations["en"], seed, actors)
    ja, ja_lines = _track(placed, "ja", durations["ja"], seed, {})
    files = {
        "en.ass": to_ass(en, f"{show} (English)"),
        "en.srt": to_srt(en),
        "ja.srt": to_srt(ja),
    }
    entries: list[object] = [
        {"file": "en.ass", "format": "ass", "lang": "en", "video": "en.mp4", "lines": en_lines},
        {"file": "en.srt", "format": "srt", "lang": "en", "video": "en.mp4", "lines": en_lines},
        {"file": "ja.srt", "format": "srt", "lang": "ja", "video": "ja.mp4", "lines": ja_lines},
    ]
    streams: tuple[SubtitleStream, ...] = ()
    stream_entries: list[object] = []
    if mkv:
        on_ja = placed_lines(lines, intro, lambda ms: ms + ja_offset_ms)
        cues, mkv_lines = _track(on_ja, "en", durations["ja"], seed, actors)
        sign = _sign(ja_shots, intro["ja"], durations["ja"])
        streams = (
            SubtitleStream(to_ass(cues, f"{show} (English)"), "eng", "English", "default"),
            SubtitleStream(
                to_ass([sign], f"{show} (Signs & Songs)"), "eng", "Signs & Songs", "forced"
            ),
        )
        stream_entries = [
            _stream_entry(0, streams[0], "full", mkv_lines),
            {
                **_stream_entry(1, streams[1], "signs", [None]),
                "signs": [{"start_ms": sign.start_ms, "end_ms": sign.end_ms, "text": sign.text}],
            },
        ]
    truth: dict[str, object] = {
        "lead_ms": list(LEAD_MS),
        "trail_ms": list(TRAIL_MS),
        "files": entries,
        "streams": stream_entries,
    }
    return Subtitles(files, streams, truth)


def _stream_entry(
    index: int, stream: SubtitleStream, role: str, lines: list[object]
) -> dict[str, object]:
    return {
        "file": MKV_NAME,
        "stream": f"s:{index}",
        "codec": "ass",
        "language": stream.language,
        "title": stream.title,
        "disposition": stream.disposition,
        "role": role,
        "lang": "en",
        "lines": lines,
    }


def _sign(ja_shots: Sequence[Shot], program_ms: int, duration_ms: int) -> Cue:
    """A place name over the programme's first shot (on the JA video), as a sign reads."""
    shot = next(s for s in ja_shots if s.start_ms >= program_ms)
    start = _ceil(shot.start_ms + SIGN_DELAY_MS)
    end = min(_floor(shot.end_ms), _floor(duration_ms), start + SIGN_MS)
    return Cue(start, end, PLACES.get(shot.background, shot.background.title()), "", SIGNS_STYLE)


def english_on_ja(truth: Mapping[str, object], lead_ms: int = 300, trail_ms: int = 400) -> str:
    """English subtitles of the Japanese video as official ones come for dubbing: each line's
    English text shown from lead_ms before its Japanese line to trail_ms after it, the
    character's name as Actor (ASS text). A fixed lead and trail, unlike --shape subs."""
    characters = truth["characters"]
    lines = truth["lines"]
    assert isinstance(characters, list) and isinstance(lines, list)
    names = {c["id"]: c["name"] for c in characters}
    cues = [
        Cue(max(0, x["ja"]["start_ms"] - lead_ms), x["ja"]["end_ms"] + trail_ms, x["en"]["text"],
            actor=names.get(x["speaker"], ""))
        for x in sorted(lines, key=lambda x: (x["ja"]["start_ms"], x["ja"]["end_ms"]))
    ]  # fmt: skip
    return to_ass(cues, "official")
