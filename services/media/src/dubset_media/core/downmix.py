"""Surround to mono or stereo with the dialogue kept forward.

Film and TV mixes put dialogue in the centre channel. A plain downmix (ffmpeg's -ac) adds the
centre at -3 dB to full-level fronts and surrounds, so the effects bury the speech that the
recogniser and the diarizer need. These matrices give the centre half of the output and share
the rest between the fronts and (less) the surrounds; LFE is left out. Weights sum to 1 per
output channel, so nothing clips.
"""

from __future__ import annotations

from dubset_media.core.model import StreamInfo

# Channel order of ffmpeg's 5.1, 5.1(side) and 7.1 layouts (an untagged 6 or 8 channel stream
# is taken to be one of them, as WAVEFORMATEXTENSIBLE's default order says).
_SURROUND = {
    6: {"FL": 0, "FR": 1, "FC": 2, "LFE": 3, "SL": 4, "SR": 5},
    8: {"FL": 0, "FR": 1, "FC": 2, "LFE": 3, "BL": 4, "BR": 5, "SL": 6, "SR": 7},
}
_LAYOUTS = {6: ("", "5.1", "5.1(side)"), 8: ("", "7.1")}
CENTRE, FRONT = 0.5, 0.2


def _terms(weights: dict[int, float]) -> str:
    return "+".join(f"{w:g}*c{i}" for i, w in sorted(weights.items()) if w > 0)


def pan_filter(stream: StreamInfo, channels: int) -> str | None:
    """The ffmpeg `pan` filter that takes this 5.1/7.1 stream to `channels` (1 or 2) with the
    dialogue forward; None when the stream is not surround (ffmpeg's own -ac is then right)."""
    order = _SURROUND.get(stream.channels)
    if order is None or channels not in (1, 2):
        return None
    if stream.channel_layout not in _LAYOUTS[stream.channels]:
        return None
    rears = [i for name, i in order.items() if name in ("SL", "SR", "BL", "BR")]
    rear = (1.0 - CENTRE - 2 * FRONT) / len(rears)
    if channels == 1:
        mono = {order["FC"]: CENTRE, order["FL"]: FRONT, order["FR"]: FRONT}
        mono.update({i: rear for i in rears})
        return f"pan=mono|c0={_terms(mono)}"
    sides = []
    for front, side in (("FL", "L"), ("FR", "R")):
        own = [order[n] for n in order if n in (f"S{side}", f"B{side}")]
        weights = {order["FC"]: CENTRE, order[front]: 2 * FRONT}
        weights.update({i: 2 * rear for i in own})
        sides.append(_terms(weights))
    return f"pan=stereo|c0={sides[0]}|c1={sides[1]}"
