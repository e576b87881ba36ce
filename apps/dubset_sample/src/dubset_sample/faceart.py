"""Where each sprite's face and mouth are, and where a sprite sits in a shot's frames (pure).

The boxes are in the sprite image's own pixels (x, y, width, height), drawn by hand from the
Ren'Py art and checked on a contact sheet: the face box spans brows to chin, the mouth box the
closed mouth. The picture (ffgraph) and the truth (facetruth) both place sprites with
`Placement`, so the boxes written to truth.json are where ffmpeg drew the faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

Box = tuple[float, float, float, float]

# expression image stem -> (face box, mouth box), in the sprite's pixels
FACES: dict[str, tuple[Box, Box]] = {
    "eileen_concerned": ((83, 103, 166, 166), (148, 220, 24, 12)),
    "eileen_happy": ((83, 103, 166, 166), (147, 221, 24, 12)),
    "eileen_vhappy": ((83, 103, 166, 166), (145, 220, 27, 16)),
    "lucy_happy": ((158, 126, 127, 127), (206, 215, 22, 11)),
    "sylvie_blue_giggle": ((94, 47, 127, 127), (146, 135, 26, 10)),
    "sylvie_blue_normal": ((101, 57, 116, 116), (150, 139, 20, 10)),
    "sylvie_blue_smile": ((101, 57, 116, 116), (147, 139, 25, 15)),
    "sylvie_blue_surprised": ((101, 57, 116, 116), (150, 139, 19, 10)),
    "sylvie_green_giggle": ((131, 65, 106, 106), (174, 139, 19, 10)),
    "sylvie_green_normal": ((126, 47, 127, 127), (173, 138, 20, 12)),
    "sylvie_green_smile": ((126, 47, 127, 127), (172, 138, 22, 15)),
    "sylvie_green_surprised": ((126, 47, 127, 127), (173, 138, 18, 11)),
    "logo": ((63, 79, 127, 127), (117, 168, 15, 8)),
}
# Expressions whose mouth is drawn wide open: no flap could be drawn on them, so shots never
# use them.
OPEN_MOUTHED = frozenset({"lucy_mad"})
MOUTH_ASPECT = 0.72  # an open mouth's height over its width
MOUTH_WIDEN = 1.15  # an open mouth is this much wider than the closed one


def mouth_image() -> Path:
    """The open-mouth overlay (a dark ellipse with a tongue), scaled onto each sprite."""
    return Path(str(resources.files("dubset_sample") / "data" / "mouth_open.png"))


def even(value: float) -> int:
    return 2 * round(value / 2)


def scaled_width(native: tuple[int, int], height: int) -> int:
    """ffmpeg's `scale=-2:height` width for an image of native (width, height)."""
    return 2 * round(native[0] * height / (native[1] * 2))


@dataclass(frozen=True)
class Placement:
    """One sprite in one shot: its size, resting top-left, and how it moves with time t (s)."""

    x0: float  # left edge at rest
    y0: float  # top edge at rest
    scale: float  # frame pixels per sprite pixel
    drift: float = 0.0  # px/s (pans: parallax)
    slide: float = 0.0  # px offset at t=0 decaying to 0 over SLIDE_S (static shots)
    bob: float = 0.0  # px amplitude of a bob at bob_hz
    bob_hz: float = 1.4

    SLIDE_S = 0.6

    def dx(self, t: float) -> float:
        return self.drift * t + self.slide * max(0.0, 1 - t / self.SLIDE_S) ** 2

    def dy(self, t: float) -> float:
        return self.bob * math.sin(2 * math.pi * self.bob_hz * t)

    def expr_x(self, offset: float = 0.0) -> str:
        """The ffmpeg overlay x expression of the sprite's point `offset` px from its left."""
        x = f"{self.x0 + offset:.2f}"
        if self.drift:
            x += f"{self.drift:+.3f}*t"
        if self.slide:
            x += f"{self.slide:+.2f}*pow(max(0,1-t/{self.SLIDE_S}),2)"
        return x

    def expr_y(self, offset: float = 0.0) -> str:
        y = f"{self.y0 + offset:.2f}"
        if self.bob:
            y += f"+{self.bob:.2f}*sin(2*PI*{self.bob_hz}*t)"
        return y

    def box_at(self, box: Box, t: float) -> Box:
        """A box in the sprite's pixels, in frame pixels at shot time t (before any zoom)."""
        bx, by, bw, bh = box
        s = self.scale
        return (self.x0 + self.dx(t) + bx * s, self.y0 + self.dy(t) + by * s, bw * s, bh * s)


def zoomed(box: Box, zoom: float, size: tuple[int, int]) -> Box:
    """A frame box after zoompan's centred zoom (x = iw/2 - iw/zoom/2)."""
    w, h = size
    ox, oy = w / 2 - w / zoom / 2, h / 2 - h / zoom / 2
    x, y, bw, bh = box
    return ((x - ox) * zoom, (y - oy) * zoom, bw * zoom, bh * zoom)


def visible(box: Box, size: tuple[int, int], min_share: float = 0.5) -> Box | None:
    """The box clipped to the frame, or None when less than min_share of it is in frame."""
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(size[0]), x + w), min(float(size[1]), y + h)
    if x2 <= x1 or y2 <= y1 or (x2 - x1) * (y2 - y1) < min_share * w * h:
        return None
    return (x1, y1, x2 - x1, y2 - y1)


def mouth_overlay(mouth: Box, scale: float) -> tuple[int, int, float, float]:
    """(width, height, left offset, top offset) of the open mouth drawn over a closed one,
    in frame pixels relative to the sprite's top-left."""
    mx, my, mw, mh = mouth
    width = max(4, even(mw * scale * MOUTH_WIDEN))
    height = max(2, even(width * MOUTH_ASPECT))
    cx, cy = (mx + mw / 2) * scale, (my + mh / 2) * scale
    return width, height, cx - width / 2, cy - height / 2
