"""truth.json of a generated test episode (docs/truth-format.md) as typed, validated values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dubset_common.timemap import TimeMap
from dubset_eval.errors import EvalInputError
from dubset_eval.fields import FieldError, array, integer, obj, span, string, strings
from dubset_eval.timemaps import truth_map

FORMAT = "dubset-truth/1"
LANGUAGES = ("ja", "en")
MAX_TRUTH_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Utterance:
    """A line as spoken in one language, in that language's video timeline."""

    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Line:
    index: int
    line_id: str
    speaker: str
    ja: Utterance | None  # None: the line has no such language (an English-only fixture)
    en: Utterance | None

    def in_language(self, language: str) -> Utterance | None:
        return self.ja if language == "ja" else self.en


@dataclass(frozen=True)
class Pair:
    """A clip pair a perfect pipeline produces."""

    lines: tuple[int, ...]
    ja_start_ms: int
    ja_end_ms: int
    en_start_ms: int
    en_end_ms: int
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class Stems:
    """Absolute paths of one language's clean stems; their sum is the language's mixture."""

    dialogue: Path
    backing: Path | None  # None: a dialogue-only fixture


@dataclass(frozen=True)
class CueFile:
    """A subtitle file of the release (release.subtitles.files): its language and the video
    whose timeline its cue times are on."""

    path: Path
    language: str
    video: str


@dataclass(frozen=True)
class Truth:
    path: Path
    episode_id: str
    show: str
    episode_number: int
    sample_rate: int
    ja_offset_ms: int
    duration_ms: Mapping[str, int]
    characters: tuple[str, ...]
    lines: tuple[Line, ...]
    pairs: tuple[Pair, ...]
    stems: Mapping[str, Stems]
    bed: Path | None = None
    time_map: TimeMap | None = None  # the true JA→EN map (truth_map fills in a plain one)
    names: Mapping[str, str] = field(default_factory=dict)  # character id -> name
    videos: Mapping[str, str] = field(default_factory=dict)  # language -> video file name
    cue_files: tuple[CueFile, ...] = ()
    picture: Mapping[str, object] | None = None  # the JA video's shots, faces and mouths

    def files(self) -> frozenset[Path]:
        """Every file of the truth itself, resolved (never scored as a result)."""
        paths = {self.path} if self.bed is None else {self.path, self.bed}
        for s in self.stems.values():
            paths |= {s.dialogue} if s.backing is None else {s.dialogue, s.backing}
        return frozenset(p.resolve() for p in paths)

    def name(self, speaker: str) -> str:
        """A character's name (the id where the truth names none)."""
        return self.names.get(speaker, speaker)

    def cue_file(self, language: str) -> CueFile | None:
        """The first subtitle file of the language whose cues are on this truth's timeline of
        it (its video is the truth's video of that language), else None."""
        video = self.videos.get(language)
        hits = [f for f in self.cue_files if f.language == language and f.video == video]
        return hits[0] if hits else None

    def spoken(self, language: str) -> list[tuple[Line, Utterance]]:
        """The lines that have this language, with their utterance in it."""
        out = []
        for line in self.lines:
            utterance = line.in_language(language)
            if utterance is not None:
                out.append((line, utterance))
        return out


def _utterance(value: object, where: str) -> Utterance | None:
    if value is None:
        return None
    d = obj(value, where)
    start, end = span(d, "start_ms", "end_ms", where)
    return Utterance(string(d, "text", where), start, end)


def _line(value: object, where: str, characters: frozenset[str]) -> Line:
    d = obj(value, where)
    speaker = string(d, "speaker", where)
    if speaker not in characters:
        raise FieldError(f"{where}.speaker: {speaker!r} is not a character id")
    return Line(
        integer(d, "index", where),
        string(d, "line_id", where),
        speaker,
        _utterance(d.get("ja"), f"{where}.ja"),
        _utterance(d.get("en"), f"{where}.en"),
    )


def _pair(value: object, where: str, n_lines: int) -> Pair:
    d = obj(value, where)
    members = array(d, "lines", where)
    indices = tuple(
        i for i in members if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_lines
    )
    if len(indices) != len(members):
        raise FieldError(f"{where}.lines: expected indices of lines (0..{n_lines - 1})")
    ja = span(d, "ja_start_ms", "ja_end_ms", where)
    en = span(d, "en_start_ms", "en_end_ms", where)
    return Pair(indices, *ja, *en, strings(d, "speakers", where))


