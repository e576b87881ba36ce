"""The bed's synthesizer: renders notes of every instrument and drum, caching what it reuses."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft

from dubset_sample.bed.drums import DRUM_VARIANTS, DRUMS
from dubset_sample.bed.dsp import (
    F32,
    F64,
    TABLE_LEN,
    butter,
    damped,
    decay,
    f32,
    hz,
    noise,
    peak1,
    phase,
    times,
)
from dubset_sample.bed.instruments import DECAYING, VOICES, Voice, wavetable


class Synth:
    """Renders notes of every instrument at one sample rate, caching what it can reuse."""

    def __init__(self, sample_rate: int, rng: np.random.Generator) -> None:
        self.sr = sample_rate
        self._rng = rng
        self._tones: dict[tuple[str, int], F32] = {}
        self._tables: dict[tuple[str, int], F32] = {}
        self._hits: dict[tuple[str, int], F32] = {}
        self._envs: dict[str, F32] = {}
        self._ramps: dict[tuple[int, int], F32] = {}
        self._ir_spectra: dict[int, npt.NDArray[np.complex64]] = {}
        n_ir = round(1.1 * sample_rate)
        tail = butter(noise(rng, n_ir), sample_rate, "lowpass", 5000.0)
        ir = tail * decay(n_ir, sample_rate, 0.3)
        ir[: round(0.012 * sample_rate)] = 0.0  # pre-delay
        self._ir = ir / np.float32(np.sqrt(np.sum(ir.astype(np.float64) ** 2)))

    def note(self, instrument: str, midi: int, n: int) -> F32:
        """A note `n` samples long (drums ignore pitch and length; ringing notes may run over)."""
        if instrument in VOICES:
            return self._sustained(instrument, midi, n)
        if instrument in DRUMS:
            return self._cached(instrument, int(self._rng.integers(DRUM_VARIANTS)))
        buf = self._cached(instrument, midi)
        if not DECAYING[instrument][2]:
            return buf
        # A player damps the string at note-off; it also spares mixing long silent tails.
        stop = n + round(0.08 * self.sr)
        rel = round(0.15 * self.sr)
        if stop + rel >= len(buf):
            return buf
        out = buf[: stop + rel].copy()
        out[stop:] *= self._ramp(rel)
        return out

    def _cached(self, instrument: str, key: int) -> F32:
        buf = self._hits.get((instrument, key))
        if buf is None:
            if instrument in DRUMS:
                buf = peak1(DRUMS[instrument](self.sr, self._rng))
                wet = 0.25 if instrument in ("snare", "clap", "tomh", "toml") else 0.0
            else:
                make, wet, _ = DECAYING[instrument]
                buf = peak1(make(hz(key), self.sr, self._rng))
            if wet > 0:
                buf = self._reverb(buf, wet)
            self._hits[(instrument, key)] = buf
        return buf

    def _reverb(self, dry: F32, wet: float) -> F32:
        size = sp_fft.next_fast_len(len(dry) + len(self._ir) - 1, real=True)
        ir = self._ir_spectra.get(size)
        if ir is None:  # notes of one instrument share lengths, so their IR transforms repeat
            ir = self._ir_spectra[size] = sp_fft.rfft(self._ir, size)
        wet_part = sp_fft.irfft(sp_fft.rfft(dry, size) * ir, size)[: len(dry) + len(self._ir) - 1]
        out = f32(wet_part) * np.float32(wet)
        out[: len(dry)] += dry
        # Trim the tail once it has fallen 60 dB, so mixing does not add silence.
        loud = np.flatnonzero(np.abs(out) > 1e-3 * float(np.max(np.abs(out))))
        return peak1(out[: int(loud[-1]) + 1])

    def _table(self, timbre: str, k: int) -> F32:
        table = self._tables.get((timbre, k))
        if table is None:
            table = self._tables[(timbre, k)] = wavetable(timbre, k)
        return table

    def _tone(self, instrument: str, midi: int, need: int) -> F32:
        tone = self._tones.get((instrument, midi))
        if tone is not None and len(tone) >= need:
            return tone
        # Grown on demand with room to spare: most notes are far shorter than the longest.
        n = max(need + self.sr, round(3.0 * self.sr), 0 if tone is None else 2 * len(tone))
        tone = self._tones[(instrument, midi)] = self._render_tone(VOICES[instrument], midi, n)
        return tone

    def _render_tone(self, v: Voice, midi: int, n: int) -> F32:
        sr, f = self.sr, hz(midi)
        t = times(n, sr)
        k = max(1, min(TABLE_LEN // 2 - 1, int(min(v.limit_hz, 0.45 * sr) / f)))
        bright = self._table(v.timbre, k)
        dark = self._table(v.timbre, max(1, k // 4))
        tone = np.zeros(n, np.float32)
        low = np.zeros(n, np.float32) if v.sweep else tone
        wobble = self._vibrato(t, v.vibrato) if v.vibrato else None
        for cents in v.detune:
            fv = f * 2.0 ** (cents / 1200.0)
            start = self._rng.random()
            if wobble is not None:
                cycles = start + np.cumsum(fv * wobble) / sr
                idx = (cycles * TABLE_LEN).astype(np.uint32) & np.uint32(TABLE_LEN - 1)
            else:
                idx = phase(fv, sr, n, start)
            tone += np.take(bright, idx)
            if v.sweep:
                low += np.take(dark, idx)
        if v.sweep:
            # The timbre drifts slowly between dull and bright, as a filter sweep would.
            rate = 2.0 * np.pi * self._rng.uniform(0.08, 0.2)
            lfo = f32(0.5 + 0.5 * np.sin(rate * t + self._rng.uniform(0.0, 6.3)))
            tone -= low
            tone *= lfo
            tone += low
        if v.breath:
            tone += v.breath * butter(noise(self._rng, n), sr, "bandpass", (f * 2, f * 6))
        if v.drive:
            tone = f32(np.tanh(v.drive * peak1(tone)))
        return peak1(tone)

    def _vibrato(self, t: F64, semitones: float) -> F64:
        """Frequency multiplier; the vibrato fades in after the attack, as a violinist's does."""
        depth = semitones / 12.0 * np.log(2.0) * np.clip(t / 0.4 - 0.5, 0.0, 1.0)
        wave = damped(self._rng.uniform(4.8, 5.8), 1e9, self.sr, len(t)).imag
        return np.asarray(1.0 + depth * wave, np.float64)

    def _ramp(self, n: int, power: int = 1) -> F32:
        """A fall from 1 to 0 over n samples (cached: note-offs reuse a few lengths)."""
        ramp = self._ramps.get((n, power))
        if ramp is None:
            ramp = self._ramps[(n, power)] = np.linspace(1.0, 0.0, n, dtype=np.float32) ** power
        return ramp

    def _envelope(self, instrument: str) -> F32:
        env = self._envs.get(instrument)
        if env is None:
            v = VOICES[instrument]
            t = times(round((v.attack + 5.0 * v.decay) * self.sr), self.sr)
            fall = v.sustain + (1.0 - v.sustain) * np.exp(-(t - v.attack) / v.decay)
            env = self._envs[instrument] = np.where(t < v.attack, t / v.attack, fall).astype(
                np.float32
            )
        return env

    def _sustained(self, instrument: str, midi: int, n: int) -> F32:
        v = VOICES[instrument]
        n = max(1, min(n, round(v.seconds * self.sr)))
        rel = round(v.release * self.sr)
        tone = self._tone(instrument, midi, n + rel)
        # Pads start anywhere in their tone so the chorus phases differ on every chord.
        spare = len(tone) - n - rel
        start = int(self._rng.integers(spare + 1)) if v.sweep else 0
        out = tone[start : start + n + rel].copy()
        env = self._envelope(instrument)
        k = min(n, len(env))
        out[:k] *= env[:k]
        out[k:n] *= np.float32(v.sustain)
        level = float(env[n - 1]) if n <= len(env) else v.sustain
        out[n:] *= self._ramp(rel, 2)
        out[n:] *= np.float32(level)
        return out
