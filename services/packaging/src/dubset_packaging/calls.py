"""The Package rpc: a PackageRequest's documents stored, then the very same stage executed."""

from __future__ import annotations

from dubset.v1 import common_pb2, packaging_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.ffmpeg import Tools
from dubset_common.keys import check_id, join_key, sha256_hex
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import media_ref
from dubset_packaging import STAGE
from dubset_packaging.convert import clips_by_id, request_docs
from dubset_packaging.handler import (
    MAX_INPUT_BYTES,
    MIME,
    PackagingStage,
    dataset_prefix,
    fragment_key,
    params_from_proto,
)

INLINE_JOB = "grpc"


class PackagingCalls:
    """The Package rpc: the request's documents stored, then the very same stage executed."""

    def __init__(self, store: ObjectStore, metrics: StageMetrics, tools: Tools | None = None):
        self.store = store
        self.executor = StageExecutor(
            PackagingStage(tools), store, metrics, max_input_bytes=MAX_INPUT_BYTES
        )

    def package(self, request: packaging_pb2.PackageRequest) -> packaging_pb2.PackageResponse:
        check_id(request.episode_id, "episode id")
        params = params_from_proto(request.params)
        for name in ("ja_video", "en_video"):
            ref = getattr(request, name)
            if not ref.uri or len(ref.sha256) != 64:
                raise InvalidInputError(f"{name} needs a uri and its sha256")
        stage_request = common_pb2.StageRequest(
            request_id="inline", job_id=INLINE_JOB, episode_id=request.episode_id, stage=STAGE
        )
        for name, data in request_docs(request).items():
            key = join_key("stages", f"{STAGE}-inline", sha256_hex(data), f"{name}.json")
            info = self.store.put_bytes(key, data, "application/json")
            stage_request.inputs[name].CopyFrom(media_ref(info))
        stage_request.inputs["ja_video"].CopyFrom(request.ja_video)
        stage_request.inputs["en_video"].CopyFrom(request.en_video)
        stage_request.params.Pack(request.params)
        result = self.executor.execute(stage_request)
        frag_key = fragment_key(params.dataset, request.episode_id)
        frag = self.store.get_bytes(frag_key)
        prefix = dataset_prefix(params.dataset)
        response = packaging_pb2.PackageResponse(
            dataset_uri=self.store.uri(prefix) + "/",
            episode_annotations=result.outputs["episode"],
        )
        clips, files = clips_by_id(frag)
        for clip in clips:
            out = response.clips.add(
                jp_clip=str(clip["jp_clip"]),
                en_clip=str(clip["en_clip"]),
                speakers=[str(s) for s in clip["speakers"]],  # type: ignore[attr-defined]
            )
            for lang, cid in (("jp", clip["jp_clip"]), ("en", clip["en_clip"])):
                for f in files.get(str(cid), []):
                    target = getattr(out, f"{lang}_{f['kind']}")
                    target.CopyFrom(
                        common_pb2.MediaRef(
                            uri=self.store.uri(join_key(prefix, str(f["path"]))),
                            sha256=str(f["sha256"]),
                            duration_ms=int(str(f["duration_ms"])),
                            mime=MIME[str(f["kind"])],
                            size_bytes=int(str(f["bytes"])),
                        )
                    )
        return response
