"""Debian festival voices through one long-lived `festival --pipe` per voice."""

from __future__ import annotations

import select
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_voices.base import VoiceError, tool_version
from dubset_voices.dsp import Audio


class FestivalEngine:
    """Debian festival voices: kal (kallpc16k diphone) and slt (CMU ARCTIC HTS).

    One long-lived `festival --pipe` per voice: starting festival costs more than a line.
    """

    VOICES = {"kal": "voice_kal_diphone", "slt": "voice_cmu_us_slt_arctic_hts"}
    DONE = "DUBSET-DONE"
    TIMEOUT_S = 60.0

    def __init__(self) -> None:
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="dubset-festival-")
        self._n = 0

    @staticmethod
    def version() -> str:
        return f"festival-{tool_version('festival', 'System:')}"

    def _proc(self, voice: str) -> subprocess.Popen[str]:
        if voice not in self._procs:
            binary, stdbuf = shutil.which("festival"), shutil.which("stdbuf")
            if binary is None or stdbuf is None:
                raise VoiceError("festival (and coreutils stdbuf) needed; run `make setup`")
            # Line-buffered stdout, or festival holds the reply in its buffer and we wait forever.
            proc = subprocess.Popen(
                [stdbuf, "-oL", binary, "--pipe"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stdin is not None
            proc.stdin.write(f"({self.VOICES[voice]})\n")
            self._procs[voice] = proc
        return self._procs[voice]

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        if voice not in self.VOICES:
            raise VoiceError(f"festival: unknown voice {voice!r}")
        proc = self._proc(voice)
        self._n += 1
        out = Path(self._tmp.name) / f"{self._n}.wav"
        quoted = text.encode("ascii", errors="replace").decode().replace("\\", " ")
        quoted = quoted.replace('"', "'")
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(
            f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{out}" (quote riff))\n'
            f'(print "{self.DONE}")\n'
        )
        proc.stdin.flush()
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], self.TIMEOUT_S)
            if not ready:
                proc.kill()
                self._procs.pop(voice, None)
                raise VoiceError(f"festival ({voice}) took over {self.TIMEOUT_S} s on {text!r}")
            line = proc.stdout.readline()
            if not line:
                self._procs.pop(voice, None)
                raise VoiceError(f"festival ({voice}) exited while speaking {text!r}")
            if self.DONE in line:
                break
        if not out.exists():
            raise VoiceError(f"festival ({voice}) wrote nothing for {text!r}")
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
        out.unlink()
        return np.ascontiguousarray(audio[:, 0]), int(rate)

    def close(self) -> None:
        for proc in self._procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=10)
        self._procs.clear()
        self._tmp.cleanup()

    def __del__(self) -> None:
        self.close()
