"""Find and classify result files under PATH, and infer each one's language (truth-format.md)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dubset_eval.dubreport import is_dub_report
from dubset_eval.errors import EvalInputError
from dubset_eval.facescore import FACES_FORMAT
from dubset_eval.qualityscore import QUALITY_FORMAT
from dubset_eval.results import language_code
from dubset_eval.truth import FORMAT as TRUTH_FORMAT

STAGE_MANIFEST = "_manifest.json"
ANNOTATIONS = "anim400k_annotations.json"
DATASET_MANIFEST = "manifest.jsonl"
MAX_JSON_BYTES = 512 * 1024 * 1024
_STEM = re.compile(r"(?:(ja|en)[_.])?(dialogue|backing)\.wav", re.IGNORECASE)
_NAME_LANGUAGE = re.compile(r"(ja|en)[_.]", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """One recognised result: kind, where, its language and stem when they apply, its JSON."""

    kind: str
    path: Path
    language: str | None = None
    stem: str | None = None
    value: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Discovery:
    root: Path
    found: tuple[Found, ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    ignored: int


def _walk(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        files += [Path(dirpath) / f for f in sorted(filenames)]
    return files


def read_json(path: Path) -> object:
    """Parsed JSON; raises ValueError (with the reason) when unreadable or too big."""
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ValueError(f"{size} bytes is over the limit of {MAX_JSON_BYTES}")
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason})") from None


class _Languages:
    """The language rules for files whose content does not say: name, parent folder, manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._manifests: dict[Path, str | None] = {}

    def _manifest_language(self, folder: Path) -> str | None:
        if folder not in self._manifests:
            try:
                value = read_json(folder / STAGE_MANIFEST)
            except ValueError:
                value = None
            params = value.get("params") if isinstance(value, dict) else None
            language = params.get("language") if isinstance(params, dict) else None
            self._manifests[folder] = language_code(language)
        return self._manifests[folder]

    def of(self, path: Path, content: object = None) -> str | None:
        if (lang := language_code(content)) is not None:
            return lang
        if m := _NAME_LANGUAGE.match(path.name):
            return m[1].lower()
        for folder in path.parents:
            if folder.name.lower() in ("ja", "en"):
                return folder.name.lower()
            if folder == self.root:
                break
        return self._manifest_language(path.parent)


def _json_kinds(value: Mapping[str, object]) -> list[str]:
    if is_dub_report(value):
        return ["dub"]
    if value.get("format") == FACES_FORMAT:
        return ["faces"]
    if value.get("format") == QUALITY_FORMAT:
        return ["quality"]
    kinds = []
    if isinstance(value.get("segments"), list) and "language" in value:
        kinds.append("asr")
    if isinstance(value.get("turns"), list) and "language" in value:
        kinds.append("diarization")
    clips = value.get("clips")
    if isinstance(clips, list) and (
        not clips or (isinstance(clips[0], dict) and "ja_start_ms" in clips[0])
    ):
        kinds.append("alignment")
    offset = value.get("offset")
    if "ja_offset_ms" in value or (isinstance(offset, dict) and "ja_offset_ms" in offset):
        kinds.append("offset")
    return kinds


def discover(path: Path, exclude: frozenset[Path] = frozenset()) -> Discovery:
    """Classify every file under path (a file or a folder, searched recursively)."""
    if not path.exists():
        raise EvalInputError(f"result {path} does not exist")
    root = path if path.is_dir() else path.parent
    languages = _Languages(root)
    found: list[Found] = []
    problems: list[str] = []
    notes: list[str] = []
    datasets: set[Path] = set()
    ignored = 0

    def rel(p: Path) -> str:
        return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)

    for file in _walk(path):
        name = file.name
        if file.resolve() in exclude:
            ignored += 1
        elif name in (ANNOTATIONS, DATASET_MANIFEST):
            datasets.add(file.parent)
        elif m := _STEM.fullmatch(name):
            found.append(Found("separation", file, languages.of(file), m[2].lower()))
        elif name.lower().endswith(".json"):
            try:
                value = read_json(file)
            except ValueError as exc:
                (problems if name == STAGE_MANIFEST else notes).append(f"{rel(file)}: {exc}")
                continue
            if not isinstance(value, dict) or value.get("format") == TRUTH_FORMAT:
                ignored += 1
            elif name == STAGE_MANIFEST:
                found.append(Found("stage-manifest", file, value=value))
            elif kinds := _json_kinds(value):
                language = languages.of(file, value.get("language"))
                found += [Found(k, file, language, value=value) for k in kinds]
            else:
                ignored += 1
        else:
            ignored += 1
    found += [Found("dataset", d) for d in sorted(datasets)]
    return Discovery(root, tuple(found), tuple(problems), tuple(notes), ignored)
