"""AWS Transcribe: the documented output format and the job flow on stubbed boto3 clients."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
import soundfile as sf
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from dubset_asr.backends.aws import AwsSettings, AwsTranscribeBackend
from dubset_asr.core.awsjson import parse_output
from dubset_asr.core.model import AsrInputError, BackendFailedError, DecodeOptions
from dubset_asr.vad import shared_vad
from dubset_common.keys import file_sha256

FIXTURES = Path(__file__).parent / "fixtures"
EN = (FIXTURES / "aws_transcribe_en-US.json").read_bytes()
JA = (FIXTURES / "aws_transcribe_ja-JP.json").read_bytes()


def test_english_output_follows_audio_segments() -> None:
    t = parse_output(EN, "en")
    assert [s.text for s in t.segments] == [
        "Are you the new student?",
        "Yeah, I'm Haruto. Nice to meet you.",
    ]
    first = t.segments[0]
    assert (first.start_ms, first.end_ms) == (840, 2030)
    assert [w.text for w in first.words] == ["Are", "you", "the", "new", "student?"]
    assert first.words[4].confidence == pytest.approx(0.981)
    for s in t.segments:
        assert s.text == " ".join(w.text for w in s.words)


def test_japanese_output_without_audio_segments_splits_at_sentence_ends() -> None:
    t = parse_output(JA, "ja")
    assert [s.text for s in t.segments] == ["あなたが転校生？", "うん、ハルトです。", "よろしく。"]
    for s in t.segments:
        assert s.text == "".join(w.text for w in s.words)
    assert [(w.text, w.start_ms, w.end_ms) for w in t.segments[1].words] == [
        ("うん、", 3200, 3450),
        ("ハルト", 3600, 3980),
        ("です。", 3980, 4300),
    ]


def test_long_gaps_split_without_punctuation() -> None:
    doc = json.loads(JA)
    doc["results"]["items"] = [i for i in doc["results"]["items"] if i["type"] != "punctuation"]
    t = parse_output(json.dumps(doc), "ja", max_gap_ms=1500)
    assert [s.text for s in t.segments] == ["あなたが転校生うんハルトです", "よろしく"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("results"), "no results.items"),
        (lambda d: d["results"]["items"][0].update(start_time="x"), "not a number"),
        (lambda d: d["results"]["items"][0].update(end_time="0.1"), "end_time before"),
        (lambda d: d["results"]["items"][0].update(alternatives=[]), "no alternatives"),
        (lambda d: d["results"]["items"][0].update(type="speech"), "unknown type"),
        (lambda d: d["results"].update(language_code="ja-JP"), "expected en-US"),
        (lambda d: d["results"]["audio_segments"][0].update(items=[99]), "unknown item id"),
    ],
)
def test_malformed_output_is_a_clear_error(mutate: object, message: str) -> None:
    doc = json.loads(EN)
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(AsrInputError, match=message):
        parse_output(json.dumps(doc), "en")
    with pytest.raises(AsrInputError, match="not valid JSON"):
        parse_output(b"{", "en")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def __call__(self) -> float:
        return self.now


def _clients() -> tuple[object, object, Stubber, Stubber]:
    kw = {
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    s3 = boto3.client("s3", **kw)
    tr = boto3.client("transcribe", **kw)
    return s3, tr, Stubber(s3), Stubber(tr)


def _audio(tmp: Path) -> tuple[Path, str]:
    path = tmp / "ep.wav"
    path.write_bytes(b"RIFF0000WAVEdata")
    return path, file_sha256(path)


def _job(status: str, reason: str = "") -> dict[str, object]:
    job: dict[str, object] = {"TranscriptionJobName": "x", "TranscriptionJobStatus": status}
    if reason:
        job["FailureReason"] = reason
    return {"TranscriptionJob": job}


def _expect_upload_and_start(s3s: Stubber, trs: Stubber, sha: str, conflict: bool = False) -> str:
    job = f"dubset-en-{sha[:48]}"
    media = f"pre/media/{sha}.wav"
    s3s.add_response("put_object", {}, {"Bucket": "bkt", "Key": media, "Body": ANY})
    start = {
        "TranscriptionJobName": job,
        "LanguageCode": "en-US",
        "MediaFormat": "wav",
        "Media": {"MediaFileUri": f"s3://bkt/{media}"},
        "OutputBucketName": "bkt",
        "OutputKey": f"pre/transcripts/{job}.json",
    }
    if conflict:
        trs.add_client_error("start_transcription_job", "ConflictException", expected_params=start)
    else:
        trs.add_response("start_transcription_job", _job("QUEUED"), start)
    return job


def test_job_flow_upload_start_poll_fetch_parse(tmp_path: Path) -> None:
    s3, tr, s3s, trs = _clients()
    path, sha = _audio(tmp_path)
    job = _expect_upload_and_start(s3s, trs, sha)
    for status in ("QUEUED", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"):
        trs.add_response("get_transcription_job", _job(status), {"TranscriptionJobName": job})
    body = StreamingBody(io.BytesIO(EN), len(EN))
    s3s.add_response(
        "get_object",
        {"Body": body, "ContentLength": len(EN)},
        {"Bucket": "bkt", "Key": f"pre/transcripts/{job}.json"},
    )
    clock = Clock()
    settings = AwsSettings(bucket="bkt", prefix="pre/", poll_initial_s=2, poll_max_s=5)
    backend = AwsTranscribeBackend(s3, tr, settings, sleep=clock.sleep, clock=clock)
    with s3s, trs:
        t = backend.transcribe(path, "en", DecodeOptions(), lambda _f, _m: None)
        s3s.assert_no_pending_responses()
        trs.assert_no_pending_responses()
    assert clock.sleeps == [2, 4, 5]
    assert t.language == "en" and len(t.segments) == 2
    assert t.segments[1].words[1].text == "I'm"


def test_resubmitted_audio_reuses_the_existing_job(tmp_path: Path) -> None:
    s3, tr, s3s, trs = _clients()
    path, sha = _audio(tmp_path)
    job = _expect_upload_and_start(s3s, trs, sha, conflict=True)
    trs.add_response("get_transcription_job", _job("COMPLETED"), {"TranscriptionJobName": job})
    s3s.add_response("get_object", {"Body": StreamingBody(io.BytesIO(EN), len(EN))}, None)
    backend = AwsTranscribeBackend(s3, tr, AwsSettings(bucket="bkt", prefix="pre/"))
    with s3s, trs:
        assert len(backend.transcribe(path, "en", DecodeOptions(), lambda *_: None).segments) == 2


def test_failed_job_and_timeout_are_errors(tmp_path: Path) -> None:
    s3, tr, s3s, trs = _clients()
    path, sha = _audio(tmp_path)
    job = _expect_upload_and_start(s3s, trs, sha)
    trs.add_response(
        "get_transcription_job",
        _job("FAILED", "The media format is not supported"),
        {"TranscriptionJobName": job},
    )
    backend = AwsTranscribeBackend(s3, tr, AwsSettings(bucket="bkt", prefix="pre/"))
    with s3s, trs, pytest.raises(BackendFailedError, match="media format") as err:
        backend.transcribe(path, "en", DecodeOptions(), lambda *_: None)
    assert not err.value.retryable

    s3, tr, s3s, trs = _clients()
    job = _expect_upload_and_start(s3s, trs, sha)
    for _ in range(4):
        trs.add_response("get_transcription_job", _job("IN_PROGRESS"), None)
    clock = Clock()
    settings = AwsSettings(bucket="bkt", prefix="pre/", timeout_s=10, poll_initial_s=2)
    backend = AwsTranscribeBackend(s3, tr, settings, sleep=clock.sleep, clock=clock)
    with s3s, trs, pytest.raises(BackendFailedError, match="still IN_PROGRESS") as err:
        backend.transcribe(path, "en", DecodeOptions(), lambda *_: None)
    assert err.value.retryable and clock.now <= 10


def test_denied_upload_is_not_retryable_and_throttling_is(tmp_path: Path) -> None:
    path, _sha = _audio(tmp_path)
    for code, retryable in (("AccessDenied", False), ("SlowDown", True)):
        s3, tr, s3s, _trs = _clients()
        s3s.add_client_error("put_object", code)
        backend = AwsTranscribeBackend(s3, tr, AwsSettings(bucket="bkt"))
        with s3s, pytest.raises(BackendFailedError, match=code) as err:
            backend.transcribe(path, "en", DecodeOptions(), lambda *_: None)
        assert err.value.retryable is retryable


def test_unsupported_container_and_missing_bucket(tmp_path: Path) -> None:
    s3, tr, _s3s, _trs = _clients()
    backend = AwsTranscribeBackend(s3, tr, AwsSettings(bucket="bkt"))
    odd = tmp_path / "a.xyz"
    odd.write_bytes(b"x")
    with pytest.raises(AsrInputError, match="aws-transcribe takes"):
        backend.transcribe(odd, "en", DecodeOptions(), lambda *_: None)
    from dubset_asr.core.model import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="DUBSET_ASR_AWS_BUCKET"):
        AwsSettings.from_env({})


def test_vad_cuts_a_transcribe_segment_that_spans_two_lines(tmp_path: Path) -> None:
    # The two lines of fixtures/two_lines_en.flac (1187-2919 ms, 3506-4942 ms) given as one
    # audio segment, "Fall" stretched back over the silence between them.
    words = [
        ("I", 1.19, 1.3), ("can't", 1.3, 1.6), ("believe", 1.6, 1.9), ("it", 1.9, 2.0),
        ("it's", 2.0, 2.3), ("snowing", 2.3, 2.9), ("Fall", 3.0, 3.8), ("down", 3.8, 4.1),
        ("get", 4.2, 4.4), ("back", 4.4, 4.6), ("up", 4.6, 4.9),
    ]  # fmt: skip
    items = [
        {
            "id": i,
            "type": "pronunciation",
            "start_time": str(s),
            "end_time": str(e),
            "alternatives": [{"confidence": "0.9", "content": w}],
        }
        for i, (w, s, e) in enumerate(words)
    ]
    text = " ".join(w for w, _s, _e in words)
    results = {
        "language_code": "en-US",
        "transcripts": [{"transcript": text}],
        "items": items,
        "audio_segments": [
            {
                "id": 0,
                "transcript": text,
                "start_time": "1.19",
                "end_time": "4.9",
                "items": list(range(len(words))),
            }
        ],
    }
    raw = json.dumps({"jobName": "x", "status": "COMPLETED", "results": results}).encode()
    path = tmp_path / "ep.wav"
    audio, rate = sf.read(FIXTURES / "two_lines_en.flac", dtype="float32")
    sf.write(path, audio, rate, subtype="PCM_16")
    s3, tr, s3s, trs = _clients()
    job = _expect_upload_and_start(s3s, trs, file_sha256(path))
    trs.add_response("get_transcription_job", _job("COMPLETED"), {"TranscriptionJobName": job})
    s3s.add_response("get_object", {"Body": StreamingBody(io.BytesIO(raw), len(raw))})
    settings = AwsSettings(bucket="bkt", prefix="pre/")
    backend = AwsTranscribeBackend(s3, tr, settings, vad=shared_vad())
    with s3s, trs:
        t = backend.transcribe(path, "en", DecodeOptions(), lambda _f, _m: None)
    assert [s.text for s in t.segments] == [
        "I can't believe it it's snowing",
        "Fall down get back up",
    ]
    assert abs(t.segments[1].start_ms - 3506) <= 100
    assert "silero_vad_sha256" in backend.info()
