"""TimeMap values and their dubset.v1.TimeMap messages."""

from __future__ import annotations

from dubset.v1 import common_pb2
from dubset_common.timemap import Piece, TimeMap


def timemap_to_proto(m: TimeMap) -> common_pb2.TimeMap:
    return common_pb2.TimeMap(
        pieces=[
            common_pb2.TimePiece(
                ja_start_ms=p.ja_start_ms,
                ja_end_ms=p.ja_end_ms,
                en_start_ms=p.en_start_ms,
                en_end_ms=p.en_end_ms,
                confidence=p.confidence,
            )
            for p in m.pieces
        ],
        ja_only=[common_pb2.TimeStretch(start_ms=s, end_ms=e) for s, e in m.ja_only],
        en_only=[common_pb2.TimeStretch(start_ms=s, end_ms=e) for s, e in m.en_only],
    )


def timemap_from_proto(m: common_pb2.TimeMap) -> TimeMap | None:
    """The map, or None when the message is empty (no map: the offset alone holds).
    TimeMapError when its pieces are not a map."""
    if not m.pieces:
        return None
    pieces = tuple(
        Piece(p.ja_start_ms, p.ja_end_ms, p.en_start_ms, p.en_end_ms, round(p.confidence, 4))
        for p in m.pieces
    )
    return TimeMap(
        pieces,
        tuple((s.start_ms, s.end_ms) for s in m.ja_only),
        tuple((s.start_ms, s.end_ms) for s in m.en_only),
    )
