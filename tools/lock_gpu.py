"""Resolve requirements/gpu.in into requirements/gpu-lock.txt for the GPU images.

    .venv/bin/python tools/lock_gpu.py             # rewrite requirements/gpu-lock.txt
    .venv/bin/python tools/lock_gpu.py --spleeter  # rewrite requirements/spleeter-lock.txt

pip resolves gpu.in for the images' platform (CPython 3.11, manylinux_2_28 x86_64, wheels only)
with requirements/lock.txt as constraint, minus the torch family that the GPU images replace,
so every library the CPU and GPU images share has one version. The lock lists what the GPU
images add or change.

Some of torch's CUDA wheels (nvidia-*-cu12, cuda-bindings, triton) are not on the package
mirror of the machines this project is developed on. torch pins each of them exactly (`==`) in
its own metadata, so their versions are known; for the resolution only, the script puts an
empty placeholder wheel of that exact name and version in a temporary find-links folder, and
marks those lines in the lock. Where the real wheels are reachable, no placeholder is made.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_IN = ROOT / "requirements" / "gpu.in"
GPU_LOCK = ROOT / "requirements" / "gpu-lock.txt"
MAIN_LOCK = ROOT / "requirements" / "lock.txt"
SPLEETER_IN = ROOT / "requirements" / "spleeter.txt"
SPLEETER_LOCK = ROOT / "requirements" / "spleeter-lock.txt"
# Replaced in the GPU images (CUDA builds); everything else keeps the main lock's version.
TORCH_FAMILY = frozenset({"torch", "torchaudio", "torchcodec"})
# glibc 2.28 or newer (the images are Debian 12 and Ubuntu 24.04): every manylinux tag up to 2_28.
PLATFORM = [
    *(f"--platform=manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)),
    *("--platform=manylinux2014_x86_64", "--platform=manylinux2010_x86_64"),
    *("--platform=manylinux1_x86_64", "--python-version=3.11"),
]
MISSING = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)==([^\s;)]+)")
MAX_ROUNDS = 40


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (comments and options ignored)."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        name, sep, version = line.partition("==")
        if sep and not line.startswith("-"):
            pins[canonical(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def placeholder_wheel(folder: Path, name: str, version: str) -> None:
    """An empty wheel that only carries the name and version, for the resolver."""
    dist = f"{re.sub(r'[-.]+', '_', name)}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    wheel = (
        "Wheel-Version: 1.0\nGenerator: dubset-lock-gpu\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as zf:
        zf.writestr(f"{dist}.dist-info/METADATA", meta)
        zf.writestr(f"{dist}.dist-info/WHEEL", wheel)
        zf.writestr(f"{dist}.dist-info/RECORD", "")


def _missing(output: str, main: dict[str, str]) -> tuple[str, str] | None:
    """The name and version of a distribution pip could not find as a wheel: one pinned by
    torch, or a pure-Python sdist-only one the main lock pins (wheels only, for --platform)."""
    found = MISSING.search(output)
    if found:
        return found.group(1), found.group(2)
    _, marker, rest = output.partition("no matching distributions available for your environment:")
    names = rest.split("\n\n", 1)[0].split() if marker else []
    for name in names:
        if canonical(name) in main:
            return name, main[canonical(name)]
    return None


def resolve(work: Path, wanted: Path, main: dict[str, str]) -> tuple[dict[str, str], set[str]]:
    """(name -> version of everything `wanted` installs under the `main` pins as constraints,
    names resolved through placeholders)."""
    constraints = work / "constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(main.items())))
    stubs = work / "stubs"
    stubs.mkdir()
    placeheld: set[str] = set()
    report = work / "report.json"
    for _ in range(MAX_ROUNDS):
        cmd = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--report", str(report), "--target", str(work / "target"), *PLATFORM,
            "--implementation", "cp", "--only-binary=:all:", "--find-links", str(stubs),
            "-r", str(wanted), "-c", str(constraints),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            installs = json.loads(report.read_text())["install"]
            pins = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
            return pins, placeheld
        found = _missing(done.stdout + done.stderr, main)
        if found is None or canonical(found[0]) in placeheld:
            errors = [
                e for e in (done.stdout + done.stderr).splitlines() if not e.startswith("WARNING:")
            ]
            sys.exit(f"lock_gpu: pip could not resolve {wanted.name}:\n" + "\n".join(errors[-40:]))
        name, version = found
        print(f"lock_gpu: {name}=={version} is not on this mirror; placeholder for resolution")
        placeholder_wheel(stubs, name, version)
        placeheld.add(canonical(name))
    sys.exit(f"lock_gpu: gave up after {MAX_ROUNDS} rounds")


def render(pins: dict[str, str], placeheld: set[str]) -> str:
    main = read_pins(MAIN_LOCK)
    lines = [
        "# The GPU images' additions to requirements/lock.txt; generated by tools/lock_gpu.py",
        "# from requirements/gpu.in, for CPython 3.11 on manylinux_2_28 x86_64. Do not edit.",
        "# The images install with lock.txt minus torch/torchaudio/torchcodec plus these lines.",
        "# `placeholder` marks a wheel that was not on the locking machine's mirror (its version",
        "# is torch's own exact pin) or a package that only ships an sdist (the main lock's pin).",
    ]
    for name in sorted(pins):
        if name in main and name not in TORCH_FAMILY:
            if main[name] != pins[name]:
                sys.exit(
                    f"lock_gpu: {name} resolved to {pins[name]}, the main lock has {main[name]}"
                )
            continue
        note = "  # placeholder" if name in placeheld else ""
        lines.append(f"{name}=={pins[name]}{note}")
    return "\n".join(lines) + "\n"


def render_spleeter(pins: dict[str, str]) -> str:
    lines = [
        "# The Spleeter image's second venv (/opt/spleeter): every package that",
        "# requirements/spleeter.txt installs, for CPython 3.11 on manylinux_2_28 x86_64; made by",
        "# `tools/lock_gpu.py --spleeter`. Do not edit. spleeter itself goes in with --no-deps.",
        *(f"{name}=={pins[name]}" for name in sorted(pins)),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--spleeter", action="store_true", help=f"lock {SPLEETER_IN.name} into {SPLEETER_LOCK.name}"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dubset-lock-gpu-") as tmp:
        if args.spleeter:
            pins, _ = resolve(Path(tmp), SPLEETER_IN, {})
            out, text = SPLEETER_LOCK, render_spleeter(pins)
        else:
            main = {n: v for n, v in read_pins(MAIN_LOCK).items() if n not in TORCH_FAMILY}
            pins, placeheld = resolve(Path(tmp), GPU_IN, main)
            out, text = GPU_LOCK, render(pins, placeheld)
    out.write_text(text)
    print(f"lock_gpu: {len(pins)} packages resolved; wrote {out}")


if __name__ == "__main__":
    main()
