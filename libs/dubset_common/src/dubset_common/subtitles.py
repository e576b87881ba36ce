"""Subtitle files as bytes in, cues out (SRT, ASS/SSA, WebVTT), and cues back to SRT or ASS.

Pure: no I/O beyond the bytes given and the text returned. The format is found from the
content, never from a file name. Text is UTF-8 (a BOM is allowed) or UTF-16 with its BOM;
CRLF and CR line ends read like LF. Every refusal is a SubtitleError whose message says what
to do about it.

Cue text is one line: the lines of a multi-line cue (SRT/VTT line breaks, ASS \\N and \\n) are
joined with a space, except between two CJK (wide) characters, which join directly as
Japanese is written. Runs of whitespace become one space. Cues left without text (only tags,
an ASS drawing) are dropped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_BYTES = 16 * 1024 * 1024
MAX_CUES = 100_000
IMAGE_CODECS = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"})
TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"})
_IMAGE_NAMES = {
    "hdmv_pgs_subtitle": "PGS",
    "dvd_subtitle": "VobSub",
    "dvb_subtitle": "DVB",
    "xsub": "XSUB",
}
# [h:]mm:ss(,|.)fraction; the fraction is decimal: ".5" and ".50" are both 500 ms.
_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
_TAG = re.compile(r"<[^<>]*>")
_RUBY_TEXT = re.compile(r"<rt\b[^<>]*>.*?</rt\s*>", re.IGNORECASE | re.DOTALL)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_ASS_BLOCK = re.compile(r"\{[^{}]*\}")
_ASS_DRAWING = re.compile(r"\\p(\d+)")
_ASS_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_ASS_DEFAULT_FORMAT = "Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"
_ASS_STYLE_FORMAT = (
    "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
    "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
    "Alignment, MarginL, MarginR, MarginV, Encoding"
)
_ASS_STYLE = (
    "Arial,54,&H00FFFFFF,&H000000FF,&H00000000,&H64000000,0,0,0,0,100,100,0,0,1,2,1,2,60,60,40,1"
)


class SubtitleError(ValueError):
    """The bytes are not subtitles this module reads, or their cues cannot be used."""


@dataclass(frozen=True)
class Cue:
    """One subtitle: when it shows (ms), its text, who says it (ASS Name, VTT voice), its style."""

    start_ms: int
    end_ms: int
    text: str
    actor: str = ""
    style: str = ""


def refuse_reason(codec: str) -> str | None:
    """Why a subtitle stream of this ffprobe codec name cannot be read as text, else None."""
    if codec in IMAGE_CODECS:
        return (
            f"image subtitles ({_IMAGE_NAMES[codec]}) carry pictures, not text: "
            "give a text subtitle file with --en-subs"
        )
    if codec not in TEXT_CODECS:
        return f"subtitle codec {codec!r} is not read here: give an SRT, ASS or WebVTT file"
    return None


def parse(data: bytes, name: str = "subtitles") -> tuple[Cue, ...]:
    """The cues of an SRT, ASS/SSA or WebVTT file, sorted by start (ties keep file order)."""
    text = decode(data, name)
    kind = detect_format(text, name)
    parser = {"ass": _parse_ass, "vtt": _parse_vtt, "srt": _parse_srt}[kind]
    cues = sorted(parser(text, name), key=lambda c: c.start_ms)
    if not cues:
        raise SubtitleError(f"{name}: the {kind.upper()} file holds no cues with text")
    return tuple(cues)


def decode(data: bytes, name: str = "subtitles") -> str:
    """The text of the file, LF line ends; UTF-8 (BOM optional) or UTF-16 with a BOM only."""
    if len(data) > MAX_BYTES:
        raise SubtitleError(
            f"{name}: {len(data)} bytes is over the limit of {MAX_BYTES} for a subtitle file"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8\xff"):
        raise SubtitleError(f"{name}: this is an image, not subtitles: give an SRT, ASS or VTT")
    elif b"\x00" in data[:4096]:
        raise SubtitleError(
            f"{name}: binary data (or UTF-16 without a BOM), not subtitles: "
            "give an SRT, ASS or VTT file saved as UTF-8"
        )
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SubtitleError(
            f"{name}: not {encoding.removesuffix('-sig').upper()} (byte {exc.start} does not "
            "decode): re-save the file as UTF-8 (Shift-JIS, CP1252 and others are not read)"
        ) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SubtitleError(f"{name}: the file is empty")
    return text


def detect_format(text: str, name: str = "subtitles") -> str:
    """ "ass", "vtt" or "srt" from the content of decoded text; SubtitleError for anything else."""
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if re.search(r"^\s*\[(script info|events|v4\+? styles)\]\s*$", text, re.I | re.M):
        return "ass"
    if any(_TIMING.match(line) for line in text.split("\n")):
        return "srt"
    if head[:1] in "{[":
        raise SubtitleError(f"{name}: this looks like JSON, not subtitles: give an SRT, ASS or VTT")
    raise SubtitleError(
        f"{name}: not SRT, ASS/SSA or WebVTT (no cue timing like 00:00:01,000 --> 00:00:02,000)"
    )


def check_cues(cues: Sequence[Cue], duration_ms: int, name: str = "subtitles") -> None:
    """Refuse cues that do not belong to a video of duration_ms: none at all, any starting at
    or after its end, or over half ending after it (subtitles of another cut or episode)."""
    if not cues:
        raise SubtitleError(f"{name}: no cues")
    late = [c for c in cues if c.start_ms >= duration_ms]
    outside = [c for c in cues if c.end_ms > duration_ms or c.start_ms >= duration_ms]
    if late or 2 * len(outside) > len(cues):
        first = (late or outside)[0]
        raise SubtitleError(
            f"{name}: {len(outside)} of {len(cues)} cues lie outside the {duration_ms / 1000:.1f} s"
            f" video, the first at {_clock(first.start_ms, ',')} ({first.text[:40]!r}): are "
            "these the subtitles of this episode and cut?"
        )


def to_srt(cues: Sequence[Cue]) -> str:
    """SRT text of the cues, numbered from 1 in the given order (actor and style are lost)."""
    blocks = []
    for n, cue in enumerate(cues, start=1):
        _check_writable(cue, "<>", "SRT")
        timing = f"{_clock(cue.start_ms, ',')} --> {_clock(cue.end_ms, ',')}"
        blocks.append(f"{n}\n{timing}\n{cue.text}\n")
    return "\n".join(blocks)


def to_ass(cues: Sequence[Cue], title: str) -> str:
    """ASS (v4+) text of the cues with Name (actor) and Style filled; an empty style is written
    as Default. Times are rounded to the nearest centisecond (half up): reading the file back
    gives each time as round-half-up(ms / 10) * 10."""
    if "\n" in title:
        raise SubtitleError("an ASS title is one line")
    styles = sorted({c.style or "Default" for c in cues} | {"Default"})
    lines = ["[Script Info]", f"Title: {title}", "ScriptType: v4.00+", "WrapStyle: 0"]
    lines += ["PlayResX: 1920", "PlayResY: 1080", "", "[V4+ Styles]"]
    lines += [f"Format: {_ASS_STYLE_FORMAT}", *(f"Style: {s},{_ASS_STYLE}" for s in styles)]
    lines += ["", "[Events]", f"Format: {_ASS_DEFAULT_FORMAT}"]
    for cue in cues:
        _check_writable(cue, "{}\\", "ASS")
        for field in (cue.actor, cue.style):
            if "," in field or "\n" in field:
                raise SubtitleError(f"an ASS actor or style cannot hold a comma: {field!r}")
        start, end = _ass_clock(cue.start_ms), _ass_clock(cue.end_ms)
        style = cue.style or "Default"
        lines.append(f"Dialogue: 0,{start},{end},{style},{cue.actor},0,0,0,,{cue.text}")
    return "\n".join(lines) + "\n"


def _check_writable(cue: Cue, forbidden: str, kind: str) -> None:
    """Refuse a cue whose text would not read back the same from a file of this kind."""
    if not cue.text.strip() or "\n" in cue.text or any(ch in cue.text for ch in forbidden):
        raise SubtitleError(f"cannot write {cue.text!r} as {kind} cue text")
    if _clean(cue.text) != cue.text:
        raise SubtitleError(f"cue text {cue.text!r} has surrounding or repeated whitespace")
    if cue.start_ms < 0 or cue.end_ms < cue.start_ms:
        raise SubtitleError(f"cue {cue.text[:40]!r} has bad times {cue.start_ms}-{cue.end_ms}")


def _clock(ms: int, sep: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{sep}{rest % 1000:03d}"


def _ass_clock(ms: int) -> str:
    cs = (ms + 5) // 10
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def _ms(groups: Sequence[str | None]) -> int:
    hours, minutes, seconds, fraction = groups
    if int(minutes or 0) > 59 or int(seconds or 0) > 59:
        raise ValueError("minutes and seconds run to 59") from None
    whole = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    return whole * 1000 + int((fraction or "0").ljust(3, "0"))


def _timing(line: str, name: str) -> tuple[int, int] | None:
    """(start, end) ms of an SRT/VTT timing line, None when the line is not one."""
    match = _TIMING.match(line)
    if match is None:
        return None
    try:
        return _ms(match.groups()[:4]), _ms(match.groups()[4:])
    except ValueError:
        message = f"{name}: cue timing {line.strip()!r}: minutes and seconds run to 59"
        raise SubtitleError(message) from None


def _cue(start: int, end: int, text: str, where: str, name: str, **extra: str) -> Cue | None:
    """A cue of cleaned text, None when no text is left; SubtitleError when it ends early."""
    if end < start:
        raise SubtitleError(
            f"{name}: {where}: the cue ends ({_clock(end, ',')}) before it starts "
            f"({_clock(start, ',')}); fix its timing"
        )
    text = _clean(text)
    return Cue(start, end, text, **extra) if text else None


def _clean(text: str) -> str:
    """Lines joined into one (see the module doc), whitespace runs collapsed."""
    out = ""
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if not line:
            continue
        if out and not (_wide(out[-1]) and _wide(line[0])):
            out += " "
        out += line
    return out


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) of each run of non-blank lines."""
    block: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _limited(count: int, name: str) -> None:
    if count > MAX_CUES:
        raise SubtitleError(f"{name}: over {MAX_CUES} cues is not the subtitle file of an episode")


