"""gRPC Synthesize behind the servicer: fetch the clip's media, dub it, store the WAVs
content-addressed under stages/tts/synth/<key>/ (manifest last; a repeat is a lookup)."""

from __future__ import annotations

import json
from pathlib import Path

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json, content_key, join_key
from dubset_common.objstore import ObjectStore
from dubset_common.runner import fetch_to_file, params_json
from dubset_tts import STAGE, VERSION
from dubset_tts.convert import TtsParams, params_from_proto, scores_from_json, scores_to_proto
from dubset_tts.encode import write_wav
from dubset_tts.fragment import scores_json
from dubset_tts.handler import tts_errors
from dubset_tts.models import Models
from dubset_tts.single import OneClip, dub_one

MAX_INPUT_BYTES = 512 * 1024 * 1024
MAX_CLIP_ID_CHARS = 256
MANIFEST = "_manifest.json"


def _no_hook(_fraction: float, _message: str) -> None:
    return None


def media_refs(request: tts_pb2.SynthesizeRequest) -> dict[str, common_pb2.MediaRef]:
    """The request's media by name, each with a valid sha256 (it goes into the key)."""
    refs = {}
    if request.HasField("speaker_reference"):
        refs["speaker_reference"] = request.speaker_reference
    if request.HasField("backing"):
        refs["backing"] = request.backing
    if request.HasField("ja_audio"):
        refs["ja_audio"] = request.ja_audio
    for name, ref in refs.items():
        if len(ref.sha256) != 64 or any(c not in "0123456789abcdef" for c in ref.sha256):
            raise InvalidInputError(f"{name} has no valid sha256")
    return refs


def synth_key(request: tts_pb2.SynthesizeRequest, params: TtsParams) -> str:
    """sha256 of what decides the outputs: media sha256s, texts, target, params."""
    digests = {name: ref.sha256 for name, ref in media_refs(request).items()}
    what = {
        **params_json(params),
        "text": request.text,
        "ja_text": request.ja_text,
        "target_duration_ms": request.target_duration_ms,
    }
    return content_key(f"{STAGE}-synth", VERSION, digests, what)


def _ref(store: ObjectStore, key: str, info_sha: str, size: int, ms: int) -> common_pb2.MediaRef:
    return common_pb2.MediaRef(
        uri=store.uri(key), sha256=info_sha, duration_ms=ms, mime="audio/wav", size_bytes=size
    )


def _response(
    store: ObjectStore, clip_id: str, manifest: dict[str, object]
) -> tts_pb2.SynthesizeResponse:
    files = manifest["files"]
    assert isinstance(files, dict)
    refs = {
        name: _ref(store, f["key"], f["sha256"], f["bytes"], f["duration_ms"])
        for name, f in files.items()
    }
    scores = manifest["scores"]
    assert isinstance(scores, dict)
    return tts_pb2.SynthesizeResponse(
        clip_id=clip_id,
        audio=refs["audio"],
        speech=refs["speech"],
        text=str(manifest["text"]),
        scores=scores_to_proto(scores_from_json(scores)),
        backend=str(manifest["backend"]),
        translation_backend=str(manifest["translation_backend"]),
        voice=str(manifest["voice"]),
        fits=bool(manifest["fits"]),
        natural_duration_ratio=float(str(manifest["natural_duration_ratio"])),
    )


def synthesize_inline(
    request: tts_pb2.SynthesizeRequest, store: ObjectStore, models: Models, workdir: Path
) -> tts_pb2.SynthesizeResponse:
    """Dub one clip (or find it dubbed before) and return references to its WAVs."""
    if len(request.clip_id) > MAX_CLIP_ID_CHARS:
        raise InvalidInputError(f"clip_id is over {MAX_CLIP_ID_CHARS} characters")
    if request.target_duration_ms < 0:
        raise InvalidInputError("target_duration_ms must not be negative")
    params = params_from_proto(request.params)
    key = synth_key(request, params)
    prefix = join_key("stages", STAGE, "synth", key)
    manifest_key = join_key(prefix, MANIFEST)
    if store.exists(manifest_key):
        return _response(store, request.clip_id, json.loads(store.get_bytes(manifest_key)))
    paths: dict[str, Path] = {}
    for name, ref in media_refs(request).items():
        paths[name] = workdir / f"{name}.wav"
        fetch_to_file(store, ref, paths[name], MAX_INPUT_BYTES, name)
    clip = OneClip(
        text=request.text,
        ja_text=request.ja_text,
        target_ms=request.target_duration_ms,
        reference=paths.get("speaker_reference"),
        backing=paths.get("backing"),
        ja_audio=paths.get("ja_audio"),
    )
    with tts_errors():
        one = dub_one(clip, params, models, workdir, _no_hook)
    files: dict[str, object] = {}
    for name, speech in (("audio", one.dub.mix), ("speech", one.dub.speech)):
        path = write_wav(speech.samples, speech.rate, workdir / f"out-{name}.wav")
        info = store.put_file(join_key(prefix, f"{name}.wav"), path, "audio/wav")
        files[name] = {
            "key": info.key,
            "sha256": info.sha256,
            "bytes": info.size_bytes,
            "duration_ms": speech.duration_ms,
        }
    manifest: dict[str, object] = {
        "stage": f"{STAGE}-synth",
        "version": VERSION,
        "key": key,
        "params": params_json(params),
        "files": files,
        "text": one.dub.text,
        "voice": one.dub.voice,
        "fits": one.dub.fits,
        "natural_duration_ratio": round(one.dub.natural_duration_ratio, 4),
        "scores": scores_json(one.dub.scores),
        "backend": one.backend,
        "translation_backend": one.translation_backend,
    }
    store.put_bytes(manifest_key, canonical_json(manifest), "application/json")
    return _response(store, request.clip_id, manifest)
