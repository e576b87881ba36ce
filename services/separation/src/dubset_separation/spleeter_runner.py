"""Spleeter inference inside .venv-spleeter: a mono WAV in, the accompaniment WAV out.

Run by dubset_separation.spleeter with that environment's Python; imports nothing of dubset.
The model directory holds the standard pretrained layout <dir>/2stems/{checkpoint, model.index,
model.data-*, params.json}; its params point Spleeter's ModelProvider at that absolute path,
which exists, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from typing import Any

STEMS = "2stems"
CHUNK_S = 30.0
MARGIN_S = 2.0


def load_separator(model_dir: str) -> Any:
    os.environ["MODEL_PATH"] = model_dir
    from spleeter.separator import Separator  # type: ignore[import-not-found, unused-ignore]
    from spleeter.utils.configuration import (  # type: ignore[import-not-found, unused-ignore]
        load_configuration,
    )

    stems_dir = os.path.abspath(os.path.join(model_dir, STEMS))
    own = os.path.join(stems_dir, "params.json")
    params = load_configuration(own if os.path.isfile(own) else f"spleeter:{STEMS}")
    params["model_dir"] = stems_dir
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(params, f)
    try:
        return Separator(f.name, MWF=False, multiprocess=False)
    finally:
        os.unlink(f.name)


def separate(model_dir: str, src: str, dst: str) -> None:
    import numpy as np
    import soundfile as sf  # type: ignore[import-not-found, unused-ignore]
    from scipy.signal import resample_poly  # type: ignore[import-not-found, unused-ignore]

    separator = load_separator(model_dir)
    model_rate = int(separator._params["sample_rate"])
    accompaniment = separator._params["instrument_list"][-1]
    with sf.SoundFile(src) as fin:
        rate, n = fin.samplerate, fin.frames
        g = math.gcd(rate, model_rate)
        up, down = model_rate // g, rate // g
        chunk, margin = int(CHUNK_S * rate), int(MARGIN_S * rate)
        with sf.SoundFile(dst, "w", samplerate=rate, channels=1, subtype="FLOAT") as fout:
            for start in range(0, n, chunk):
                lo, hi = max(0, start - margin), min(n, start + chunk + margin)
                fin.seek(lo)
                x = fin.read(hi - lo, dtype="float32", always_2d=True).mean(axis=1)
                y = resample_poly(x, up, down) if up != down else x
                stereo = np.stack([y, y], axis=1).astype(np.float32)
                est = separator.separate(stereo)[accompaniment].mean(axis=1)
                back = resample_poly(est, down, up) if up != down else est
                back = np.pad(back, (0, max(0, (hi - lo) - len(back))))[: hi - lo]
                keep = back[start - lo : min(n, start + chunk) - lo]
                fout.write(keep.astype(np.float32))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="spleeter_runner")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("separate")
    s.add_argument("--model-dir", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    import tensorflow as tf  # type: ignore[import-not-found, unused-ignore]

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    separate(args.model_dir, args.input, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
