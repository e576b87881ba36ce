"""The Spleeter backend: a pretrained 2-stem model run in its own Python environment.

Spleeter needs Python < 3.12, TensorFlow 2.12 and numpy < 2, so it lives in .venv-spleeter
(tools/setup_spleeter.sh) and runs spleeter_runner.py there; WAV files go both ways.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dubset_separation.core.model import BackendUnavailableError

REPO = Path(__file__).resolve().parents[4]
RUNNER = Path(__file__).resolve().with_name("spleeter_runner.py")
DEFAULT_PYTHON = REPO / ".venv-spleeter" / "bin" / "python"
STEMS = "2stems"
TIMEOUT_S = 4 * 3600


def model_checksum(model_dir: Path) -> str:
    """sha256 over the names and bytes of every file of the model (sorted)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(model_dir)).encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class SpleeterSeparator:
    """Runs Spleeter's own inference (spleeter.separator.Separator) on a local model directory."""

    name = "spleeter"

    def __init__(self, python: Path, model_dir: Path, *, threads: int = 2) -> None:
        self.python = python
        self.model_dir = model_dir
        self.threads = threads
        self.model = f"spleeter:{STEMS}"
        stems = model_dir / STEMS
        if not python.is_file():
            raise BackendUnavailableError(
                f"spleeter: no Python environment at {python}: run tools/setup_spleeter.sh or "
                "set DUBSET_SPLEETER_PYTHON"
            )
        if not (stems / "checkpoint").is_file():
            raise BackendUnavailableError(
                f"spleeter: {stems} holds no TensorFlow checkpoint (expected the pretrained "
                f"layout {STEMS}/checkpoint, model.index, model.data-*, params.json); nothing "
                "is downloaded"
            )
        self.checksum = model_checksum(stems)

    @classmethod
    def from_env(
        cls, model_dir: Path | None, env: Mapping[str, str] | None = None
    ) -> SpleeterSeparator:
        env = os.environ if env is None else env
        python = Path(env.get("DUBSET_SPLEETER_PYTHON") or DEFAULT_PYTHON)
        raw = model_dir or (
            Path(env["DUBSET_SPLEETER_MODEL_DIR"]) if env.get("DUBSET_SPLEETER_MODEL_DIR") else None
        )
        if raw is None:
            raise BackendUnavailableError(
                "spleeter: no model directory: pass --model-dir or set DUBSET_SPLEETER_MODEL_DIR "
                f"to a directory holding {STEMS}/"
            )
        return cls(python, raw)

    def describe(self) -> dict[str, object]:
        return {"model": self.model, "model_sha256": self.checksum, "stems": STEMS}

    def backing_file(self, mixture: Path, out: Path) -> Path:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", tempfile.gettempdir()),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_NUM_INTRAOP_THREADS": str(self.threads),
            "TF_NUM_INTEROP_THREADS": "1",
            "OMP_NUM_THREADS": str(self.threads),
            "CUDA_VISIBLE_DEVICES": "",
        }
        cmd = [
            str(self.python),
            str(RUNNER),
            "separate",
            "--model-dir",
            str(self.model_dir),
            "--input",
            str(mixture),
            "--output",
            str(out),
            "--threads",
            str(self.threads),
        ]
        try:
            done = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendUnavailableError(f"spleeter: the runner did not run: {exc}") from None
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise BackendUnavailableError(
                f"spleeter: the runner failed ({done.returncode}): {tail}"
            )
        return out
