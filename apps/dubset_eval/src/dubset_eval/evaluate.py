"""Score everything recognised under a result path against a truth: the one entry point."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dubset_eval.audio import read_mono
from dubset_eval.clips import ClipSpan, score_clips
from dubset_eval.completeness import (
    check,
    parse_dataset_manifest,
    parse_stage_manifest,
    referenced_media,
)
from dubset_eval.der import Turn, diarization_error
from dubset_eval.discover import ANNOTATIONS, DATASET_MANIFEST, Found, discover, read_json
from dubset_eval.dubeval import score_dub
from dubset_eval.dubreport import dub_speech
from dubset_eval.errors import EvalInputError
from dubset_eval.facerow import FacesRow, FlapRow
from dubset_eval.facescore import score_faces
from dubset_eval.fields import FieldError
from dubset_eval.flaps import flap_spans, score_flaps
from dubset_eval.qualityscore import QualityRow, quality_row
from dubset_eval.report import (
    AsrRow,
    ClipsRow,
    CompletenessRow,
    DiarizationRow,
    DubRow,
    OffsetRow,
    Report,
    SeparationRow,
    SubtitleRow,
)
from dubset_eval.results import (
    DatasetEpisode,
    Segment,
    parse_alignment,
    parse_annotations,
    parse_offset,
    parse_segments,
    parse_turns,
    select_episode,
)
from dubset_eval.sisdr import si_sdr
from dubset_eval.subtiming import (
    RAW,
    SubSegment,
    parse_subtitle_segments,
    read_cue_segments,
    score_timing,
    timing_scores,
)
from dubset_eval.text import cer, wer
from dubset_eval.timemaps import result_map, score_map
from dubset_eval.truth import Truth, load_truth


def asr_row(truth: Truth, source: str, language: str, segments: Sequence[Segment]) -> AsrRow:
    """Truth lines of the language in time order, joined, against the segments likewise."""
    lines = sorted(truth.spoken(language), key=lambda lu: (lu[1].start_ms, lu[0].index))
    ref = " ".join(utterance.text for _, utterance in lines)
    hyp = " ".join(s.text for s in sorted(segments, key=lambda s: (s.start_ms, s.end_ms)))
    if language == "ja":
        return AsrRow(source, language, "CER", cer(ref, hyp))
    return AsrRow(source, language, "WER", wer(ref, hyp))


def reference_turns(truth: Truth, language: str) -> list[Turn]:
    return [Turn(ln.speaker, u.start_ms, u.end_ms) for ln, u in truth.spoken(language)]


def truth_clips(truth: Truth) -> list[ClipSpan]:
    return [ClipSpan(p.ja_start_ms, p.ja_end_ms, p.en_start_ms, p.en_end_ms) for p in truth.pairs]


@dataclass
class _Scoring:
    """Rows gathered while walking the results; truth stems read once each."""

    truth: Truth
    root: Path
    asr: list[AsrRow] = field(default_factory=list)
    subtitles: list[SubtitleRow] = field(default_factory=list)
    diarization: list[DiarizationRow] = field(default_factory=list)
    separation: list[SeparationRow] = field(default_factory=list)
    clips: list[ClipsRow] = field(default_factory=list)
    offsets: list[OffsetRow] = field(default_factory=list)
    completeness: list[CompletenessRow] = field(default_factory=list)
    dub: list[DubRow] = field(default_factory=list)
    faces: list[FacesRow] = field(default_factory=list)
    quality: list[QualityRow] = field(default_factory=list)
    quality_seen: set[str] = field(default_factory=set)
    flap_clips: list[tuple[str, list[tuple[tuple[int, int], list[tuple[int, int]]]]]] = field(
        default_factory=list
    )
    dub_speech: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cues: dict[Path, tuple[SubSegment, ...] | None] = field(default_factory=dict)
    stems: dict[Path, NDArray[np.float64]] = field(default_factory=dict)

    def source(self, path: Path) -> str:
        return (
            path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        )

    def stem(self, path: Path) -> NDArray[np.float64]:
        if path not in self.stems:
            try:
                self.stems[path] = read_mono(path, self.truth.sample_rate)
            except ValueError as exc:
                raise EvalInputError(f"truth stem {path}: {exc}") from None
        return self.stems[path]

    def score(self, found: Found) -> None:
        source = self.source(found.path)
        language = found.language
        if found.kind in ("asr", "diarization", "separation") and language is None:
            self.problems.append(f"{source}: {found.kind} result of unknown language")
        elif found.kind in ("asr", "diarization") and not self.truth.spoken(language or ""):
            self.problems.append(f"{source}: the truth has no {language} lines")
        elif found.kind == "asr" and language is not None:
            self.asr.append(asr_row(self.truth, source, language, parse_segments(found.value)))
            self.subtitle_timing(source, language, found.value)
        elif found.kind == "diarization" and language is not None:
            score = diarization_error(
                reference_turns(self.truth, language),
                parse_turns(found.value),
                duration_ms=self.truth.duration_ms.get(language, 0),
            )
            self.diarization.append(DiarizationRow(source, language, score))
        elif found.kind == "separation" and language is not None and found.stem is not None:
            self.separate(found.path, source, language, found.stem)
        elif found.kind == "alignment":
            clips = score_clips(truth_clips(self.truth), parse_alignment(found.value))
            self.clips.append(ClipsRow(source, clips))
        elif found.kind == "offset":
            result = parse_offset(found.value)
            truth_map = self.truth.time_map
            map_score = None
            if truth_map is not None:
                map_score = score_map(result_map(found.value, result, truth_map), truth_map)
            self.offsets.append(OffsetRow(source, result, self.truth.ja_offset_ms, map_score))
        elif found.kind == "stage-manifest":
            listed = parse_stage_manifest(found.value)
            self.completeness.append(CompletenessRow(source, check(found.path.parent, listed)))
        elif found.kind == "dataset":
            self.dataset(found.path)
        else:
            self.score_late(found, source)

    def score_late(self, found: Found, source: str) -> None:
        """The results made after packaging: faces, quality, a dubbed episode."""
        if found.kind == "faces":
            self.score_faces(source, found.value)
        elif found.kind == "quality":
            key = json.dumps(found.value, sort_keys=True)  # the stage's copy and the dataset's
            if key not in self.quality_seen:
                self.quality_seen.add(key)
                self.quality.append(quality_row(source, truth_clips(self.truth), found.value))
        elif found.kind == "dub":
            self.dub_speech.append((source, dub_speech(found.value)))
            row, notes = score_dub(self.truth, found.path, found.value, source, self.stem)
            self.dub.append(row)
            self.notes += notes

    def score_faces(self, source: str, value: Mapping[str, object]) -> None:
        if self.truth.picture is None:
            self.problems.append(f"{source}: the truth has no picture (generator < 2)")
            return
        lines = [(ln.speaker, u.start_ms, u.end_ms) for ln, u in self.truth.spoken("ja")]
        self.faces.append(FacesRow(source, score_faces(self.truth.picture, value, lines)))
        if "speaking" in value:
            self.flap_clips.append((source, flap_spans(value)))

    def flap_rows(self) -> list[FlapRow]:
        """Per faces.json with speaking faces: the JA original, the human EN dub (on the JA
        timeline through the true map) and each automatic dub found, against its flaps."""
        ja = [(u.start_ms, u.end_ms) for _, u in self.truth.spoken("ja")]
        en, tmap = [], self.truth.time_map
        for _, u in self.truth.spoken("en"):
            a = u.start_ms + self.truth.ja_offset_ms if tmap is None else tmap.to_ja(u.start_ms)
            b = u.end_ms + self.truth.ja_offset_ms if tmap is None else tmap.to_ja(u.end_ms)
            if a is not None and b is not None:
                en.append((round(a), round(b)))
        rows = []
        for source, clips in self.flap_clips:
            rows.append(FlapRow(source, "ja (original)", score_flaps(clips, ja)))
            rows.append(FlapRow(source, "en (human dub)", score_flaps(clips, en)))
            for dub_source, speech in self.dub_speech:
                rows.append(FlapRow(source, f"en ({dub_source})", score_flaps(clips, speech)))
        return rows

    def subtitle_timing(self, source: str, language: str, value: Mapping[str, object]) -> None:
        """For a subtitle-sourced transcript: its segments' timing and speakers per kind, and
        the release's own cues of that language (when the truth has them) for comparison."""
        segments = parse_subtitle_segments(value)
        if segments is None:
            return
        spoken, name = self.truth.spoken(language), self.truth.name
        for kind, score in timing_scores(segments, spoken, name):
            self.subtitles.append(SubtitleRow(source, language, kind, score))
        cue_file = self.truth.cue_file(language)
        if cue_file is not None and (cues := self.cue_segments(cue_file.path)) is not None:
            score = score_timing(cues, spoken, name)
            self.subtitles.append(SubtitleRow(source, language, RAW, score, cue_file.path.name))

    def cue_segments(self, path: Path) -> tuple[SubSegment, ...] | None:
        """The cues of one of the truth's subtitle files, read once; None if unreadable."""
        if path not in self.cues:
            try:
                self.cues[path] = read_cue_segments(path)
            except OSError as exc:
                self.cues[path] = None
                self.notes.append(f"truth subtitles {path}: {exc.strerror or exc}")
            except ValueError as exc:
                self.cues[path] = None
                self.notes.append(f"truth subtitles {path}: {exc}")
        return self.cues[path]

    def separate(self, path: Path, source: str, language: str, stem: str) -> None:
        """SI-SDR of the estimate and of the mixture (dialogue + backing) against the stem."""
        stems = self.truth.stems.get(language)
        if stems is None or stems.backing is None:
            self.problems.append(f"{source}: the truth has no {language} dialogue+backing stems")
            return
        dialogue, backing = self.stem(stems.dialogue), self.stem(stems.backing)
        try:
            estimate = read_mono(path, self.truth.sample_rate)
        except ValueError as exc:
            self.problems.append(f"{source}: {exc}")
            return
        n = min(len(estimate), len(dialogue), len(backing))
        clean = dialogue[:n] if stem == "dialogue" else backing[:n]
        self.separation.append(
            SeparationRow(
                source,
                language,
                stem,
                n / self.truth.sample_rate,
                si_sdr(estimate[:n], clean),
                si_sdr(dialogue[:n] + backing[:n], clean),
            )
        )

    def dataset(self, root: Path) -> None:
        episodes: tuple[DatasetEpisode, ...] = ()
        annotations = root / ANNOTATIONS
        if annotations.is_file():
            source = self.source(annotations)
            try:
                episodes = parse_annotations(read_json(annotations))
                episode = select_episode(episodes, self.truth.show, self.truth.episode_number)
            except (ValueError, FieldError) as exc:
                self.problems.append(f"{source}: {exc}")
            else:
                spans = [c.span for c in episode.clips]
                self.clips.append(ClipsRow(source, score_clips(truth_clips(self.truth), spans)))
                for lang in ("ja", "en"):
                    segments = [
                        Segment(c.span.ja_start_ms, c.span.ja_end_ms, c.jp_text)
                        if lang == "ja"
                        else Segment(c.span.en_start_ms, c.span.en_end_ms, c.en_text)
                        for c in episode.clips
                    ]
                    self.asr.append(asr_row(self.truth, source, lang, segments))
        manifest = root / DATASET_MANIFEST
        source = self.source(manifest)
        try:
            listed = parse_dataset_manifest(manifest.read_bytes())
        except OSError as exc:
            self.problems.append(f"{source}: {exc.strerror or exc}")
            listed = ()
        except FieldError as exc:
            self.problems.append(f"{source}: {exc}")
            return
        result = check(root, listed, referenced_media(episodes))
        self.completeness.append(CompletenessRow(source, result))


