"""lines.json (+ translation.json) → the lines spoken, their SRT, and the per-line report."""

from __future__ import annotations

from collections.abc import Sequence

from dubset_common.jsondoc import load_object
from dubset_common.subtitles import Cue, to_srt
from dubset_render.core.model import Levels, RenderInputError, SpokenLine

INT_FIELDS = ("index", "ja_start_ms", "ja_end_ms", "start_ms", "end_ms", "over_ms")


def _ja_texts(translation: bytes | None) -> list[str]:
    if translation is None:
        return []
    doc = load_object(translation, "translation.json", RenderInputError)
    lines = doc.get("lines")
    if not isinstance(lines, list):
        raise RenderInputError("translation.json: lines must be a list")
    return [str(x.get("ja_text", "")) if isinstance(x, dict) else "" for x in lines]


def parse_spoken(data: bytes, translation: bytes | None = None) -> list[SpokenLine]:
    """The spoken lines of the tts stage's lines.json, in time order."""
    doc = load_object(data, "lines.json", RenderInputError)
    raw = doc.get("lines")
    if not isinstance(raw, list):
        raise RenderInputError("lines.json: lines must be a list")
    ja = _ja_texts(translation)
    out = []
    for i, item in enumerate(raw):
        where = f"lines.json lines[{i}]"
        if not isinstance(item, dict):
            raise RenderInputError(f"{where} must be an object")
        ints = [item.get(k) for k in INT_FIELDS]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
            raise RenderInputError(f"{where}: {', '.join(INT_FIELDS)} must be whole ms >= 0")
        index, ja_start, ja_end, start, end, over = (int(str(v)) for v in ints)
        if end < start:
            raise RenderInputError(f"{where} ends before it starts")
        out.append(
            SpokenLine(
                index=index,
                speaker=str(item.get("speaker", "")),
                voice=str(item.get("voice", "")),
                en_text=str(item.get("en_text", "")),
                ja_text=ja[index] if index < len(ja) else "",
                ja_start_ms=ja_start,
                ja_end_ms=ja_end,
                start_ms=start,
                end_ms=end,
                stretch=float(item.get("stretch", 1.0)),
                fits=bool(item.get("fits", True)),
                over_ms=over,
                flaps=_flaps(item.get("flaps"), where),
            )
        )
    return sorted(out, key=lambda x: (x.start_ms, x.index))


def _flaps(value: object, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):  # fmt: skip
        raise RenderInputError(f"{where}.flaps must be [start_ms, end_ms]")
    return int(value[0]), int(value[1])


def spoken_srt(lines: Sequence[SpokenLine]) -> str:
    """What is spoken, when it is spoken: the English subtitles of the dub."""
    cues = [Cue(x.start_ms, max(x.end_ms, x.start_ms + 1), x.en_text) for x in lines if x.en_text]
    return to_srt(cues)


def report(lines: Sequence[SpokenLine], levels: Levels, container: str) -> dict[str, object]:
    return {
        "format": "dubset-dub-report/1",
        "container": container,
        "levels": {
            "bed": levels.bed,
            "target_lufs": round(levels.target_lufs, 2),
            "speech_lufs": round(levels.speech_lufs, 2),
            "speech_gain_db": round(levels.speech_gain_db, 2),
            "mix_lufs": round(levels.mix_lufs, 2),
            "mix_true_peak_dbtp": round(levels.mix_true_peak_dbtp, 2),
        },
        "lines": [
            {"index": x.index, "speaker": x.speaker, "voice": x.voice, "ja_text": x.ja_text,
             "en_text": x.en_text, "ja_start_ms": x.ja_start_ms, "ja_end_ms": x.ja_end_ms,
             "start_ms": x.start_ms, "end_ms": x.end_ms,
             "start_offset_ms": x.start_ms - x.ja_start_ms, "stretch": x.stretch,
             "fits": x.fits, "over_ms": x.over_ms,
             **({"flaps": list(x.flaps), "flap_start_offset_ms": x.start_ms - x.flaps[0]}
                if x.flaps is not None else {})}
            for x in lines
        ],
        "unfit": [x.index for x in lines if not x.fits],
    }  # fmt: skip
