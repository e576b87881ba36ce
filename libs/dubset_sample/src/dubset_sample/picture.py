"""The episode's picture: a shot plan from the line timings, rendered by one ffmpeg call."""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import IO

import soundfile as sf

from dubset_sample.art import BACKGROUNDS, ArtLibrary, Look

FPS = Fraction(24000, 1001)
MIN_SHOT_MS = 2000
MAX_SHOT_MS = 8000
MOTIONS: tuple[str, ...] = ("pan_left", "pan_right", "zoom_in", "static")
TITLE = "title"
_MOTION_WEIGHTS = (0.32, 0.32, 0.12, 0.24)
_SCENE_BREAK_PAUSE_MS = 1500  # a pause this long may change the background
_LISTENER_CHANCE = 0.35  # a lone speaker gets the previous speaker as listener
_EMPTY_SHOT_IDLE_CHANCE = 0.6  # a shot without speech shows a character idle


class RenderError(RuntimeError):
    """ffmpeg failed; the message carries its error output."""


@dataclass(frozen=True)
class Shot:
    """One shot of the picture: a time span, a background, who is on screen, a camera move."""

    start_ms: int
    end_ms: int
    background: str
    characters: tuple[str, ...]  # character ids on screen, at most 2, main speaker first
    motion: str  # one of MOTIONS, or TITLE


Speech = Sequence[tuple[str, int, int]]


# ---------------------------------------------------------------- planning (pure)


def plan_shots(
    speech: Speech,
    duration_ms: int,
    character_ids: Sequence[str],
    seed: int,
    *,
    backgrounds: Sequence[str] = BACKGROUNDS,
) -> tuple[Shot, ...]:
    """Shots tiling [0, duration_ms): 2-8 s each, cut in pauses, speakers on screen."""
    if duration_ms <= 0:
        return ()
    rng = random.Random(f"plan:{seed}")
    pauses = _pauses(speech, duration_ms)
    bounds = _cut_bounds(duration_ms, pauses, speech, rng)
    spans = list(pairwise(bounds))
    casts = _casts(spans, speech, character_ids, rng)
    scenes = _scene_backgrounds(spans, pauses, backgrounds, rng)
    motions = _motions(len(spans), rng)
    return tuple(
        Shot(a, b, bg, cast, motion)
        for (a, b), cast, bg, motion in zip(spans, casts, scenes, motions, strict=True)
    )