def _parse_srt(text: str, name: str) -> list[Cue]:
    """SRT: blocks of [number,] timing, text. A block with no timing in its first two lines is
    more text of the cue before it (a blank line inside a cue)."""
    raw: list[tuple[tuple[int, int], list[str], int]] = []
    for number, lines in _blocks(text):
        timings = [
            (i, t) for i, t in enumerate(_timing(x, name) for x in lines[:2]) if t is not None
        ]
        if timings:
            at, times = timings[0]
            raw.append((times, lines[at + 1 :], number + at))
            _limited(len(raw), name)
        elif raw:
            raw[-1][1].extend(lines)
        else:
            raise SubtitleError(f"{name}: line {number}: text before the first cue timing")
    cues = []
    for times, lines, number in raw:
        body = _TAG.sub("", _ASS_BLOCK.sub("", "\n".join(lines)))
        cue = _cue(*times, body, f"line {number}", name)
        if cue is not None:
            cues.append(cue)
    return cues


def _parse_vtt(text: str, name: str) -> list[Cue]:
    """WebVTT: cue blocks ([id,] timing [settings], payload); the header, NOTE, STYLE and REGION
    blocks are skipped. The first voice span <v Name> names the actor; ruby text (<rt>) is
    dropped, other tags are removed and HTML entities decoded."""
    cues: list[Cue] = []
    for number, lines in _blocks(text):
        if (lines[0].split() or [""])[0] in ("NOTE", "STYLE", "REGION"):
            continue
        at = next((i for i, line in enumerate(lines) if "-->" in line), None)
        times = None if at is None else _timing(lines[at], name)
        if at is None or times is None:
            continue  # the WEBVTT header, or not a cue block: WebVTT parsers skip it
        body = _RUBY_TEXT.sub("", "\n".join(lines[at + 1 :]))
        voice = _VOICE.search(body)
        actor = " ".join(voice.group(1).split()) if voice else ""
        body = html.unescape(_TAG.sub("", body))
        cue = _cue(*times, body, f"line {number + at}", name, actor=actor)
        if cue is not None:
            cues.append(cue)
            _limited(len(cues), name)
    return cues


