"""Rating files saved by the MUSHRA page (JSON or CSV) read back through the kit's key."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

from dubset_cli.mushra.errors import KitError
from dubset_eval.mushra import Rating

KEY_FORMAT = "dubset-mushra-key/1"
RATINGS_FORMAT = "dubset-mushra-ratings/1"
CSV_HEADER = ["kit", "rater", "trial", "condition", "score"]
MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Key:
    kit: str
    systems: tuple[str, ...]
    trials: int
    labels: dict[tuple[str, str], str]  # (trial id, condition label) -> system


def parse_key(data: bytes, where: str) -> Key:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise KitError(f"{where} is not JSON: {exc}") from None
    if not isinstance(value, dict) or value.get("format") != KEY_FORMAT:
        raise KitError(f"{where} is not a MUSHRA key ({KEY_FORMAT}, the kit's trials.json)")
    kit, systems, trials = value.get("kit"), value.get("systems"), value.get("trials")
    if not isinstance(kit, str) or not isinstance(systems, list) or not isinstance(trials, list):
        raise KitError(f"{where}: kit, systems and trials are missing or malformed")
    labels: dict[tuple[str, str], str] = {}
    try:
        for t in trials:
            for c in t["conditions"]:
                labels[(str(t["id"]), str(c["label"]))] = str(c["system"])
    except (KeyError, TypeError):
        raise KitError(f"{where}: a trial lacks its id or conditions") from None
    return Key(kit, tuple(str(s) for s in systems), len(trials), labels)


def _score(value: object, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise KitError(f"{where}: score {value!r:.20} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KitError(f"{where}: score must be a number")
    score = float(value)
    if math.isnan(score) or not 0.0 <= score <= 100.0:
        raise KitError(f"{where}: score {score:g} is outside 0..100")
    return score


def _rows_json(value: object, where: str) -> list[tuple[str, str, str, str, object]]:
    if not isinstance(value, dict) or value.get("format") != RATINGS_FORMAT:
        raise KitError(f"{where} is not a ratings file of the MUSHRA page ({RATINGS_FORMAT})")
    kit, rater, trials = value.get("kit"), value.get("rater"), value.get("trials")
    if not isinstance(kit, str) or not isinstance(rater, str) or not isinstance(trials, list):
        raise KitError(f"{where}: kit, rater and trials are missing or malformed")
    rows = []
    for i, t in enumerate(trials):
        if not isinstance(t, dict) or not isinstance(t.get("scores"), dict):
            raise KitError(f"{where}: trials[{i}] has no scores")
        for label, score in t["scores"].items():
            rows.append((kit, rater, str(t.get("trial")), str(label), score))
    return rows


def _rows_csv(text: str, where: str) -> list[tuple[str, str, str, str, object]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != CSV_HEADER:
        raise KitError(f"{where}: the first line must be {','.join(CSV_HEADER)}")
    rows: list[tuple[str, str, str, str, object]] = []
    for n, row in enumerate(reader, 2):
        if not row:
            continue
        if len(row) != len(CSV_HEADER):
            raise KitError(f"{where} line {n}: expected {len(CSV_HEADER)} columns")
        rows.append((row[0], row[1], row[2], row[3], row[4]))
    return rows


def parse_ratings(data: bytes, where: str, key: Key) -> list[Rating]:
    """Every score of one file as a Rating of a system; a file of another kit, an unknown
    trial or label, or a nameless rater is refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KitError(f"{where} is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            rows = _rows_json(json.loads(text), where)
        except ValueError as exc:
            if isinstance(exc, KitError):
                raise
            raise KitError(f"{where} is not JSON: {exc}") from None
    else:
        rows = _rows_csv(text, where)
    out = []
    for kit, rater, trial, label, score in rows:
        if kit != key.kit:
            raise KitError(f"{where}: made with kit {kit!r:.20}, the key is kit {key.kit}")
        if not rater.strip():
            raise KitError(f"{where}: the rater has no name")
        system = key.labels.get((trial, label))
        if system is None:
            raise KitError(f"{where}: trial {trial!r:.20} has no condition {label!r:.8}")
        out.append(Rating(rater.strip(), trial, system, _score(score, f"{where}, {trial}")))
    return out
