"""Faces wired to its ports: the stage the runner executes (the gRPC call runs it too)."""

from __future__ import annotations

import json

from dubset.v1 import common_pb2, faces_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.ffmpeg import UsesTools
from dubset_common.keys import sha256_hex
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.tools import stage_errors, tool_version
from dubset_faces import STAGE, VERSION
from dubset_faces.analyze import AnalysisParams, analyze
from dubset_faces.convert import FacesParams, params_from_proto
from dubset_faces.core.doc import faces_doc, parse_clips, parse_translation, parse_turns
from dubset_faces.core.fragment import parse_episode_fragment
from dubset_faces.core.model import FacesInputError
from dubset_faces.core.speaking import ClipSpan, open_frames, speaking
from dubset_faces.detectors import DetectorSpec
from dubset_faces.encode import contact_sheet, write_clips
from dubset_faces.mouths import measure
from dubset_faces.publish import publish

MAX_INPUT_BYTES = 64 * 1024**3
WORKERS = 2  # face detection processes


def analysis_params(p: FacesParams, workers: int = WORKERS) -> AnalysisParams:
    return AnalysisParams(
        stride=p.stride,
        max_width=p.max_width,
        workers=workers,
        shots=DetectorSpec(p.shot_detector, p.shot_threshold, p.shot_model_dir),
        faces=DetectorSpec(p.face_detector, p.face_threshold, p.face_model_dir),
        rules=p.rules,
    )


class FacesStage(UsesTools):
    """Input `video` (the Japanese video); optional `clips` (the alignment's clips.json), or
    `episode` (packaging's fragment, with the `dataset` param), or `translation` (a dub's
    lines), and `ja_turns` (the JA diarization's turns.json) for who speaks in each.
    Outputs `faces` (faces.json), `contact_sheet` (a PNG of the face clips) and per face clip
    `clip/<id>` (and `full/<id>`)."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("video",)
    optional_inputs: tuple[str, ...] = ("clips", "episode", "translation", "ja_turns")

    def __init__(self, workers: int = WORKERS) -> None:
        super().__init__()
        self.workers = workers

    def parse_params(self, request: common_pb2.StageRequest) -> FacesParams:
        params = unpack_params(request, faces_pb2.FacesParams, "faces")
        try:
            return params_from_proto(params)
        except FacesInputError as exc:
            raise InvalidInputError(str(exc)) from None

    def run(self, ctx: StageContext[FacesParams]) -> StageOutcome:
        with stage_errors(FacesInputError):
            return self._run(ctx)

    def _run(self, ctx: StageContext[FacesParams]) -> StageOutcome:
        p, tools, work = ctx.params, self.tools, ctx.workdir
        path = ctx.input_file("video")
        clips = parse_clips(ctx.read_input("clips")) if ctx.has_input("clips") else None
        if ctx.has_input("translation"):  # a dub's lines: who speaks each, for the flaps
            clips = parse_translation(ctx.read_input("translation"))
        fragment = None
        if ctx.has_input("episode"):
            if not p.dataset:
                raise FacesInputError("the episode input needs the dataset param")
            episode_bytes = ctx.read_input("episode")
            fragment = parse_episode_fragment(episode_bytes)
            clips = [ClipSpan(i, c.ja_start_ms, c.ja_end_ms) for i, c in enumerate(fragment.clips)]
        turns = parse_turns(ctx.read_input("ja_turns")) if ctx.has_input("ja_turns") else []
        a = analyze(path, tools, analysis_params(p, self.workers), ctx.hook)
        ctx.hook(0.86, f"measuring {len(a.tracks)} mouths")
        openness = measure(path, a.info, a.size, a.tracks, tools,
                           lambda f: ctx.hook(0.86 + 0.07 * f, "measuring mouths"))  # fmt: skip
        opened = [open_frames(o) for o in openness]
        said = (
            None if clips is None else speaking(clips, turns, a.tracks, opened, float(a.info.fps))
        )
        ctx.hook(0.93, f"writing {len(a.clips)} face clips")
        written, middles = write_clips(
            path, a.info, a.clips, work, tools, p.crop_size, p.full_frame,
            lambda f: ctx.hook(0.93 + 0.06 * f, "writing face clips"),
        )  # fmt: skip
        files: dict[str, dict[str, str]] = {}
        for w in written:
            files.setdefault(w.clip, {})[w.kind] = f"anivid_clips/{w.path.name}"
        backend = f"{a.shot_backend}+{a.face_backend}+ffmpeg-{tool_version(tools.ffmpeg)}"
        frames = sum(s.frames for s in a.shots)
        doc = faces_doc(
            video={"width": a.info.width, "height": a.info.height, "frames": frames,
                   "duration_ms": a.info.duration_ms},
            fps=a.info.fps, shots=a.shots, motion=a.motion, tracks=a.tracks, clips=a.clips,
            files=files,
            opened=opened,
            speaking=said,
            analysis={"size": list(a.size), "stride": p.stride, "samples": a.samples,
                      "detected": a.detected, "shot_detector": a.shot_backend,
                      "face_detector": a.face_backend, "rules": _rules(p)},
        )  # fmt: skip
        data = (json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n").encode()
        sheet = contact_sheet(middles, work / "contact_sheet.png")
        outputs = [
            Output("faces", "faces.json", "application/json", data=data),
            Output("contact_sheet", "contact_sheet.png", "image/png", path=sheet),
        ]
        if fragment is not None:  # the dataset's copies: the face clips, AV clips, fragment
            assert said is not None
            ctx.hook(0.99, "writing the dataset's faces")
            key = publish(ctx.store, p.dataset, fragment, sha256_hex(episode_bytes), doc,
                          written, said, a, path, tools, work, p.crop_size, backend)  # fmt: skip
            outputs.append(Output("fragment", "fragment.json", "application/json",
                                  data=ctx.store.get_bytes(key)))  # fmt: skip
        else:
            for w in written:
                name = f"{'clip' if w.kind == 'crop' else 'full'}/{w.clip}"
                outputs.append(
                    Output(name, f"anivid_clips/{w.path.name}", "video/mp4", path=w.path)
                )
        info = {
            "shots": len(a.shots),
            "tracks": len(a.tracks),
            "clips": len(a.clips),
            "samples": a.samples,
            "frames": frames,
        }
        facts = Facts(face_tracks=len(a.tracks), face_clips=len(a.clips))
        return StageOutcome(outputs=tuple(outputs), backend=backend, info=info, facts=facts)


def _rules(p: FacesParams) -> dict[str, object]:
    r = p.rules
    return {"faces_per_frame": r.faces_per_frame, "min_motion": r.min_motion,
            "min_event_frames": r.min_event_frames, "min_ms": r.min_ms, "max_ms": r.max_ms,
            "crop_scale": r.crop_scale, "crop_size": p.crop_size}  # fmt: skip