def _ass_text(raw: str) -> str:
    """Dialogue text without override blocks, drawings ({\\p1} up to {\\p0}) and hard spaces;
    \\N and \\n become line breaks."""
    out: list[str] = []
    drawing = False
    pos = 0
    for block in _ASS_BLOCK.finditer(raw):
        if not drawing:
            out.append(raw[pos : block.start()])
        for level in _ASS_DRAWING.findall(block.group()):
            drawing = int(level) > 0
        pos = block.end()
    if not drawing:
        out.append(raw[pos:])
    return "".join(out).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")


def _parse_ass(text: str, name: str) -> list[Cue]:
    """ASS/SSA: Dialogue lines of [Events], fields found by its Format line (the standard v4+
    order when it has none); Comment lines are skipped."""
    section = ""
    fields = [f.strip().lower() for f in _ASS_DEFAULT_FORMAT.split(",")]
    cues: list[Cue] = []
    for number, line in enumerate(text.split("\n"), start=1):
        header = _ASS_SECTION.match(line)
        if header:
            section = header.group(1).strip().lower()
            continue
        key, _sep, value = line.partition(":")
        if section != "events" or not _sep:
            continue
        if key.strip().lower() == "format":
            fields = [f.strip().lower() for f in value.split(",")]
            if not {"start", "end", "text"} <= set(fields) or fields[-1] != "text":
                raise SubtitleError(f"{name}: line {number}: Format needs Start, End, Text last")
        elif key.strip().lower() == "dialogue":
            cue = _ass_cue(value, fields, f"line {number}", name)
            if cue is not None:
                cues.append(cue)
                _limited(len(cues), name)
    return cues


def _ass_cue(value: str, fields: list[str], where: str, name: str) -> Cue | None:
    """The cue of one Dialogue line's values."""
    values = [v.strip() for v in value.split(",", len(fields) - 1)]
    if len(values) != len(fields):
        raise SubtitleError(f"{name}: {where}: {len(values)} fields, the Format has {len(fields)}")
    row = dict(zip(fields, values, strict=True))
    start = _ass_time(row["start"], where, name)
    end = _ass_time(row["end"], where, name)
    actor = row.get("name", row.get("actor", ""))
    text = _ass_text(row["text"])
    return _cue(start, end, text, where, name, actor=actor, style=row.get("style", ""))


def _ass_time(value: str, where: str, name: str) -> int:
    match = re.fullmatch(_TIME, value)
    try:
        if match is None:
            raise ValueError(value)
        return _ms(match.groups())
    except ValueError:
        raise SubtitleError(f"{name}: {where}: time {value!r} is not H:MM:SS.cc") from None
