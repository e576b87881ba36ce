"""The faces of an episode written into its dataset: the AniVid clips under anivid_clips/,
per clip pair with a visible speaker an audio-visual clip under anim400k_av_clips/ (the
speaking face with the pair's JA and EN audio), and last the faces fragment that lists them
(datasets/<ds>/faces/<episode_id>.json), which `dubset export` publishes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from dubset_common.ffmpeg import Tools
from dubset_common.keys import canonical_json, check_id, join_key
from dubset_common.objstore import ObjectStore, check_sizes
from dubset_faces.analyze import Analysis
from dubset_faces.core.anivid import Rules, crop_path
from dubset_faces.core.doc import ms
from dubset_faces.core.fragment import (
    EpisodeClips,
    FileEntry,
    anivid_path,
    av_path,
    faces_fragment,
)
from dubset_faces.core.model import FaceClip
from dubset_faces.core.speaking import Speaking, characters, frame_of
from dubset_faces.encode import Written, mux_av, write_clips

MIN_AV_COVER = 0.5  # share of the JA clip the speaking face must cover for an AV clip


def faces_key(dataset: str, episode_id: str) -> str:
    return join_key("datasets", check_id(dataset, "dataset name"), "faces", f"{episode_id}.json")


def publish(
    store: ObjectStore,
    dataset: str,
    episode: EpisodeClips,
    episode_sha256: str,
    doc: Mapping[str, object],
    written: Sequence[Written],
    said: Sequence[Speaking],
    a: Analysis,
    video: Path,
    tools: Tools,
    work: Path,
    crop_size: int,
    backend: str,
) -> str:
    """Store the episode's face files and then its faces fragment; the fragment's key."""
    root = join_key("datasets", check_id(dataset, "dataset name"))
    entries: list[FileEntry] = []
    for w in written:
        path = anivid_path(episode.episode_id, w.clip, w.kind == "full")
        entries.append(_store(store, root, path, w.path, "anivid" if w.kind == "crop" else
                              "anivid_full", w.clip, _duration(doc, w.clip)))  # fmt: skip
    speaking_doc: dict[str, Mapping[str, object]] = {}
    cast = characters(said)
    voice_of = {t: voice for voice, tracks in cast.items() for t in tracks}
    for s in said:
        pair = episode.clips[s.clip.index]
        entry: dict[str, object] = {
            "en_clip": pair.en_clip,
            "visible_tracks": list(s.visible),
            "speaking_track": s.track,
            "visible_speaker": s.track is not None,
            "speaker": s.speaker,
            # Each visible face's character: the voice it spoke for in this episode, if any.
            "characters": {str(t): voice_of.get(t) for t in s.visible},
            "mouth_open": [
                [a0 - pair.ja_start_ms, b0 - pair.ja_start_ms] for a0, b0 in s.mouth_open
            ],
        }
        av = _av_clip(s, pair.jp_clip, pair.en_clip, episode, a, video, tools, work, crop_size,
                      store, root)  # fmt: skip
        if av is not None:
            entries.append(av)
            entry["av_clip"] = av.path
        speaking_doc[pair.jp_clip] = entry
    check_sizes(store, ((join_key(root, e.path), e.bytes) for e in entries), "faces fragment")
    value = faces_fragment(
        episode_id=episode.episode_id,
        episode_sha256=episode_sha256,
        backend=backend,
        files=entries,
        anivid=_anivid(doc, episode.episode_id),
        speaking=speaking_doc,
        characters=dict(cast),
    )
    key = faces_key(dataset, episode.episode_id)
    store.put_bytes(key, canonical_json(value), "application/json")
    return key


def _store(
    store: ObjectStore, root: str, path: str, local: Path, kind: str, clip: str, duration: int
) -> FileEntry:
    info = store.put_file(join_key(root, path), local, "video/mp4")
    return FileEntry(path, info.sha256, info.size_bytes, max(1, duration), kind, clip)


def _duration(doc: Mapping[str, object], clip_id: str) -> int:
    clips = doc.get("clips")
    for c in clips if isinstance(clips, list) else []:
        if isinstance(c, dict) and c.get("id") == clip_id:
            return int(c["end_ms"]) - int(c["start_ms"])
    return 1


def _anivid(doc: Mapping[str, object], episode_id: str) -> list[dict[str, object]]:
    """The AniVid annotations: per face clip its shot, track, span, motion and the track's box
    in every frame of the clip (the video's pixels)."""
    tracks = doc.get("tracks")
    clips = doc.get("clips")
    assert isinstance(tracks, list) and isinstance(clips, list)
    out = []
    for c in clips:
        t = tracks[int(c["track"])]
        first = int(c["start_frame"]) - int(t["start_frame"])
        boxes = t["boxes"][first : first + int(c["end_frame"]) - int(c["start_frame"])]
        out.append({
            "clip": c["id"], "episode_id": episode_id, "shot": c["shot"], "track": c["track"],
            "start_ms": c["start_ms"], "end_ms": c["end_ms"], "start_frame": c["start_frame"],
            "end_frame": c["end_frame"], "motion": c["motion"], "boxes": boxes,
            "crop": c["crop"], "path": anivid_path(episode_id, str(c["id"]), False),
        })  # fmt: skip
    return out


def _av_clip(
    s: Speaking, jp_clip: str, en_clip: str, episode: EpisodeClips, a: Analysis, video: Path,
    tools: Tools, work: Path, crop_size: int, store: ObjectStore, root: str,
) -> FileEntry | None:  # fmt: skip
    """The speaking face over the frames of the JA clip it is on screen, with the JA audio of
    those frames and the EN clip's audio; None without a speaker or audio, or when the face
    covers under MIN_AV_COVER of the clip."""
    if s.track is None or jp_clip not in episode.audio or en_clip not in episode.audio:
        return None
    fps = float(a.info.fps)
    track = a.tracks[s.track]
    start = max(frame_of(s.clip.start_ms, fps), track.start)
    end = min(frame_of(s.clip.end_ms, fps), track.end)
    span = frame_of(s.clip.end_ms, fps) - frame_of(s.clip.start_ms, fps)
    if span <= 0 or end - start < MIN_AV_COVER * span:
        return None
    crops = crop_path(track, start, end, (a.info.width, a.info.height), Rules())
    clip = FaceClip(track.shot, s.track, start, end, crops, 0.0)
    folder = work / "av" / jp_clip.replace("/", "_")
    (face,), _ = write_clips(video, a.info, [clip], folder, tools, crop_size, False, _quiet)
    audio = {}
    for name, cid in (("ja", jp_clip), ("en", en_clip)):
        audio[name] = folder / f"{name}.mp3"
        store.get_file(join_key(root, episode.audio[cid]), audio[name])
    out = folder / "av.mp4"
    offset = ms(start, a.info.fps) - s.clip.start_ms
    mux_av(face.path, audio["ja"], max(0, offset), ms(end, a.info.fps) - ms(start, a.info.fps),
           audio["en"], out, tools)  # fmt: skip
    path = av_path(jp_clip)
    info = store.put_file(join_key(root, path), out, "video/mp4")
    return FileEntry(path, info.sha256, info.size_bytes, max(1, round((end - start) * 1000 / fps)),
                     "av", jp_clip)  # fmt: skip


def _quiet(fraction: float) -> None:
    del fraction
