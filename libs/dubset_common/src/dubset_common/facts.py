"""A stage's small typed facts: a plain value, its _manifest.json form and its wire form."""

from __future__ import annotations

from dataclasses import dataclass, fields

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError
from dubset_common.timemap import TimeMap, TimeMapError
from dubset_common.timemap_proto import timemap_to_proto


@dataclass(frozen=True)
class Facts:
    """What a stage measured that its callers act on (None: not reported). Deterministic like
    a manifest's info: facts are outputs, never hashed into a content key."""

    ja_offset_ms: int | None = None  # media: JA time = EN time + ja_offset_ms
    offset_confidence: float | None = None  # media: of that offset, 0..1
    segments: int | None = None  # asr
    turns: int | None = None  # diarization
    speakers: int | None = None  # diarization
    clips: int | None = None  # alignment, packaging, tts
    time_map: TimeMap | None = None  # media: when the timelines differ by more than an offset
    face_tracks: int | None = None  # faces
    face_clips: int | None = None  # faces

    def to_json(self) -> dict[str, object]:
        """The reported facts, for the manifest (empty when none)."""
        out = {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}
        if self.time_map is not None:
            out["time_map"] = self.time_map.to_json()
        return out

    def to_proto(self) -> common_pb2.StageFacts:
        facts = common_pb2.StageFacts(
            ja_offset_ms=self.ja_offset_ms,
            offset_confidence=self.offset_confidence,
            segments=self.segments,
            turns=self.turns,
            speakers=self.speakers,
            clips=self.clips,
            face_tracks=self.face_tracks,
            face_clips=self.face_clips,
        )
        if self.time_map is not None:
            facts.time_map.CopyFrom(timemap_to_proto(self.time_map))
        return facts

    @classmethod
    def from_json(cls, value: object) -> Facts:
        """A manifest's "facts"; names this version does not know (written by a newer stage)
        are left out, a known one of the wrong type is an IntegrityError."""
        if not isinstance(value, dict):
            raise IntegrityError("manifest facts is not a JSON object")
        return cls(
            ja_offset_ms=_int(value, "ja_offset_ms"),
            offset_confidence=_float(value, "offset_confidence"),
            segments=_int(value, "segments"),
            turns=_int(value, "turns"),
            speakers=_int(value, "speakers"),
            clips=_int(value, "clips"),
            time_map=_time_map(value),
            face_tracks=_int(value, "face_tracks"),
            face_clips=_int(value, "face_clips"),
        )


def _int(doc: dict[str, object], name: str) -> int | None:
    value = doc.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise IntegrityError(f"manifest facts.{name} is not an integer ({value!r:.40})")


def _float(doc: dict[str, object], name: str) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise IntegrityError(f"manifest facts.{name} is not a number ({value!r:.40})")


def _time_map(doc: dict[str, object]) -> TimeMap | None:
    value = doc.get("time_map")
    if value is None:
        return None
    try:
        return TimeMap.from_json(value, "manifest facts.time_map")
    except TimeMapError as exc:
        raise IntegrityError(str(exc)) from None
