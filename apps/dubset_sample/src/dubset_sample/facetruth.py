"""truth.json's `picture`: the JA video's shots, every face on screen per frame, and mouths.

Computed from the same placements the filter graph draws with (ffgraph.sprite_placements),
so a face box here is where ffmpeg put the face, to within the overlay's pixel rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dubset_sample.art import ArtLibrary, Look
from dubset_sample.faceart import FACES, Box, Placement, visible, zoomed
from dubset_sample.ffgraph import logo_placement, sprite_placements, zoom_at
from dubset_sample.frames import FPS
from dubset_sample.shots import TITLE, Shot

LOGO = "logo"  # the "character" of a title card's face


def picture_truth(
    timed: Sequence[tuple[Shot, int]],
    looks: Mapping[str, Look],
    art: ArtLibrary,
    size: tuple[int, int],
) -> dict[str, object]:
    """The picture's truth: shots (frames), face tracks (a box per frame, None off frame) and
    each on-screen character's mouth-open spans (ms)."""
    shots: list[dict[str, object]] = []
    faces: list[dict[str, object]] = []
    mouths: dict[str, list[list[int]]] = {}
    first = 0
    for k, (shot, frames) in enumerate(timed):
        shots.append(
            {
                "index": k,
                "start_frame": first,
                "frames": frames,
                "start_ms": shot.start_ms,
                "motion": shot.motion,
                "characters": list(shot.characters),
            }
        )
        for who, face in _faces(shot, looks, art, size):
            boxes = [_frame_box(shot, face, f, frames, size) for f in range(frames)]
            if any(b is not None for b in boxes):
                faces.append({"shot": k, "character": who, "start_frame": first, "boxes": boxes})
        for who, spans in shot.mouths:
            mouths.setdefault(who, []).extend(
                [shot.start_ms + a, shot.start_ms + b] for a, b in spans
            )
        first += frames
    return {
        "video": "ja",
        "fps": f"{FPS.numerator}/{FPS.denominator}",
        "size": list(size),
        "frames": first,
        "shots": shots,
        "faces": faces,
        "mouths_open": {who: sorted(spans) for who, spans in sorted(mouths.items())},
    }


def _faces(
    shot: Shot, looks: Mapping[str, Look], art: ArtLibrary, size: tuple[int, int]
) -> list[tuple[str, tuple[Placement, Box]]]:
    if shot.motion == TITLE:
        return [(LOGO, (logo_placement(art, size), FACES[LOGO][0]))]
    return [
        (who, (placement, FACES[image.stem][0]))
        for who, image, placement in sprite_placements(shot, looks, art, size)
    ]


def _frame_box(
    shot: Shot, face: tuple[Placement, Box], frame: int, frames: int, size: tuple[int, int]
) -> list[int] | None:
    placement, box = face
    t = frame / float(FPS)
    at = placement.box_at(box, t)
    zoom = zoom_at(shot, frame, frames)
    if zoom != 1.0:
        at = zoomed(at, zoom, size)
    clipped = visible(at, size)
    return None if clipped is None else [round(v) for v in clipped]
