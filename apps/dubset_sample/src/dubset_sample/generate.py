"""`dubset sample`: one dubbed episode pair with its complete ground truth."""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_sample import mix, mkvtruth, release, showmeta, subs, truth
from dubset_sample.art import ArtLibrary, Look, default_art_dir, look_for
from dubset_sample.backing import render_bed, render_intro
from dubset_sample.bank import BankLine, load_bank
from dubset_sample.facetruth import picture_truth
from dubset_sample.frames import frame_count, shot_frames
from dubset_sample.picture import Shot, plan_shots, render_video, shift_shots, title_shots
from dubset_sample.script import ScriptLine, ScriptParams, write_script
from dubset_sample.shapes import DUAL_MKV, SUBS, ShapeError, parse_shapes
from dubset_sample.timemap import TimeMap
from dubset_sample.voices import CAST, LINE_RMS, MAX_CHARACTERS, CastMember, VoiceBank

GENERATOR_VERSION = "2"  # 2: still shots, off-screen voices, mouth flaps, picture truth
SAMPLE_RATE = 48000
VIDEO_SIZE = (640, 360)
MAX_SECONDS = 4 * 3600
MAX_OFFSET_MS = 10 * 60 * 1000
LANGS = ("ja", "en")

Hook = Callable[[str, float], None]  # (step, fraction done of that step)


class SampleError(ValueError):
    """The options cannot make an episode; the message says which and why."""


@dataclass(frozen=True)
class SampleOptions:
    out: Path
    seconds: float = 120.0
    characters: int = 3
    seed: int = 0
    ja_offset_ms: int = 0
    overlap_rate: float = 0.05
    noise_db: float | None = None
    episode: int = 1
    check_voices: bool = False
    art_dir: Path | None = None
    shapes: tuple[str, ...] = ()  # release shapes (dubset_sample.shapes), as given

    @property
    def content_seed(self) -> int:
        """The seed of what is said and shown: the show's seed for episode 1, so episodes of
        one show (same --seed) differ while the show's name, cast and theme stay."""
        if self.episode == 1:
            return self.seed
        return int.from_bytes(hashlib.sha256(f"{self.seed}/{self.episode}".encode()).digest()[:4])

    def validate(self) -> None:
        if not 5 <= self.seconds <= MAX_SECONDS:
            raise SampleError(f"--seconds must be between 5 and {MAX_SECONDS}")
        if not 1 <= self.characters <= MAX_CHARACTERS:
            raise SampleError(f"--characters must be between 1 and {MAX_CHARACTERS}")
        if not 0.0 <= self.overlap_rate <= 0.5:
            raise SampleError("--overlap-rate must be between 0 and 0.5")
        if abs(self.ja_offset_ms) > MAX_OFFSET_MS:
            raise SampleError(f"--ja-offset-ms must be within ±{MAX_OFFSET_MS}")
        if self.noise_db is not None and not -10.0 <= self.noise_db <= 80.0:
            raise SampleError("--noise-db must be between -10 and 80 dB SNR, or none")
        if not 0 <= self.seed < 2**32:
            raise SampleError("--seed must be between 0 and 2**32-1")
        if not 1 <= self.episode <= 100_000:
            raise SampleError("--episode must be between 1 and 100000")
        self.release_shapes()

    def release_shapes(self) -> tuple[str, ...]:
        """The shapes, checked and in canonical order; () for the plain release."""
        try:
            return parse_shapes(self.shapes)
        except ShapeError as exc:
            raise SampleError(str(exc)) from None


def _quiet(step: str, fraction: float) -> None:
    return None


