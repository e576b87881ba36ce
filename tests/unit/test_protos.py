"""The dubset.v1 contracts: services, stage params and integer-millisecond times."""

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import pytest
from google.protobuf import any_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

import dubset.v1
from dubset.v1 import asr_pb2, common_pb2, diarization_pb2
from dubset_jobs.convert import PARAMS

MODULES: list[ModuleType] = [
    importlib.import_module(f"dubset.v1.{m.name}")
    for m in pkgutil.iter_modules(dubset.v1.__path__)
    if m.name.endswith("_pb2")
]

# Proto file noun → service noun, for every service of DESIGN.md.
SERVICES = {
    "jobs": "Job",
    "media": "Media",
    "separation": "Separation",
    "asr": "Asr",
    "diarization": "Diarization",
    "alignment": "Alignment",
    "packaging": "Packaging",
    "tts": "Tts",
    "translation": "Translation",
    "render": "Render",
    "faces": "Faces",
}

# Every pipeline stage's params message, the value of StageRequest.params.
STAGE_PARAMS: dict[str, type[Message]] = PARAMS

INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}


def _all_messages() -> Iterator[Descriptor]:
    def walk(desc: Descriptor) -> Iterator[Descriptor]:
        yield desc
        for nested in desc.nested_types:
            yield from walk(nested)

    for module in MODULES:
        for desc in module.DESCRIPTOR.message_types_by_name.values():
            yield from walk(desc)


def _filled(cls: type[Message]) -> Message:
    """An instance with a non-default value in every scalar field, so a lossy round trip shows."""
    msg = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.message_type is not None:
            continue
        if field.enum_type is not None:
            value: object = field.enum_type.values[-1].number
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = True
        elif field.type == FieldDescriptor.TYPE_STRING:
            value = f"{field.name}-value"
        elif field.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            value = 0.5
        elif field.type == FieldDescriptor.TYPE_BYTES:
            value = b"x"
        else:
            value = 7
        if field.is_repeated:
            getattr(msg, field.name).append(value)
        else:
            setattr(msg, field.name, value)
    return msg


@pytest.mark.parametrize(("noun", "service"), sorted(SERVICES.items()))
def test_every_service_is_registered_with_methods(noun: str, service: str) -> None:
    desc = descriptor_pool.Default().FindServiceByName(f"dubset.v1.{service}Service")
    assert desc.file.name == f"dubset/v1/{noun}.proto"
    assert len(desc.methods) >= 1


def test_every_params_message_is_a_known_stage() -> None:
    declared = {d.full_name for d in _all_messages() if d.name.endswith("Params")}
    assert declared == {cls.DESCRIPTOR.full_name for cls in STAGE_PARAMS.values()}


@pytest.mark.parametrize("stage", sorted(STAGE_PARAMS))
def test_stage_params_round_trip_through_stage_request(stage: str) -> None:
    cls = STAGE_PARAMS[stage]
    params = _filled(cls)
    request = common_pb2.StageRequest(job_id="j", episode_id="e", stage=stage)
    request.params.Pack(params)

    decoded = common_pb2.StageRequest.FromString(request.SerializeToString())

    assert decoded.params.TypeName() == cls.DESCRIPTOR.full_name
    assert decoded.params.type_url == f"type.googleapis.com/dubset.v1.{cls.__name__}"
    unpacked = cls()
    assert decoded.params.Unpack(unpacked)
    assert unpacked == params
    assert unpacked != cls()


def test_params_of_one_stage_do_not_unpack_as_another() -> None:
    packed = any_pb2.Any()
    packed.Pack(asr_pb2.AsrParams(model="large-v3"))
    assert not packed.Unpack(diarization_pb2.DiarizationParams())


def test_millisecond_fields_are_integers() -> None:
    ms_fields = [
        (desc.full_name, field)
        for desc in _all_messages()
        for field in desc.fields
        if field.name.endswith("_ms")
    ]
    assert len(ms_fields) > 10
    floats = [
        f"{name}.{field.name}" for name, field in ms_fields if field.type not in INTEGER_TYPES
    ]
    assert floats == []
