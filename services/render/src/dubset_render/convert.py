"""The one place protobuf messages and render's values meet."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from dubset.v1 import render_pb2
from dubset_render.core.model import CONTAINERS, RenderInputError

DEFAULT_TITLE = "English (automatic dub)"
_TITLE = re.compile(r"^[^\x00-\x1f=;#\\]{1,80}$")


@dataclass(frozen=True)
class RenderParams:
    """Validated render params (hashed into the stage's output key)."""

    container: str
    audio_bitrate_kbps: int
    title: str
    duck_db: float
    ja_stream_index: int
    bed_duck_db: float = -18.0


def params_from_proto(p: render_pb2.RenderParams) -> RenderParams:
    container = p.container or "mkv"
    if container not in CONTAINERS:
        raise RenderInputError(f"container must be mkv or mp4, not {p.container!r:.20}")
    kbps = p.audio_bitrate_kbps or 192
    if not 64 <= kbps <= 512:
        raise RenderInputError(f"audio_bitrate_kbps must be 64..512, not {kbps}")
    title = p.title or DEFAULT_TITLE
    if not _TITLE.fullmatch(title):
        raise RenderInputError("title must be 1-80 printable characters without = ; # \\")
    duck = p.duck_db if p.HasField("duck_db") else -18.0
    if not math.isfinite(duck) or not -60.0 <= duck <= 0.0:
        raise RenderInputError(f"duck_db must be -60..0 dB, not {duck}")
    if p.ja_stream_index < 0:
        raise RenderInputError("ja_stream_index must not be negative")
    bed_duck = p.bed_duck_db if p.HasField("bed_duck_db") else -18.0
    if not math.isfinite(bed_duck) or not -60.0 <= bed_duck <= 0.0:
        raise RenderInputError(f"bed_duck_db must be -60..0 dB, not {bed_duck}")
    return RenderParams(container, kbps, title, duck, p.ja_stream_index, bed_duck)
