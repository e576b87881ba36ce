"""`dubset faces`: the faces stage on a local video."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from dubset_faces.handler import MAX_INPUT_BYTES, FacesStage

from dubset.v1 import faces_pb2
from dubset_cli.localstage import run_stage, save
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "faces",
        help="shots, anime faces and AniVid face clips of a video",
        description="AniVid's pipeline on a video (the Japanese original): shots "
        "(PySceneDetect), anime faces (animeface) tracked through each shot, the paper's "
        "filters (exactly one face, DVR-Scan motion >= 0.35, 1-10 s) and 256x256 face clips "
        "centred on the face. Writes OUT/faces.json, OUT/anivid_clips/ and a contact sheet.",
    )
    p.add_argument("video", type=Path, help="the video (MKV, MP4)")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--contact-sheet", type=Path, help="the PNG (default OUT/contact_sheet.png)")
    p.add_argument("--clips", type=Path, help="clips.json of dubset align: who speaks in each")
    p.add_argument("--ja-turns", type=Path, help="the JA turns.json of dubset diarize")
    p.add_argument("--shot-model-dir", type=Path, help="a TransNetV2 TorchScript model directory")
    p.add_argument("--shots", choices=("content", "adaptive", "transnetv2"), default="adaptive",
                   help="PySceneDetect adaptive (default) or content, or transnetv2")  # fmt: skip
    p.add_argument(
        "--faces-detector",
        choices=("animeface", "yolov5"),
        default="animeface",
        help="animeface (default) or yolov5 (the paper's, --face-model-dir)",
    )
    p.add_argument("--face-model-dir", type=Path, help="a YOLOv5 TorchScript model directory")
    p.add_argument("--stride", type=int, default=24, help="detect faces every N frames (24)")
    p.add_argument("--min-motion", type=float, default=0.35, help="DVR-Scan score (0.35)")
    p.add_argument("--faces-per-frame", type=int, default=1, help="faces a clip shows (1)")
    p.add_argument("--min-clip-ms", type=int, default=1000, help="shortest clip (1000)")
    p.add_argument("--max-clip-ms", type=int, default=10_000, help="longest clip (10000)")
    p.add_argument("--crop-size", type=int, default=256, help="clip side in pixels (256)")
    p.add_argument("--no-full-frame", action="store_true", help="skip the full-frame spans")
    p.add_argument("--workers", type=int, default=2, help="face detection processes (2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    params = faces_pb2.FacesParams(
        shot_detector=args.shots, stride=args.stride, min_motion=args.min_motion,
        face_detector=args.faces_detector,
        shot_model_dir=str(args.shot_model_dir.resolve()) if args.shot_model_dir else "",
        face_model_dir=str(args.face_model_dir.resolve()) if args.face_model_dir else "",
        faces_per_frame=args.faces_per_frame, min_clip_ms=args.min_clip_ms,
        max_clip_ms=args.max_clip_ms, crop_size=args.crop_size,
        full_frame=not args.no_full_frame,
    )  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="dubset-faces-") as tmp:
            stage = FacesStage(workers=max(1, args.workers))
            result, store = run_stage(
                stage,
                params,
                {"video": args.video, "clips": args.clips, "ja_turns": args.ja_turns},
                Path(tmp),
                progress,
                MAX_INPUT_BYTES,
            )
            doc_path = save(store, result.outputs["faces"], args.out / "faces.json")
            sheet = args.contact_sheet or args.out / "contact_sheet.png"
            save(store, result.outputs["contact_sheet"], sheet)
            doc = json.loads(doc_path.read_text(encoding="utf-8"))
            for clip in doc["clips"]:
                for kind, name in clip["files"].items():
                    key = f"{'clip' if kind == 'crop' else 'full'}/{clip['id']}"
                    save(store, result.outputs[key], args.out / name)
    except DubsetError as exc:
        print(f"dubset faces: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    shots, tracks, clips = len(doc["shots"]), len(doc["tracks"]), len(doc["clips"])
    print(f"{args.out}: {shots} shots, {tracks} face tracks, {clips} face clips "
          f"(contact sheet {sheet})", file=sys.stderr)  # fmt: skip
    return 0
