"""Cut a stream of 16 kHz samples into long blocks at quiet points, holding one block at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


def quietest_cut(samples: Samples, lo: int, hi: int, frame: int) -> int:
    """The start of the lowest-energy frame in samples[lo:hi] (ties: the latest)."""
    lo = max(0, lo)
    n = (hi - lo) // frame
    if n <= 0:
        return hi
    frames = samples[lo : lo + n * frame].reshape(n, frame).astype(np.float64)
    energy = np.einsum("ij,ij->i", frames, frames)
    best = int(n - 1 - np.argmin(energy[::-1]))
    return lo + best * frame + frame // 2


def split_blocks(
    chunks: Iterable[Samples],
    sample_rate: int,
    *,
    block_s: float = 600.0,
    search_s: float = 30.0,
    frame_ms: int = 100,
) -> Iterator[tuple[int, Samples]]:
    """(offset in samples, block) pairs covering the stream exactly once, in order.

    A block ends at the quietest frame of its last search_s seconds, so a cut rarely falls in a
    word; memory stays about one block plus one chunk whatever the stream's length.
    """
    block = int(block_s * sample_rate)
    search = int(search_s * sample_rate)
    frame = max(1, sample_rate * frame_ms // 1000)
    if block <= 0 or search < 0 or search >= block:
        raise ValueError("need 0 <= search_s < block_s")
    buf = np.zeros(0, dtype=np.float32)
    offset = 0
    for chunk in chunks:
        buf = np.concatenate([buf, np.asarray(chunk, dtype=np.float32)])
        while len(buf) >= block + search:
            cut = quietest_cut(buf, block - search, block, frame)
            yield offset, buf[:cut].copy()
            offset += cut
            buf = buf[cut:]
    while len(buf) > block:
        cut = quietest_cut(buf, block - search, block, frame)
        yield offset, buf[:cut].copy()
        offset += cut
        buf = buf[cut:]
    if len(buf):
        yield offset, buf