def generate(opts: SampleOptions, hook: Hook = _quiet) -> Path:
    """Write ja.mp4, en.mp4, show.json, truth.json and the clean stems into opts.out (and
    episode.mkv for the dual-mkv shape)."""
    opts.validate()
    art = ArtLibrary.load(opts.art_dir or default_art_dir())
    opts.out.mkdir(parents=True, exist_ok=True)
    cast = CAST[: opts.characters]
    program_ms = round(opts.seconds * 1000)
    voices = VoiceBank(SAMPLE_RATE)
    lines = _script(opts, cast, voices, program_ms, hook)
    intro = {"ja": max(0, opts.ja_offset_ms), "en": max(0, -opts.ja_offset_ms)}
    hook("bed and mix", 0.0)
    stems = _stems(opts, cast, voices, lines, program_ms, intro)
    shots = _shots(opts, lines, program_ms, intro)
    plain_map = TimeMap.plain(opts.ja_offset_ms, program_ms)
    shaped = _shape(opts, stems, shots["en"], lines, intro, plain_map)
    written = _write_stems(opts.out, stems, shaped)
    hook("bed and mix", 1.0)
    durations = {lang: len(written[f"{lang}_dialogue"]) * 1000 // SAMPLE_RATE for lang in LANGS}
    looks = {f"S{i}": look_for(i) for i in range(len(cast))}
    with tempfile.TemporaryDirectory(prefix="dubset-sample-") as tmp:
        for lang in LANGS:
            if shaped is not None and lang == "en":
                video_hook = functools.partial(hook, "video en")
                release.render_en(shaped, looks, art, opts.out / "en.mp4", Path(tmp), video_hook)
                continue
            wav = Path(tmp) / f"{lang}_mix.wav"
            both = stems[f"{lang}_dialogue"] + stems[f"{lang}_backing"]
            sf.write(wav, mix.to_pcm16(both), SAMPLE_RATE, subtype="PCM_16")
            render_video(
                shots[lang],
                looks,
                wav,
                opts.out / f"{lang}.mp4",
                art,
                size=VIDEO_SIZE,
                hook=functools.partial(hook, f"video {lang}"),
            )
        extra = None
        if shaped is not None:
            hook("release", 0.0)
            cued = _subtitles(opts, cast, lines, intro, durations, shots["ja"], shaped)
            streams = () if cued is None else cued.streams
            extra = release.truth_fields(
                shaped, stems, opts.ja_offset_ms, opts.out, Path(tmp), streams
            )
            if cued is not None:
                cued.write(opts.out)
                extra = cued.with_truth(extra)
            hook("release", 1.0)
    similarity = _voice_check(cast, voices, lines, hook) if opts.check_voices else None
    extra = {
        **(extra or {}),
        "picture": _picture(len(stems["ja_dialogue"]), shots["ja"], looks, art),
    }

    def build(
        en_time: Callable[[int], int] | None, extra: Mapping[str, object] | None
    ) -> dict[str, object]:
        return truth.build(
            opts=truth.TruthInputs(
                seed=opts.seed,
                seconds=opts.seconds,
                characters=opts.characters,
                overlap_rate=opts.overlap_rate,
                noise_db=opts.noise_db,
                version=GENERATOR_VERSION,
                episode=opts.episode,
                sample_rate=SAMPLE_RATE,
                ja_offset_ms=opts.ja_offset_ms,
            ),
            cast=cast,
            lines=lines,
            intro=intro,
            durations=durations,
            shots=shots if shaped is None else {"ja": shots["ja"], "en": shaped.shots},
            looks=looks,
            similarity=similarity,
            en_time=en_time,
            extra=extra,
        )

    value = build(None if shaped is None else shaped.timeline, extra)
    if DUAL_MKV in opts.release_shapes():
        mkv = mkvtruth.mkv_truth(
            lambda f: build(f, extra), stems, opts.ja_offset_ms, opts.out, SAMPLE_RATE
        )
        _write_json(opts.out / mkvtruth.TRUTH, mkv)
    show = showmeta.build(opts.seed, opts.episode, cast, value)
    _write_json(opts.out / "show.json", show)
    path = opts.out / "truth.json"
    _write_json(path, value)
    return path


def _write_stems(
    out: Path, stems: Mapping[str, mix.Audio], shaped: release.ShapedEn | None
) -> dict[str, mix.Audio]:
    """The stems as WAVs (the shaped EN release's, as its audio holds them), by name."""
    written = dict(stems)
    if shaped is not None:
        written.update(en_dialogue=shaped.dialogue, en_backing=shaped.backing)
    for name, audio in written.items():
        sf.write(out / f"{name}.wav", mix.to_pcm16(audio), SAMPLE_RATE, subtype="PCM_16")
    return written


def _picture(
    samples: int, shots: tuple[Shot, ...], looks: Mapping[str, Look], art: ArtLibrary
) -> dict[str, object]:
    """The JA picture's truth (shots, face boxes, mouths) over a track of `samples`."""
    frames = frame_count(Fraction(samples, SAMPLE_RATE))
    return picture_truth(shot_frames(shots, frames), looks, art, VIDEO_SIZE)


def _script(
    opts: SampleOptions,
    cast: tuple[CastMember, ...],
    voices: VoiceBank,
    program_ms: int,
    hook: Hook,
) -> tuple[ScriptLine, ...]:
    def duration_of(speaker: int, lang: str, line: BankLine) -> int:
        member = cast[speaker]
        if lang == "ja":
            return voices.duration_ms(member.ja, line.ja)
        return voices.duration_ms(member.en, line.en)

    def tracked(speaker: int, lang: str, line: BankLine) -> int:
        ms = duration_of(speaker, lang, line)
        done = voices.count / max(1, _expected_lines(program_ms) * 2)
        hook("voices", min(0.99, done))
        return ms

    params = ScriptParams(program_ms, opts.characters, opts.overlap_rate, opts.content_seed)
    lines = write_script(load_bank(), params, tracked)
    hook("voices", 1.0)
    if not lines:
        raise SampleError(f"{opts.seconds} s is too short for a single line")
    return lines


def _shape(
    opts: SampleOptions,
    stems: dict[str, mix.Audio],
    en_shots: tuple[Shot, ...],
    lines: tuple[ScriptLine, ...],
    intro: dict[str, int],
    plain_map: TimeMap,
) -> release.ShapedEn | None:
    """The shaped EN release, or None for the plain one (--shape not given)."""
    chosen = opts.release_shapes()
    if not chosen:
        return None
    # Speech of either language on the plain EN timeline (the program starts at intro["en"]).
    spans = [span for ln in lines for span in (ln.ja, ln.en)]
    speech = [(intro["en"] + t.start_ms, intro["en"] + t.end_ms) for t in spans]
    try:
        return release.shape_en(
            chosen,
            stems["en_dialogue"],
            stems["en_backing"],
            en_shots,
            speech,
            plain_map,
            opts.seed,
            SAMPLE_RATE,
        )
    except ShapeError as exc:
        raise SampleError(str(exc)) from None


def _subtitles(
    opts: SampleOptions,
    cast: tuple[CastMember, ...],
    lines: tuple[ScriptLine, ...],
    intro: dict[str, int],
    durations: dict[str, int],
    ja_shots: tuple[Shot, ...],
    shaped: release.ShapedEn,
) -> subs.Subtitles | None:
    """The subtitles of --shape subs (None without it)."""
    if SUBS not in shaped.shapes:
        return None
    return subs.plan(
        lines=lines,
        intro=intro,
        names=[member.name for member in cast],
        durations=durations,
        en_time=shaped.timeline,
        ja_offset_ms=opts.ja_offset_ms,
        ja_shots=ja_shots,
        show=truth.show_name(opts.seed),
        seed=opts.content_seed,
        mkv=DUAL_MKV in shaped.shapes,
    )


def _expected_lines(program_ms: int) -> int:
    return max(1, program_ms // 3500)


def _stems(
    opts: SampleOptions,
    cast: tuple[CastMember, ...],
    voices: VoiceBank,
    lines: tuple[ScriptLine, ...],
    program_ms: int,
    intro: dict[str, int],
) -> dict[str, mix.Audio]:
    rate = SAMPLE_RATE
    out: dict[str, mix.Audio] = {}
    bed = render_bed(program_ms, rate, opts.content_seed).audio
    theme = render_intro(abs(opts.ja_offset_ms), rate, opts.seed)
    noise_rng = np.random.default_rng([opts.content_seed, 2])
    for lang in LANGS:
        total = program_ms + intro[lang]
        placed = [
            (
                intro[lang] + (ln.ja if lang == "ja" else ln.en).start_ms,
                voices.speak(
                    cast[ln.speaker].ja if lang == "ja" else cast[ln.speaker].en,
                    ln.line.ja if lang == "ja" else ln.line.en,
                ),
            )
            for ln in lines
        ]
        dialogue = mix.place(placed, total, rate)
        lead = theme if intro[lang] else theme[:0]
        backing = mix.backing_track(lead, bed, LINE_RMS)
        backing = backing[: len(dialogue)]
        if opts.noise_db is not None:
            level = LINE_RMS * float(mix.db_gain(-opts.noise_db))
            backing = backing + mix.pink_noise(len(backing), noise_rng) * np.float32(level)
        out[f"{lang}_dialogue"], out[f"{lang}_backing"] = dialogue, backing
    out["backing"] = mix.backing_track(theme[:0], bed, LINE_RMS)
    gain = mix.headroom(out[f"{lang}_dialogue"] + out[f"{lang}_backing"] for lang in LANGS)
    return {name: (audio * gain).astype(np.float32) for name, audio in out.items()}


def _shots(
    opts: SampleOptions, lines: tuple[ScriptLine, ...], program_ms: int, intro: dict[str, int]
) -> dict[str, tuple[Shot, ...]]:
    # The animation is timed to the Japanese track; both releases show the same program.
    speech = [(f"S{ln.speaker}", ln.ja.start_ms, ln.ja.end_ms) for ln in lines]
    ids = [f"S{i}" for i in range(opts.characters)]
    program = plan_shots(speech, program_ms, ids, opts.content_seed)
    out: dict[str, tuple[Shot, ...]] = {}
    for lang in LANGS:
        lead = title_shots(intro[lang], opts.seed) if intro[lang] else ()
        out[lang] = tuple(lead) + tuple(shift_shots(program, intro[lang]))
    return out


def _voice_check(
    cast: tuple[CastMember, ...],
    voices: VoiceBank,
    lines: tuple[ScriptLine, ...],
    hook: Hook,
) -> dict[str, object]:
    from dubset_sample.voicecheck import similarity_report

    hook("voice check", 0.0)
    report = similarity_report(cast, voices, lines)
    hook("voice check", 1.0)
    return report


def _write_json(path: Path, value: object) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
