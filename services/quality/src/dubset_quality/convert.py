"""The one place protobuf messages and the quality stage's values meet."""

from __future__ import annotations

from dataclasses import dataclass

from dubset.v1 import quality_pb2
from dubset_asr.backends import BACKENDS, DEFAULT_BACKEND, check_model_name
from dubset_asr.core.model import AsrInputError
from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_quality.core.model import QualityInputError


@dataclass(frozen=True)
class QualityParams:
    """Validated quality params (hashed into the stage's output key)."""

    dataset: str
    reasr: bool = True
    asr_backend: str = DEFAULT_BACKEND
    asr_model: str = ""
    dnsmos: bool = True


def params_from_proto(p: quality_pb2.QualityParams) -> QualityParams:
    if not p.dataset:
        raise QualityInputError("the dataset param is required (the quality fragment's dataset)")
    try:
        check_id(p.dataset, "dataset name")
        check_model_name(p.asr_model)
    except (InvalidInputError, AsrInputError) as exc:
        raise QualityInputError(str(exc)) from None
    backend = p.asr_backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise QualityInputError(f"asr_backend must be one of {', '.join(BACKENDS)}")
    return QualityParams(
        dataset=p.dataset,
        reasr=p.reasr if p.HasField("reasr") else True,
        asr_backend=backend,
        asr_model=p.asr_model,
        dnsmos=p.dnsmos if p.HasField("dnsmos") else True,
    )