def evaluate(truth_path: Path, result_path: Path) -> Report:
    """Load the truth, find the results under result_path, score each one.

    Raises EvalInputError for an unreadable or invalid truth, a missing result path, or when
    nothing under it is recognised. A malformed result file becomes a problem in the report.
    """
    truth = load_truth(truth_path)
    found = discover(result_path, truth.files())
    if not found.found and not found.problems:
        raise EvalInputError(f"nothing recognised under {result_path}")
    scoring = _Scoring(truth, found.root, problems=list(found.problems))
    for item in found.found:
        try:
            scoring.score(item)
        except FieldError as exc:
            scoring.problems.append(f"{scoring.source(item.path)}: {exc}")
    return Report(
        truth=str(truth_path),
        episode_id=truth.episode_id,
        result=str(result_path),
        asr=tuple(scoring.asr),
        subtitles=tuple(scoring.subtitles),
        diarization=tuple(scoring.diarization),
        separation=tuple(scoring.separation),
        clips=tuple(scoring.clips),
        offsets=tuple(scoring.offsets),
        completeness=tuple(scoring.completeness),
        dub=tuple(scoring.dub),
        faces=tuple(scoring.faces),
        quality=tuple(scoring.quality),
        flaps=tuple(scoring.flap_rows()),
        problems=tuple(scoring.problems),
        notes=(*found.notes, *scoring.notes),
        ignored=found.ignored,
    )
