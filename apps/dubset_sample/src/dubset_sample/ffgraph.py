"""The ffmpeg filter graph (pure) that draws a picture's shots: backgrounds, sprites, moves."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dubset_sample.art import ArtLibrary, Look
from dubset_sample.faceart import (
    FACES,
    OPEN_MOUTHED,
    Placement,
    mouth_image,
    mouth_overlay,
    scaled_width,
)
from dubset_sample.frames import FPS
from dubset_sample.shots import TITLE, Shot

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
    for j, (label, x, y, on) in enumerate(sprites, start=1):
        parts.append(f"[{label}]{_still(frames)}[k{k}s{j}]")
        enable = f":enable='{on}'" if on else ""
        parts.append(f"[{layer}][k{k}s{j}]overlay=x='{x}':y='{y}':format=yuv420{enable}[k{k}b{j}]")
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
) -> list[tuple[str, str, str, str]]:
    """(link, x, y, enable) per layer: each character on screen (its expression, position,
    moves) and, while they speak, their open mouth over the closed one."""
    w, h = graph.width, graph.height
    layers = []
    mouths = dict(shot.mouths)
    for who, image, placement in sprite_placements(shot, looks, art, (w, h)):
        label = graph.use(_sprite(image, looks[who].hue_deg, h))
        layers.append((label, placement.expr_x(), placement.expr_y(), ""))
        flaps = mouths.get(who)
        if flaps:
            mw, mh, ox, oy = mouth_overlay(FACES[image.stem][1], placement.scale)
            mouth = graph.use(Still(mouth_image(), f"scale={mw}:{mh},format=yuva420p"))
            on = "+".join(f"between(t,{a / 1000:.3f},{b / 1000:.3f})" for a, b in flaps)
            layers.append((mouth, placement.expr_x(ox), placement.expr_y(oy), on))
    return layers


def sprite_placements(
    shot: Shot, looks: Mapping[str, Look], art: ArtLibrary, size: tuple[int, int]
) -> list[tuple[str, Path, Placement]]:
    """(character, expression image, placement) per character on screen, main first."""
    w, h = size
    centres = _centres(shot, w)
    height = _even(h * _SPRITE_HEIGHT)
    out = []
    for j, who in enumerate(shot.characters):
        expressions = [p for p in art.sprites[looks[who].sprite] if p.stem not in OPEN_MOUTHED]
        image = expressions[_shot_hash(shot, who) % len(expressions)]
        native = art.sprite_size(image)
        width = scaled_width(native, height)
        placement = Placement(
            x0=centres[j] - width / 2,
            y0=h - height + h * 0.03,
            scale=height / native[1],
            drift=_drift(shot.motion, w),
            slide=(-1 if j == 0 else 1) * 0.05 * w if shot.motion == "static" else 0.0,
            bob=h * 0.008 if j == 0 and shot.motion not in ("still",) else 0.0,
        )
        out.append((who, image, placement))
    return out


def zoom_at(shot: Shot, frame: int, frames: int) -> float:
    """zoompan's zoom at a shot's frame (1 unless zoom_in)."""
    return 1 + _ZOOM * frame / frames if shot.motion == "zoom_in" else 1.0


def _shot_hash(shot: Shot, salt: str) -> int:
    """A stable hash of what a shot shows, not of when: shifted shots render the same."""
    key = f"{salt}|{shot.background}|{shot.end_ms - shot.start_ms}|{shot.characters}|{shot.motion}"
    return zlib.crc32(key.encode())


def _centres(shot: Shot, w: int) -> list[int]:
    if len(shot.characters) >= 2:
        sides = [round(w * 0.3), round(w * 0.7)]
        return sides[::-1] if shot.flip else sides
    slot = (_shot_hash(shot, "slot") + shot.flip) % 3
    return [round(w * (0.36, 0.5, 0.64)[slot])]


def _drift(motion: str, w: int) -> float:
    """Sprites drift against a pan (parallax), px/s."""
    speed = _PAN_SPEED * w * 0.5
    return {"pan_right": -speed, "pan_left": speed}.get(motion, 0.0)


def _sprite(path: Path, hue_deg: int, h: int) -> Still:
    prep = f"scale=-2:{_even(h * _SPRITE_HEIGHT)},format=yuva420p"
    if hue_deg % 360:
        prep += f",hue=h={hue_deg % 360}"
    return Still(path, prep)


def _title_layers(graph: FilterGraph, art: ArtLibrary) -> list[tuple[str, str, str, str]]:
    prep = f"scale=-2:{_even(graph.height * 0.8)},format=yuva420p"
    label = graph.use(Still(art.logo, prep))
    place = logo_placement(art, (graph.width, graph.height))
    return [(label, place.expr_x(), place.expr_y(), "")]


def logo_placement(art: ArtLibrary, size: tuple[int, int]) -> Placement:
    """Where a title card draws the logo: centred, bobbing slowly."""
    w, h = size
    height = _even(h * 0.8)
    native = art.sprite_size(art.logo)
    width = scaled_width(native, height)
    return Placement(
        x0=(w - width) / 2,
        y0=(h - height) / 2,
        scale=height / native[1],
        bob=h * 0.015,
        bob_hz=0.5,
    )


def _even(value: float) -> int:
    return 2 * round(value / 2)