def title_shots(
    duration_ms: int, seed: int, *, backgrounds: Sequence[str] = BACKGROUNDS
) -> tuple[Shot, ...]:
    """An intro of title cards tiling [0, duration_ms), each 2-8 s, each on a new background."""
    if duration_ms <= 0:
        return ()
    rng = random.Random(f"title:{seed}")
    count = -(-duration_ms // MAX_SHOT_MS)
    bounds = [duration_ms * i // count for i in range(count + 1)]
    names = rng.sample(list(backgrounds), k=min(count, len(backgrounds)))
    return tuple(
        Shot(a, b, names[i % len(names)], (), TITLE) for i, (a, b) in enumerate(pairwise(bounds))
    )


def shift_shots(shots: Sequence[Shot], offset_ms: int) -> tuple[Shot, ...]:
    """The same shots, offset_ms later."""
    return tuple(
        dataclasses.replace(s, start_ms=s.start_ms + offset_ms, end_ms=s.end_ms + offset_ms)
        for s in shots
    )


def _pauses(speech: Speech, duration_ms: int) -> list[tuple[int, int]]:
    """The spans of [0, duration_ms) where nobody speaks."""
    pauses: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sorted((max(0, s), min(duration_ms, e)) for _, s, e in speech):
        if start > cursor:
            pauses.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < duration_ms:
        pauses.append((cursor, duration_ms))
    return pauses


def _cut_bounds(
    duration_ms: int, pauses: Sequence[tuple[int, int]], speech: Speech, rng: random.Random
) -> list[int]:
    """Cut times 0 = b0 < b1 < ... = duration_ms with every gap in [MIN, MAX] when possible."""
    line_starts = sorted({s for _, s, _ in speech})
    bounds = [0]
    while duration_ms - bounds[-1] > MAX_SHOT_MS:
        start = bounds[-1]
        lo, hi = start + MIN_SHOT_MS, min(start + MAX_SHOT_MS, duration_ms - MIN_SHOT_MS)
        target = start + rng.randint(2500, 6500)
        bounds.append(_best_cut(lo, hi, target, pauses, line_starts))
    bounds.append(duration_ms)
    return bounds


def _best_cut(
    lo: int, hi: int, target: int, pauses: Sequence[tuple[int, int]], line_starts: Sequence[int]
) -> int:
    """The cut in [lo, hi] nearest target, preferring pauses, then line starts."""
    target = min(max(target, lo), hi)
    candidates: list[tuple[float, int]] = [(20.0, target)]
    for a, b in pauses:
        left, right = max(a, lo), min(b, hi)
        if left <= right:
            mid = min(max((a + b) // 2, left), right)
            candidates.append((abs(mid - target) / 1000, mid))
    candidates += [(10 + abs(s - target) / 1000, s) for s in line_starts if lo <= s <= hi]
    return min(candidates)[1]


def _speech_time(speech: Speech, start: int, end: int) -> dict[str, int]:
    """Milliseconds each character speaks within [start, end)."""
    totals: dict[str, int] = {}
    for who, s, e in speech:
        overlap = min(e, end) - max(s, start)
        if overlap > 0:
            totals[who] = totals.get(who, 0) + overlap
    return totals


def _casts(
    spans: Sequence[tuple[int, int]],
    speech: Speech,
    character_ids: Sequence[str],
    rng: random.Random,
) -> list[tuple[str, ...]]:
    """Who is on screen in each span: its speakers (most speech first), else someone idle."""
    casts: list[tuple[str, ...]] = []
    previous: str | None = None
    for start, end in spans:
        totals = _speech_time(speech, start, end)
        ranked = sorted(totals, key=lambda who: (-totals[who], who))[:2]
        lone = len(ranked) == 1 and previous not in (None, ranked[0])
        if lone and rng.random() < _LISTENER_CHANCE:
            ranked.append(str(previous))
        if not ranked:
            ranked = _idle_cast(previous, character_ids, rng)
        casts.append(tuple(ranked))
        previous = ranked[0] if ranked else previous
    return casts


def _idle_cast(previous: str | None, character_ids: Sequence[str], rng: random.Random) -> list[str]:
    """A shot without speech: the background alone, or one character idle."""
    if not character_ids or rng.random() >= _EMPTY_SHOT_IDLE_CHANCE:
        return []
    if previous is not None and rng.random() < 0.5:
        return [previous]
    return [rng.choice(list(character_ids))]


def _scene_backgrounds(
    spans: Sequence[tuple[int, int]],
    pauses: Sequence[tuple[int, int]],
    backgrounds: Sequence[str],
    rng: random.Random,
) -> list[str]:
    """One background per span: scenes of 3-7 shots, ending early at a long pause."""
    if not backgrounds:
        raise ValueError("no backgrounds to plan shots on")
    long_pauses = [(a, b) for a, b in pauses if b - a >= _SCENE_BREAK_PAUSE_MS]
    current, length = rng.choice(list(backgrounds)), rng.randint(3, 7)
    names: list[str] = []
    shown = 0
    for start, _ in spans:
        in_pause = any(a <= start <= b for a, b in long_pauses)
        if shown >= length or (in_pause and shown >= 2):
            others = [b for b in backgrounds if b != current] or list(backgrounds)
            current, length, shown = rng.choice(others), rng.randint(3, 7), 0
        names.append(current)
        shown += 1
    return names


def _motions(count: int, rng: random.Random) -> list[str]:
    """A camera move per shot, never the same move twice in a row."""
    motions: list[str] = []
    for _ in range(count):
        motion = rng.choices(MOTIONS, weights=_MOTION_WEIGHTS)[0]
        while motions and motion == motions[-1]:
            motion = rng.choices(MOTIONS, weights=_MOTION_WEIGHTS)[0]
        motions.append(motion)
    return motions


# ---------------------------------------------------------------- frames


def frame_at(ms: int) -> int:
    """The frame index at ms, round(ms * fps / 1000) (halves up)."""
    num = 2 * ms * FPS.numerator + 1000 * FPS.denominator
    return num // (2000 * FPS.denominator)


def frame_count(seconds: Fraction) -> int:
    """The number of frames covering seconds, rounded to the nearest frame."""
    return int((seconds * FPS + Fraction(1, 2)) // 1)


def shot_frames(shots: Sequence[Shot], total_frames: int) -> list[tuple[Shot, int]]:
    """Each shot with its frame count; the last shot is stretched or cut to total_frames."""
    _check_tiling(shots)
    starts = [frame_at(s.start_ms) for s in shots] + [total_frames]
    ends = [min(b, total_frames) for b in starts[1:]]
    counted = [(shot, b - a) for shot, a, b in zip(shots, starts, ends, strict=False)]
    kept = [(shot, n) for shot, n in counted if n > 0]
    if not kept:
        raise ValueError(f"no shot covers any of the {total_frames} frames")
    return kept


def _check_tiling(shots: Sequence[Shot]) -> None:
    if not shots or shots[0].start_ms != 0:
        raise ValueError("shots must start at 0 ms")
    if any(s.end_ms <= s.start_ms for s in shots):
        raise ValueError("shots must have positive lengths")
    for a, b in pairwise(shots):
        if a.end_ms != b.start_ms:
            raise ValueError(f"shots must be contiguous: {a.end_ms} != {b.start_ms}")


# ---------------------------------------------------------------- filter graph (pure)


_TIMEBASE = f"settb={FPS.denominator}/{FPS.numerator},setpts=N"
_SETPTS = f"setpts=N*{FPS.denominator}/({FPS.numerator}*TB)"
_CANVAS = 1.2  # backgrounds are scaled this much larger than the frame, for pans
_PAN_SPEED = 0.025  # frame widths per second
_ZOOM = 0.12  # how much a zoom_in shot zooms in over its length
_SPRITE_HEIGHT = 0.98  # of the frame height


@dataclass(frozen=True)
class Still:
    """One still fed to ffmpeg once, prepared once, then split to every shot using it."""

    path: Path
    prep: str  # the filters run once on the still


@dataclass
class FilterGraph:
    """A filter graph under construction: its stills and per-shot chains."""

    width: int
    height: int
    images: dict[Still, list[str]] = dataclasses.field(default_factory=dict)
    chains: list[str] = dataclasses.field(default_factory=list)

    def use(self, image: Still) -> str:
        """A fresh link label carrying one copy of image."""
        uses = self.images.setdefault(image, [])
        label = f"i{list(self.images).index(image)}u{len(uses)}"
        uses.append(label)
        return label

    def script(self) -> str:
        """The filter_complex text; shot chain k ends in [v{k}], the whole video in [vout]."""
        lines = []
        for index, (image, labels) in enumerate(self.images.items()):
            outs = "".join(f"[{label}]" for label in labels)
            lines.append(f"[{index}:v]{image.prep},split={len(labels)}{outs};")
        lines += self.chains
        inputs = "".join(f"[v{k}]" for k in range(len(self.chains)))
        lines.append(
            f"{inputs}concat=n={len(self.chains)}:v=1:a=0,{_TIMEBASE},format=yuv420p[vout]"
        )
        return "\n".join(lines)


def build_graph(
    shots: Sequence[tuple[Shot, int]],
    looks: Mapping[str, Look],
    art: ArtLibrary,
    size: tuple[int, int],
) -> FilterGraph:
    """The filter graph drawing shots (each with its frame count) at size."""
    if size[0] <= 0 or size[1] <= 0 or size[0] % 2 or size[1] % 2:
        raise ValueError(f"frame size must be positive and even, got {size}")
    unknown = sorted({c for shot, _ in shots for c in shot.characters} - set(looks))
    if unknown:
        raise ValueError(f"no look for characters {unknown}")
    graph = FilterGraph(*size)
    for k, (shot, frames) in enumerate(shots):
        graph.chains.append(_shot_chain(graph, k, shot, frames, looks, art))
    return graph


def _still(frames: int) -> str:
    return f"loop=loop={frames - 1}:size=1,{_SETPTS}"


def _shot_chain(
    graph: FilterGraph, k: int, shot: Shot, frames: int, looks: Mapping[str, Look], art: ArtLibrary
) -> str:
    """The filters drawing one shot into the link [v{k}]."""
    w, h = graph.width, graph.height
    title = shot.motion == TITLE
    bg = graph.use(_background(art.background_path(shot.background), w, h, blurred=title))
    layer = f"k{k}b0"
    parts = [f"[{bg}]{_still(frames)},{_camera(shot.motion, frames, w, h)}[{layer}]"]
    sprites = _title_layers(graph, art) if title else _sprite_layers(graph, shot, looks, art)
    for j, (label, x, y) in enumerate(sprites, start=1):
        parts.append(f"[{label}]{_still(frames)}[k{k}s{j}]")
        parts.append(f"[{layer}][k{k}s{j}]overlay=x='{x}':y='{y}':format=yuv420[k{k}b{j}]")
        layer = f"k{k}b{j}"
    parts.append(f"[{layer}]{_zoom(shot.motion, frames, w, h)}setsar=1[v{k}]")
    return ";".join(parts) + ";"


def _zoom(motion: str, frames: int, w: int, h: int) -> str:
    """A slow push-in on the whole picture for zoom_in shots (zoompan: the costly move)."""
    if motion != "zoom_in":
        return ""
    return (
        f"zoompan=z='1+{_ZOOM}*on/{frames}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
        f":d=1:s={w}x{h}:fps={FPS.numerator}/{FPS.denominator},"
    )


def _background(path: Path, w: int, h: int, *, blurred: bool) -> Still:
    cw, ch = _even(w * _CANVAS), _even(h * _CANVAS)
    prep = f"scale={cw}:{ch},format=yuv420p"
    if blurred:
        prep += ",gblur=sigma=6,eq=brightness=-0.12:saturation=0.8"
    return Still(path, prep)


def _camera(motion: str, frames: int, w: int, h: int) -> str:
    """Crop the frame out of the larger background canvas, moving for pans."""
    travel = f"{_PAN_SPEED * w * frames / float(FPS):.3f}"
    centre = "(iw-ow)/2"
    if motion == "pan_right":
        x = f"{centre}-{travel}/2+{travel}*n/{frames}"
    elif motion in ("pan_left", TITLE):
        x = f"{centre}+{travel}/2-{travel}*n/{frames}"
    else:
        x = centre
    return f"crop={w}:{h}:x='{x}':y='(ih-oh)/2'"


def _sprite_layers(
    graph: FilterGraph, shot: Shot, looks: Mapping[str, Look], art: ArtLibrary
) -> list[tuple[str, str, str]]:
    """(link, x, y) per character on screen: positions, expression, a bob for the speaker."""
    w, h = graph.width, graph.height
    centres = _centres(shot, w)
    layers = []
    for j, who in enumerate(shot.characters):
        look = looks[who]
        expressions = art.sprites[look.sprite]
        pick = _shot_hash(shot, who) % len(expressions)
        label = graph.use(_sprite(expressions[pick], look.hue_deg, h))
        x = f"{centres[j]}-w/2{_sprite_drift(shot.motion, w, j)}"
        bob = f"+{h * 0.008:.2f}*sin(2*PI*1.4*t)" if j == 0 else ""
        layers.append((label, x, f"H-h+{h * 0.03:.2f}{bob}"))
    return layers


def _shot_hash(shot: Shot, salt: str) -> int:
    """A stable hash of what a shot shows, not of when: shifted shots render the same."""
    key = f"{salt}|{shot.background}|{shot.end_ms - shot.start_ms}|{shot.characters}|{shot.motion}"
    return zlib.crc32(key.encode())


def _centres(shot: Shot, w: int) -> list[int]:
    if len(shot.characters) >= 2:
        return [round(w * 0.3), round(w * 0.7)]
    slot = _shot_hash(shot, "slot") % 3
    return [round(w * (0.36, 0.5, 0.64)[slot])]


def _sprite_drift(motion: str, w: int, j: int) -> str:
    """Sprites drift against a pan (parallax) or slide in at the start of a static shot."""
    speed = _PAN_SPEED * w * 0.5
    if motion == "pan_right":
        return f"-{speed:.3f}*t"
    if motion == "pan_left":
        return f"+{speed:.3f}*t"
    if motion == "static":
        side = -1 if j == 0 else 1
        return f"+{side * 0.05 * w:.2f}*pow(max(0,1-t/0.6),2)"
    return ""


def _sprite(path: Path, hue_deg: int, h: int) -> Still:
    prep = f"scale=-2:{_even(h * _SPRITE_HEIGHT)},format=yuva420p"
    if hue_deg % 360:
        prep += f",hue=h={hue_deg % 360}"
    return Still(path, prep)


def _title_layers(graph: FilterGraph, art: ArtLibrary) -> list[tuple[str, str, str]]:
    prep = f"scale=-2:{_even(graph.height * 0.8)},format=yuva420p"
    label = graph.use(Still(art.logo, prep))
    return [(label, "(W-w)/2", f"(H-h)/2+{graph.height * 0.015:.2f}*sin(2*PI*0.5*t)")]


def _even(value: float) -> int:
    return 2 * round(value / 2)


# ---------------------------------------------------------------- ffmpeg


def render_video(
    shots: Sequence[Shot],
    looks: Mapping[str, Look],
    audio_wav: Path,
    out: Path,
    art: ArtLibrary,
    *,
    size: tuple[int, int] = (640, 360),
    hook: Callable[[float], None] | None = None,
    preset: str = "veryfast",
) -> None:
    """Render shots over audio_wav to an H.264/AAC mp4 at 24000/1001 fps, byte-reproducibly."""
    info = sf.info(str(audio_wav))
    total = frame_count(Fraction(info.frames, info.samplerate))
    timed = shot_frames(shots, total)
    graph = build_graph(timed, looks, art, size)
    out = Path(out)
    partial = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="dubset-picture-") as tmp:
        script = Path(tmp) / "graph.txt"
        script.write_text(graph.script(), encoding="utf-8")
        argv = ffmpeg_argv(graph, timed, script, Path(audio_wav), partial, preset)
        try:
            _run(argv, total / float(FPS), hook, Path(tmp) / "stderr.txt")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)
    if hook is not None:
        hook(1.0)


def ffmpeg_argv(
    graph: FilterGraph,
    timed: Sequence[tuple[Shot, int]],
    script: Path,
    audio_wav: Path,
    out: Path,
    preset: str,
) -> list[str]:
    """The ffmpeg command line: stills, the audio, the graph script, the encoders."""
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for image in graph.images:
        argv += ["-f", "image2", "-pattern_type", "none", "-i", _url(image.path)]
    argv += ["-i", _url(audio_wav), "-filter_complex_script", _url(script)]
    argv += ["-map", "[vout]", "-map", f"{len(graph.images)}:a:0"]
    argv += ["-c:v", "libx264", "-preset", preset, "-crf", "26", "-pix_fmt", "yuv420p"]
    argv += ["-threads", "2", "-g", str(round(2 * FPS)), "-r", f"{FPS.numerator}/{FPS.denominator}"]
    argv += ["-force_key_frames", _cut_times(timed)]
    argv += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
    argv += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart"]
    argv += ["-progress", "pipe:1", "-nostats", "-f", "mp4", _url(out)]
    return argv


def _url(path: Path) -> str:
    """An ffmpeg URL for a local path that no name can turn into an option or protocol."""
    return "file:" + str(Path(path).resolve())


def _cut_times(timed: Sequence[tuple[Shot, int]]) -> str:
    """Seconds of each cut's first frame, for -force_key_frames."""
    times, frame = [], 0
    for _, frames in timed:
        times.append(f"{float(frame / FPS):.6f}")
        frame += frames
    return ",".join(times)


def _run(
    argv: Sequence[str], seconds: float, hook: Callable[[float], None] | None, log: Path
) -> None:
    """Run ffmpeg, feeding hook its progress; RenderError with its stderr on failure."""
    with log.open("w+b") as err, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err) as proc:
        try:
            assert proc.stdout is not None
            _follow_progress(proc.stdout, seconds, hook)
            code = proc.wait()
        except BaseException:
            proc.kill()
            raise
        if code != 0:
            err.seek(0)
            tail = err.read()[-4000:].decode("utf-8", "replace").strip()
            raise RenderError(f"ffmpeg exited with {code}: {tail}")


def _follow_progress(
    stream: IO[bytes], seconds: float, hook: Callable[[float], None] | None
) -> None:
    for raw in stream:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if hook is not None and key == "out_time_us" and value.isdigit() and seconds > 0:
            hook(min(1.0, int(value) / 1e6 / seconds))
