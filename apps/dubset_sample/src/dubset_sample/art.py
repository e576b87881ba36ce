"""The episode's art: Ren'Py demo sprites and backgrounds, and each character's look."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

ART_ENV = "DUBSET_ART_DIR"
STAMP = ".dubset-art"
BACKGROUNDS: tuple[str, ...] = (
    "cave",
    "club",
    "lecturehall",
    "meadow",
    "uni",
    "washington",
    "whitehouse",
)
BASE_SPRITES: tuple[str, ...] = ("eileen", "lucy", "sylvie_blue", "sylvie_green")
# Hue shifts (degrees) for the 2nd, 3rd, ... use of a base sprite; chosen to read as new hair.
HUE_SHIFTS: tuple[int, ...] = (0, 280, 320, 40, 180, 100, 240, 140)


class ArtMissingError(FileNotFoundError):
    """The art directory is absent or incomplete; the message says how to get it."""


@dataclass(frozen=True)
class Look:
    """How one character is drawn: a base sprite, hue-shifted to tell reuses apart."""

    sprite: str
    hue_deg: int = 0


@dataclass(frozen=True)
class ArtLibrary:
    """The art on disk: background names and, per base sprite, its expression images."""

    root: Path
    backgrounds: tuple[str, ...]
    sprites: Mapping[str, tuple[Path, ...]]
    logo: Path

    @classmethod
    def load(cls, root: Path) -> ArtLibrary:
        """Index the art under root (as laid out by tools/fetch_art.sh)."""
        root = Path(root)
        if not (root / STAMP).is_file():
            raise ArtMissingError(_missing_message(root))
        backgrounds = tuple(sorted(p.stem for p in (root / "backgrounds").glob("*.jpg")))
        sprites = {name: _expressions(root, name) for name in BASE_SPRITES}
        logo = root / "title" / "logo.png"
        if set(BACKGROUNDS) - set(backgrounds) or not all(sprites.values()) or not logo.is_file():
            raise ArtMissingError(_missing_message(root) + " (incomplete)")
        return cls(root, backgrounds, MappingProxyType(sprites), logo)

    def sprite_size(self, path: Path) -> tuple[int, int]:
        """(width, height) of a PNG image, from its header."""
        with Path(path).open("rb") as f:
            head = f.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            raise ArtMissingError(f"{path} is not a PNG image")
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")

    def background_path(self, name: str) -> Path:
        """The image file of a background named in self.backgrounds."""
        if name not in self.backgrounds:
            raise KeyError(f"unknown background {name!r}; have {', '.join(self.backgrounds)}")
        return self.root / "backgrounds" / f"{name}.jpg"


def _expressions(root: Path, sprite: str) -> tuple[Path, ...]:
    return tuple(sorted((root / "sprites").glob(f"{sprite}_*.png")))


def _missing_message(root: Path) -> str:
    return f"art not found in {root}; run `make setup` or set {ART_ENV}"


def default_art_dir() -> Path:
    """$DUBSET_ART_DIR, else <venv>/share/dubset/art (where `make setup` puts it)."""
    env = os.environ.get(ART_ENV)
    if env:
        return Path(env)
    return Path(sys.prefix) / "share" / "dubset" / "art"


def look_for(index: int) -> Look:
    """The look of the index-th character: distinct for the first len(BASE)*len(HUES)."""
    if index < 0:
        raise ValueError(f"character index must be >= 0, got {index}")
    reuse, base = divmod(index, len(BASE_SPRITES))
    return Look(BASE_SPRITES[base], HUE_SHIFTS[reuse % len(HUE_SHIFTS)])
