"""Export's view of datasets/<name>/faces/: the current faces fragment of an episode, and the
two documents made from them (AniVid's annotations, anim400k_faces.json)."""

from __future__ import annotations

import json
from pathlib import Path

from dubset_common.keys import join_key
from dubset_common.objstore import ObjectStore
from dubset_packaging.baselines import read_current
from dubset_packaging.core.export import Fragment
from dubset_packaging.core.faces import FACES_FORMAT, Faces, parse_faces

FACES_FOLDER = "faces"


def faces_key(root: str, episode_id: str) -> str:
    return join_key(root, FACES_FOLDER, f"{episode_id}.json")


def read_faces(
    store: ObjectStore,
    key: str,
    fragment: Fragment,
    fragment_sha256: str,
    local: Path,
    max_bytes: int,
    warnings: list[str],
) -> Faces | None:
    """The faces fragment at key when it was made from exactly this episode fragment."""
    value = read_current(store, key, fragment, fragment_sha256, local, max_bytes, warnings,
                         FACES_FORMAT, "face clips", "the faces stage")  # fmt: skip
    return None if value is None else parse_faces(value, key, fragment)


def write_part(folder: Path, faces: Faces, fragment: Fragment) -> Path:
    """One episode's share of the two faces documents (each AniVid clip with its show, season
    and episode number), kept on disk until they are written."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{faces.episode_id}.json"
    where = {"show": fragment.show.get("show"), "season": fragment.show.get("season"),
             "episode_number": fragment.number}  # fmt: skip
    anivid = [{**where, **clip} for clip in faces.anivid]
    value = {"anivid": anivid, "speaking": faces.speaking}
    path.write_text(json.dumps(value, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return path


def write_faces_doc(target: Path, parts: list[Path], doc: str) -> Path:
    """anivid_annotations.json ({"format", "clips": [...]}) or anim400k_faces.json
    ({"format", "clips": {jp_clip: ...}}), an episode at a time in episode id order."""
    fmt = "dubset-anivid/1" if doc == "anivid" else "dubset-anim400k-faces/1"
    opening, closing = ("[", "]") if doc == "anivid" else ("{", "}")
    with target.open("w", encoding="utf-8") as fh:
        fh.write(f'{{"format":"{fmt}","clips":{opening}')
        first = True
        for part in sorted(parts, key=lambda p: p.name):
            value = json.loads(part.read_text(encoding="utf-8"))[doc]
            items = (
                [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in value]
                if doc == "anivid"
                else [
                    f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False, sort_keys=True)}"
                    for k, v in sorted(value.items())
                ]
            )
            for item in items:
                fh.write(("" if first else ",") + item)
                first = False
        fh.write(f"{closing}}}\n")
    return target
