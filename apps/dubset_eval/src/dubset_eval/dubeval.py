"""Score a dub report (and the dubbed episode beside it) against the truth's human dub.

The timing and the voices come from the report alone; the rest needs the dubbed video: its
tracks are decoded, lined up with the truth by cross-correlating the Japanese track with the
truth's JA mixture (MKV and MP4 both start the audio a little late: AAC priming), then the
English track is recognised again, rated, and its bed compared with the truth's.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dubset_eval import dubaudio
from dubset_eval.dubaudio import UnavailableError
from dubset_eval.dubreport import DubReport, dubbed_video, parse_dub_report
from dubset_eval.dubrow import BedScore, DubRow
from dubset_eval.dubscore import (
    Match,
    character_spans,
    cut,
    dialogue_kept_db,
    lag_samples,
    match_lines,
    quiet_mask,
    shift,
    speech_spans,
    spoken_spans,
    timing,
    voices,
)
from dubset_eval.sisdr import si_sdr
from dubset_eval.text import wer
from dubset_eval.truth import Truth

LAG_WINDOW_S = 60  # of the start of the episode, cross-correlated
MAX_LAG_S = 1.0
MIN_BED_S = 0.5  # less quiet than this: no bed score
SIMILARITY_S = 20  # of each character's speech, at most, per embedding

Stem = Callable[[Path], NDArray[np.float64]]


@dataclass
class _Audio:
    truth: Truth
    report: DubReport
    matches: Sequence[Match]
    stem: Stem
    source: str
    notes: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.notes.append(f"{self.source}: {what}")

    def bed(
        self, eng: NDArray[np.float64], jpn: NDArray[np.float64]
    ) -> tuple[BedScore | None, NDArray[np.float64]]:
        """The bed's score, and the English track lined up with the truth."""
        stems, rate = self.truth.stems.get("ja"), self.truth.sample_rate
        if stems is None or stems.backing is None:
            self.note("the truth has no JA dialogue+backing stems: no lag or bed score")
            return None, eng
        dialogue, backing = self.stem(stems.dialogue), self.stem(stems.backing)
        m = min(len(dialogue), len(backing))
        mixture = dialogue[:m] + backing[:m]
        window = LAG_WINDOW_S * rate
        lag = lag_samples(jpn[:window], mixture[:window], int(MAX_LAG_S * rate))
        eng, jpn = shift(eng, lag), shift(jpn, lag)
        n = min(len(eng), len(jpn), len(backing))
        kept = dialogue_kept_db(eng, backing, dialogue)
        quiet = quiet_mask(n, rate, speech_spans(self.truth, self.report.lines))
        seconds = float(quiet.sum()) / rate
        if seconds < MIN_BED_S:
            self.note(f"only {seconds:.2f} s where nobody speaks: no bed SI-SDR")
            return BedScore(lag * 1000 / rate, seconds, None, None, kept), eng
        ref = backing[:n][quiet]
        score = BedScore(
            lag * 1000 / rate,
            seconds,
            si_sdr(eng[:n][quiet], ref),
            si_sdr(jpn[:n][quiet], ref),
            kept,
        )
        return score, eng

    def own_voice(self, speaker: str, language: str) -> NDArray[np.float64] | None:
        """Up to SIMILARITY_S of the character's own lines in the language, from the truth's
        clean dialogue stem; None without the stem or half a second of speech."""
        stems, rate = self.truth.stems.get(language), self.truth.sample_rate
        if stems is None:
            return None
        spans = spoken_spans(self.truth, speaker, language)
        clip = cut(self.stem(stems.dialogue), rate, spans, SIMILARITY_S)
        return clip if len(clip) >= rate // 2 else None

    def similarity(self, eng: NDArray[np.float64]) -> tuple[float | None, float | None]:
        """Mean over characters of the resemblyzer similarity of their dub voice to their JA
        voice and to their human EN voice (the truth's clean dialogue stems)."""
        rate = self.truth.sample_rate
        clips = {
            c: clip
            for c, spans in sorted(character_spans(self.matches).items())
            if len(clip := cut(eng, rate, spans, SIMILARITY_S)) >= rate // 2
        }
        embedded = dubaudio.embeddings(list(clips.values()), rate)
        voices = dict(zip(clips, embedded, strict=True))
        out: list[float | None] = []
        for language in ("ja", "en"):
            own = {c: x for c in voices if (x := self.own_voice(c, language)) is not None}
            refs = dubaudio.embeddings(list(own.values()), rate)
            scores = [float(np.dot(voices[c], e)) for c, e in zip(own, refs, strict=True)]
            out.append(float(np.mean(scores)) if scores else None)
        return out[0], out[1]

    def scores(self, video: Path, row: DubRow) -> DubRow:
        rate = self.truth.sample_rate
        try:
            ja_track, en_track = dubaudio.pick_tracks(dubaudio.audio_tracks(video))
            eng = dubaudio.decode(video, en_track, rate)
            jpn = dubaudio.decode(video, ja_track, rate)
        except UnavailableError as exc:
            self.note(f"{exc}: no audio scores")
            return row
        bed, eng = self.bed(eng, jpn)
        row = replace(row, bed=bed)
        try:
            with tempfile.TemporaryDirectory(prefix="dubset-eval-") as tmp:
                wav = Path(tmp) / "eng16k.wav"
                dubaudio.write_wav(wav, dubaudio.decode(video, en_track, dubaudio.ASR_RATE),
                                   dubaudio.ASR_RATE)  # fmt: skip
                heard = dubaudio.recognise(wav)
            said = " ".join(x.en_text for x in self.report.lines)
            row = replace(row, wer=wer(said, heard), heard=heard)
        except UnavailableError as exc:
            self.note(f"{exc}: no re-recognition WER")
        clips = [cut(eng, rate, [(x.start_ms, x.end_ms)], 60) for x in self.report.lines]
        try:
            row = replace(row, dnsmos=dubaudio.dnsmos(clips, rate))
        except UnavailableError as exc:
            self.note(f"{exc}: no DNSMOS")
        try:
            ja, en = self.similarity(eng)
            row = replace(row, similarity_ja=ja, similarity_en=en)
        except UnavailableError as exc:
            self.note(f"{exc}: no speaker similarity")
        return row


def score_dub(
    truth: Truth, path: Path, value: Mapping[str, object], source: str, stem: Stem
) -> tuple[DubRow, list[str]]:
    """The dub row of one report, and notes on the scores it lacks. FieldError for a malformed
    report."""
    report = parse_dub_report(value)
    matches = match_lines(report.lines, truth)
    row = DubRow(source, timing(len(report.lines), matches), voices(truth, report.lines, matches))
    audio = _Audio(truth, report, matches, stem, source)
    video = dubbed_video(path, report.container)
    if video is None:
        audio.note("no dubbed .mkv or .mp4 beside the report: no audio scores")
        return row, audio.notes
    return audio.scores(video, row), audio.notes