def _stems(value: object, root: Path) -> dict[str, Stems]:
    d = obj(value, "stems")
    out = {}
    for lang in LANGUAGES:
        if lang not in d:
            continue
        s = obj(d.get(lang), f"stems.{lang}")
        where = f"stems.{lang}"
        backing = root / string(s, "backing", where) if "backing" in s else None
        out[lang] = Stems(root / string(s, "dialogue", where), backing)
    return out


def _bed(value: object, root: Path) -> Path | None:
    """The shared music-and-effects bed (stems.backing), when recorded."""
    d = obj(value, "stems")
    return root / string(d, "backing", "stems") if "backing" in d else None


def _names(characters: list[object]) -> dict[str, str]:
    """Character id -> its name, for the characters that have one."""
    out = {}
    for c in characters:
        if isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("name"), str):
            out[c["id"]] = c["name"]
    return out


def _videos(value: object) -> dict[str, str]:
    d = value if isinstance(value, dict) else {}
    return {lang: v for lang, v in d.items() if lang in LANGUAGES and isinstance(v, str)}


def _cue_files(d: Mapping[str, object], root: Path) -> tuple[CueFile, ...]:
    """release.subtitles.files (a `--shape subs` sample's side files), () when absent."""
    release = d.get("release")
    subtitles = release.get("subtitles") if isinstance(release, dict) else None
    if subtitles is None:
        return ()
    where = "release.subtitles"
    out = []
    for i, item in enumerate(array(obj(subtitles, where), "files", where)):
        f = obj(item, f"{where}.files[{i}]")
        at = f"{where}.files[{i}]"
        out.append(
            CueFile(root / string(f, "file", at), string(f, "lang", at), string(f, "video", at))
        )
    return tuple(out)


def parse_truth(value: object, path: Path) -> Truth:
    """Validate a parsed truth.json; raises FieldError naming the first bad field."""
    d = obj(value, "truth")
    if d.get("format") != FORMAT:
        raise FieldError(f"format: expected {FORMAT!r}, got {d.get('format')!r:.40}")
    durations = obj(d.get("duration_ms"), "duration_ms")
    characters = tuple(
        string(obj(c, f"characters[{i}]"), "id", f"characters[{i}]")
        for i, c in enumerate(array(d, "characters", "truth"))
    )
    if len(set(characters)) != len(characters):
        raise FieldError("characters: ids are not unique")
    lines = tuple(
        _line(v, f"lines[{i}]", frozenset(characters))
        for i, v in enumerate(array(d, "lines", "truth"))
    )
    pairs = tuple(
        _pair(v, f"pairs[{i}]", len(lines)) for i, v in enumerate(array(d, "pairs", "truth"))
    )
    duration_ms = {
        lang: integer(durations, lang, "duration_ms", minimum=0)
        for lang in LANGUAGES
        if lang in durations
    }
    return Truth(
        path=path,
        episode_id=string(d, "episode_id", "truth"),
        show=string(d, "show", "truth"),
        episode_number=integer(d, "episode_number", "truth"),
        sample_rate=integer(d, "sample_rate", "truth", minimum=1),
        ja_offset_ms=integer(d, "ja_offset_ms", "truth"),
        duration_ms=duration_ms,
        characters=characters,
        lines=lines,
        pairs=pairs,
        stems=_stems(d.get("stems"), path.parent),
        bed=_bed(d.get("stems"), path.parent),
        time_map=truth_map(d, integer(d, "ja_offset_ms", "truth"), duration_ms),
        names=_names(array(d, "characters", "truth")),
        videos=_videos(d.get("videos")),
        cue_files=_cue_files(d, path.parent),
        picture=_picture(d.get("picture")),
    )


def _picture(value: object) -> Mapping[str, object] | None:
    if value is None:
        return None
    return obj(value, "truth.picture")


def load_truth(path: Path) -> Truth:
    """Read and validate truth.json; raises EvalInputError with a one-line reason."""
    try:
        size = path.stat().st_size
        if size > MAX_TRUTH_BYTES:
            raise EvalInputError(f"{path}: {size} bytes is over the limit of {MAX_TRUTH_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise EvalInputError(f"cannot read truth {path}: {exc.strerror or exc}") from None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"{path}: not valid JSON ({exc})") from None
    try:
        return parse_truth(value, path)
    except FieldError as exc:
        raise EvalInputError(f"{path}: {exc}") from None
