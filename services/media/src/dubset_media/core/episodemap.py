"""The time map of two soundtracks, refined to the sample: pieces, their confidence, and the
stretches one release has alone (see mapping for the frame-level steps)."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample_poly

from dubset_common.timemap import Piece, Stretch, TimeMap
from dubset_media.core import mapping
from dubset_media.core.model import DEFAULT_MAX_OFFSET_MS, NotSameEpisodeError, OffsetEstimate
from dubset_media.core.offset import (
    FINE_SEARCH_FRAMES,
    FINE_SNR_FLOOR,
    FINE_SNR_FULL,
    FRAME_RATE,
    Hook,
    Signal,
    _quiet,
    band_log_energy,
    fine_lag,
    flux_features,
)

MIN_FINE_S = 4.0  # a piece shorter than this keeps its 10 ms frame lag
SAME_EPISODE_CONFIDENCE = 0.5
Z_FULL = 12.0


def _confidence(z: float, snr: float) -> float:
    coarse = min(1.0, max(0.0, z) / Z_FULL)
    fine = min(1.0, max(0.0, snr - FINE_SNR_FLOOR) / (FINE_SNR_FULL - FINE_SNR_FLOOR))
    return float(np.sqrt(coarse * fine)) if fine > 0 else 0.6 * coarse


def _refine(en_w: Signal, ja: Signal, piece: mapping.FramePiece, hop: int) -> tuple[float, float]:
    """(lag in samples, fine SNR): EN-at-JA-rate sample = JA sample + lag, within the piece."""
    coarse = piece.lag * hop
    js, je = piece.ja_start * hop, piece.ja_end * hop
    if (je - js) < MIN_FINE_S * FRAME_RATE * hop:
        return float(coarse), 0.0
    radius = FINE_SEARCH_FRAMES * hop
    a = max(0, js + coarse - radius)
    shift = a - js - coarse  # JA local = EN local + shift, fine_lag's convention
    residual, snr = fine_lag(en_w[a : je + coarse + radius], ja[js:je], shift, radius)
    if snr < FINE_SNR_FLOOR:
        return float(coarse), snr
    return float(coarse - residual), snr


def _stretches(pieces: list[Piece], ja_ms: int, en_ms: int) -> tuple[list[Stretch], list[Stretch]]:
    """What each release has that maps nowhere: before, between and after the pieces."""
    ja_only: list[Stretch] = []
    en_only: list[Stretch] = []
    ja_at, en_at = 0, 0
    for p in pieces:
        if p.ja_start_ms > ja_at:
            ja_only.append((ja_at, p.ja_start_ms))
        if p.en_start_ms > en_at:
            en_only.append((en_at, p.en_start_ms))
        ja_at, en_at = p.ja_end_ms, p.en_end_ms
    if ja_ms > ja_at:
        ja_only.append((ja_at, ja_ms))
    if en_ms > en_at:
        en_only.append((en_at, en_ms))
    return ja_only, en_only


def estimate_map(
    en: Signal,
    ja: Signal,
    rate: int,
    max_offset_ms: int = DEFAULT_MAX_OFFSET_MS,
    hook: Hook = _quiet,
    known: OffsetEstimate | None = None,
) -> TimeMap:
    """The map from two mono tracks at one rate. known: the global offset estimate; a map of
    one piece at ratio 1 that agrees with it takes its sample-exact offset."""
    hop = rate // FRAME_RATE
    hook(0.0, "time map: envelopes")
    fe = flux_features(band_log_energy(en, rate))
    fj = flux_features(band_log_energy(ja, rate))
    max_lag = max_offset_ms * FRAME_RATE // 1000
    hook(0.3, "time map: speed ratio")
    ratio = mapping.choose_ratio(fe, fj, max_lag)
    en_w: Signal = en
    if ratio != 1:  # EN to the JA rate: the sped-up release played at the original speed
        en_w = resample_poly(np.asarray(en, np.float32), ratio.denominator, ratio.numerator)
        fe = flux_features(band_log_energy(en_w, rate))
    hook(0.5, "time map: pieces")
    frame_pieces = mapping.pieces(fe, fj, max_lag)
    if not frame_pieces:
        raise NotSameEpisodeError(
            "not the same episode: no stretch of the two soundtracks shares a music-and-effects "
            "track"
        )
    out = []
    for n, p in enumerate(frame_pieces):
        lag, snr = _refine(en_w, ja, p, hop)
        if (
            known is not None
            and ratio == 1
            and len(frame_pieces) == 1
            and abs(-known.offset_samples - p.lag * hop) <= mapping.AGREE_FRAMES * hop
        ):
            lag = float(-known.offset_samples)
        # The first piece reaches back, the last forward, as far as both releases go.
        ja0 = max(0.0, -lag) if n == 0 else float(p.ja_start * hop)
        ja1 = min(len(ja), len(en_w) - lag) if n == len(frame_pieces) - 1 else p.ja_end * hop
        to_ms = 1000 / rate
        out.append(
            Piece(
                ja_start_ms=round(ja0 * to_ms),
                ja_end_ms=round(ja1 * to_ms),
                en_start_ms=round(float((ja0 + lag) * to_ms * ratio)),
                en_end_ms=round(float((ja1 + lag) * to_ms * ratio)),
                confidence=_confidence(p.z, snr),
            )
        )
    hook(1.0, "time map done")
    ja_only, en_only = _stretches(out, len(ja) * 1000 // rate, len(en) * 1000 // rate)
    return TimeMap(tuple(out), tuple(ja_only), tuple(en_only))


def same_episode(m: TimeMap) -> bool:
    """Some piece of real length is clearly the same programme."""
    return any(
        p.confidence >= SAME_EPISODE_CONFIDENCE and p.ja_end_ms - p.ja_start_ms >= 10_000
        for p in m.pieces
    )
