"""Anime faces by animeface (the embedded backend: nagadomi's lbpcascade-era detector whose
model ships inside the wheel). It needs Pillow < 12: with 12 or later it runs and silently
finds nothing, so loading refuses such a Pillow."""

from __future__ import annotations

from collections.abc import Sequence

from dubset_common.errors import ConfigError
from dubset_faces.core.model import Detection, Frame

MIN_LIKELIHOOD = 0.6  # the paper's conservative confidence threshold


def check_runtime() -> None:
    """Raise ConfigError when animeface cannot work here (missing, or a Pillow it fails on)."""
    try:
        import animeface  # noqa: F401
        import PIL
    except ImportError as exc:
        raise ConfigError(f"the animeface backend is not installed ({exc})") from None
    major = int(PIL.__version__.split(".")[0])
    if major >= 12:
        raise ConfigError(
            f"animeface finds no faces with Pillow {PIL.__version__} (it needs Pillow < 12): "
            "install pillow<12"
        )


class AnimeFaceDetector:
    name = "animeface"

    def __init__(self, min_likelihood: float = MIN_LIKELIHOOD) -> None:
        check_runtime()
        self.min_likelihood = min_likelihood

    def detect(self, frame: Frame) -> Sequence[Detection]:
        import animeface
        from PIL import Image

        found = animeface.detect(Image.fromarray(frame))
        out = []
        for face in found:
            if face.likelihood < self.min_likelihood:
                continue
            b, m = face.face.pos, face.mouth.pos
            out.append(
                Detection(
                    (float(b.x), float(b.y), float(b.width), float(b.height)),
                    round(float(face.likelihood), 4),
                    (float(m.x), float(m.y), float(m.width), float(m.height)),
                )
            )
        return out
