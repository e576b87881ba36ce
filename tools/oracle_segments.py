"""Print one language's truth lines as ASR-style segments (an oracle transcript for demos)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("ja", "en"):
        print("usage: oracle_segments.py TRUTH.json ja|en", file=sys.stderr)
        return 2
    truth = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    lang = argv[1]
    segments = [
        {"start_ms": ln[lang]["start_ms"], "end_ms": ln[lang]["end_ms"], "text": ln[lang]["text"]}
        for ln in truth["lines"]
        if ln.get(lang)
    ]
    json.dump({"language": lang, "segments": segments}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
