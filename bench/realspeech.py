"""Diarization on real recordings with reference turns: the speech nobody here made.

The recordings ship in pyannote.audio's PyPI distributions (MIT), fetched once with pip into
--cache (no model hub, no other network):

    conversation   the wheel's pyannote/audio/sample/sample.{wav,rttm}: a 30 s two-person
                   English telephone conversation, 10 reference turns, 1.9 s overlapped
    ami-*          the sdist's tests/data: 14 real meeting excerpts (AMI Meeting Corpus
                   participant labels) of 30 s each, 1-4 speakers, much overlap, in
                   debug.{train,development,test}.rttm

`dubset diarize FILE --lang en` (the embedded backend, speaker count estimated) runs on each,
and DER is scored as `dubset eval` scores it (dubset_eval.der: optimal mapping, overlap scored)
with a 250 ms collar and with none. Thresholds may be tuned on the `ami-trn*` files only; the
conversation and `ami-dev*`/`ami-tst*` are held out (docs/quality.md).

Run with the venv's Python: it imports dubset_eval.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dubset_eval.der import Turn, diarization_error

ROOT = Path(__file__).resolve().parents[1]
DUBSET = ROOT / ".venv" / "bin" / "dubset"
PIP = ROOT / ".venv" / "bin" / "pip"
PYANNOTE = "pyannote.audio==4.0.7"
DEFAULT_CACHE = Path.home() / ".cache" / "dubset" / "fixtures" / "pyannote-audio-4.0.7"
COLLARS_MS = (250, 0)


@dataclass(frozen=True)
class Recording:
    name: str
    wav: Path
    reference: tuple[Turn, ...]
    duration_ms: int
    held_out: bool


def _fold(text: str) -> str:
    """ASCII-folded: the sdist names a file trñ00 but its turns trn00."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def read_rttm(text: str) -> dict[str, list[Turn]]:
    """RTTM SPEAKER lines by (ASCII-folded) file id."""
    out: dict[str, list[Turn]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise ValueError(f"RTTM line {number}: fewer than 8 fields")
        start = round(float(fields[3]) * 1000)
        out.setdefault(_fold(fields[1]), []).append(
            Turn(fields[7], start, start + round(float(fields[4]) * 1000))
        )
    return out


def _pip_download(cache: Path, *extra: str) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    argv = [str(PIP), "download", "--no-deps", "--dest", str(cache), *extra, PYANNOTE]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return cache


def fetch(cache: Path) -> Path:
    """The fixture folder: sample.{wav,rttm} and tests/data, extracted once."""
    done = cache / "extracted"
    if (done / "sample.rttm").is_file() and (done / "data").is_dir():
        return done
    done.mkdir(parents=True, exist_ok=True)
    if not list(cache.glob("pyannote_audio-*.whl")):
        _pip_download(cache, "--only-binary", ":all:")
    if not list(cache.glob("pyannote_audio-*.tar.gz")):
        _pip_download(cache, "--no-binary", "pyannote.audio")
    with zipfile.ZipFile(next(cache.glob("pyannote_audio-*.whl"))) as wheel:
        for name in ("sample.wav", "sample.rttm"):
            (done / name).write_bytes(wheel.read(f"pyannote/audio/sample/{name}"))
    with tarfile.open(next(cache.glob("pyannote_audio-*.tar.gz"))) as sdist:
        (done / "data").mkdir(exist_ok=True)
        for member in sdist.getmembers():
            parts = Path(member.name).parts
            wanted = len(parts) == 4 and parts[1:3] == ("tests", "data")
            if wanted and member.isfile() and parts[3].endswith((".wav", ".rttm")):
                source = sdist.extractfile(member)
                assert source is not None
                (done / "data" / parts[3]).write_bytes(source.read())
    return done


def recordings(folder: Path) -> list[Recording]:
    out = [
        Recording(
            "conversation",
            folder / "sample.wav",
            tuple(read_rttm((folder / "sample.rttm").read_text())["sample"]),
            30000,
            held_out=True,
        )
    ]
    turns: dict[str, list[Turn]] = {}
    for rttm in sorted((folder / "data").glob("*.rttm")):
        turns |= read_rttm(rttm.read_text(encoding="utf-8"))
    for wav in sorted((folder / "data").glob("*.wav")):
        uri = _fold(wav.stem)
        if uri in turns:
            held_out = not uri.startswith("trn")
            out.append(Recording(f"ami-{uri}", wav, tuple(turns[uri]), 30000, held_out))
    return out


def diarize(wav: Path, extra: list[str]) -> list[Turn]:
    argv = [str(DUBSET), "diarize", str(wav), "--lang", "en", "--quiet", *extra]
    doc = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    return [Turn(t["speaker"], t["start_ms"], t["end_ms"]) for t in doc["turns"]]


def score(rec: Recording, hyp: list[Turn]) -> dict[str, object]:
    row: dict[str, object] = {"name": rec.name, "held_out": rec.held_out}
    for collar in COLLARS_MS:
        d = diarization_error(
            list(rec.reference), hyp, collar_ms=collar, duration_ms=rec.duration_ms
        )
        row[f"der_c{collar}"] = round(d.der, 4) if d.der is not None else None
        if collar == COLLARS_MS[0]:
            row |= {
                "miss_ms": d.miss_ms,
                "false_alarm_ms": d.false_alarm_ms,
                "confusion_ms": d.confusion_ms,
                "ref_speakers": d.ref_speakers,
                "hyp_speakers": d.hyp_speakers,
            }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "realspeech.json")
    parser.add_argument("--only", help="comma-separated names (conversation, ami-trn01, ...)")
    parser.add_argument("--diarize-args", default="", help="extra `dubset diarize` arguments")
    args = parser.parse_args(argv)
    recs = recordings(fetch(args.cache))
    if args.only:
        recs = [r for r in recs if r.name in set(args.only.split(","))]
    rows = []
    for rec in recs:
        row = score(rec, diarize(rec.wav, args.diarize_args.split()))
        rows.append(row)
        print(
            f"{rec.name:<16} {'held-out' if rec.held_out else 'tuning':<9} "
            f"DER {row['der_c250']:.1%} (no collar {row['der_c0']:.1%})  speakers "
            f"{row['hyp_speakers']}/{row['ref_speakers']}",
            flush=True,
        )
    report = {"fixture": PYANNOTE, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
