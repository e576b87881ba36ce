"""AWS Transcribe backend (the paper's): upload to S3, start a job, poll, parse the output JSON."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dubset_asr.audio import duration_s
from dubset_asr.core.awsjson import LANGUAGE_CODES, parse_output
from dubset_asr.core.model import (
    AsrInputError,
    BackendFailedError,
    DecodeOptions,
    ModelUnavailableError,
    ProgressHook,
    Transcript,
)
from dubset_asr.core.speech import resegment, speech_config
from dubset_asr.vad import SileroVad, file_speech, shared_vad
from dubset_common.keys import file_sha256

NAME = "aws-transcribe"
MEDIA_FORMATS = {
    ".wav": "wav",
    ".mp3": "mp3",
    ".mp4": "mp4",
    ".m4a": "m4a",
    ".flac": "flac",
    ".ogg": "ogg",
    ".webm": "webm",
    ".amr": "amr",
}
MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024
_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "LimitExceededException",
        "InternalFailureException",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "InternalError",
    }
)


@dataclass(frozen=True)
class AwsSettings:
    """Where media and transcripts go, and how long to wait for a job."""

    bucket: str
    prefix: str = "dubset-asr/"
    region: str = ""
    timeout_s: float = 3600.0
    poll_initial_s: float = 2.0
    poll_max_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AwsSettings:
        source = os.environ if env is None else env
        bucket = source.get("DUBSET_ASR_AWS_BUCKET", "")
        if not bucket:
            raise ModelUnavailableError(
                "aws-transcribe needs DUBSET_ASR_AWS_BUCKET (the S3 bucket for media and "
                "transcripts) and AWS credentials in the usual boto3 places"
            )
        try:
            timeout = float(source.get("DUBSET_ASR_AWS_TIMEOUT_S", "3600"))
        except ValueError:
            raise ModelUnavailableError("DUBSET_ASR_AWS_TIMEOUT_S is not a number") from None
        return cls(
            bucket=bucket,
            prefix=source.get("DUBSET_ASR_AWS_PREFIX", "dubset-asr/"),
            region=source.get("DUBSET_ASR_AWS_REGION", ""),
            timeout_s=timeout,
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _failed(action: str, exc: Exception) -> BackendFailedError:
    if isinstance(exc, ClientError):
        code = _code(exc)
        return BackendFailedError(
            f"aws-transcribe {action}: {code}: {exc}", retryable=code in _RETRYABLE
        )
    return BackendFailedError(f"aws-transcribe {action}: {exc}", retryable=True)


class AwsTranscribeBackend:
    """Batch transcription jobs, named after the audio's sha256 so a retry reuses the job."""

    name = NAME
    model = "aws"

    def __init__(
        self,
        s3: Any,
        transcribe: Any,
        settings: AwsSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        vad: SileroVad | None = None,
    ) -> None:
        self.s3, self.client, self.settings = s3, transcribe, settings
        self.vad = vad
        self.sleep, self.clock = sleep, clock

    @classmethod
    def from_env(cls) -> AwsTranscribeBackend:
        import boto3

        settings = AwsSettings.from_env()
        region = settings.region or None
        try:
            s3 = boto3.client("s3", region_name=region)
            client = boto3.client("transcribe", region_name=region)
        except BotoCoreError as exc:
            raise ModelUnavailableError(f"aws-transcribe: cannot create clients: {exc}") from None
        return cls(s3, client, settings, vad=shared_vad())

    def info(self) -> Mapping[str, object]:
        info: dict[str, object] = {
            "model": self.model,
            "service": "amazon-transcribe",
            "bucket": self.settings.bucket,
        }
        if self.vad is not None:
            info.update(self.vad.info())
        return info

    def job_name(self, sha256: str, language: str) -> str:
        return f"dubset-{language}-{sha256[:48]}"

    def transcribe(
        self, audio: Path, language: str, options: DecodeOptions, hook: ProgressHook
    ) -> Transcript:
        media_format = MEDIA_FORMATS.get(audio.suffix.lower())
        if media_format is None:
            known = ", ".join(sorted(MEDIA_FORMATS))
            raise AsrInputError(f"{audio.name}: aws-transcribe takes {known} files")
        if language not in LANGUAGE_CODES:
            raise AsrInputError(f"aws-transcribe: unsupported language {language!r}")
        sha = file_sha256(audio)
        job = self.job_name(sha, language)
        prefix = self.settings.prefix
        media_key = f"{prefix}media/{sha}.{media_format}"
        output_key = f"{prefix}transcripts/{job}.json"
        bucket = self.settings.bucket
        try:
            with audio.open("rb") as body:
                self.s3.put_object(Bucket=bucket, Key=media_key, Body=body)
        except (ClientError, BotoCoreError) as exc:
            raise _failed("upload", exc) from None
        hook(0.1, f"uploaded s3://{bucket}/{media_key}")
        try:
            self.client.start_transcription_job(
                TranscriptionJobName=job,
                LanguageCode=LANGUAGE_CODES[language],
                MediaFormat=media_format,
                Media={"MediaFileUri": f"s3://{bucket}/{media_key}"},
                OutputBucketName=bucket,
                OutputKey=output_key,
            )
        except ClientError as exc:
            if _code(exc) != "ConflictException":  # the same audio was sent before: reuse
                raise _failed("start_transcription_job", exc) from None
        except BotoCoreError as exc:
            raise _failed("start_transcription_job", exc) from None
        hook(0.2, f"job {job} started")
        self._wait(job)
        try:
            obj = self.s3.get_object(Bucket=bucket, Key=output_key)
            if int(obj.get("ContentLength", 0)) > MAX_TRANSCRIPT_BYTES:
                raise AsrInputError(f"transcript {output_key} is over {MAX_TRANSCRIPT_BYTES} bytes")
            raw = obj["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _failed("fetch transcript", exc) from None
        parsed = parse_output(raw, language)
        seconds = duration_s(audio)
        duration = None if seconds is None else round(seconds * 1000)
        segments = parsed.segments
        if self.vad is None or not options.vad:
            return Transcript(language, segments, duration)
        hook(0.9, "cutting segments at silences")  # one segment per line, as for faster-whisper
        config = speech_config(language)
        speech = file_speech(self.vad, audio, config)
        segments = resegment(segments, speech, language, duration, config)
        return Transcript(language, segments, duration, tuple(speech))

    def _wait(self, job: str) -> None:
        deadline = self.clock() + self.settings.timeout_s
        delay = self.settings.poll_initial_s
        while True:
            try:
                reply = self.client.get_transcription_job(TranscriptionJobName=job)
            except ClientError as exc:
                if _code(exc) not in _RETRYABLE:
                    raise _failed("get_transcription_job", exc) from None
                reply = {}
            except BotoCoreError as exc:
                raise _failed("get_transcription_job", exc) from None
            status = reply.get("TranscriptionJob", {}).get("TranscriptionJobStatus", "")
            if status == "COMPLETED":
                return
            if status == "FAILED":
                reason = reply["TranscriptionJob"].get("FailureReason", "no reason given")
                raise BackendFailedError(f"aws-transcribe job {job} failed: {reason}")
            if self.clock() + delay > deadline:
                raise BackendFailedError(
                    f"aws-transcribe job {job} still {status or 'unknown'} after "
                    f"{self.settings.timeout_s:.0f} s",
                    retryable=True,
                )
            self.sleep(delay)
            delay = min(self.settings.poll_max_s, delay * 2)
