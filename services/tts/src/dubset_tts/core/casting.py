"""One voice per character for a whole episode: the most similar voices, never shared while
there are voices enough.

Speakers come in priority order (most speech first). Pinned speakers keep the voice the user
named. The others, as many as there are voices left, get distinct voices maximising their total
similarity (an optimal assignment, not first come first served); speakers beyond that share:
each takes its most similar voice, and the casting says which voices are shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Casting:
    voices: tuple[int, ...]  # per speaker (in the given order), a voice index
    shared: tuple[int, ...]  # voice indices given to more than one speaker


def assign(similarity: Sequence[Sequence[float]], pinned: Mapping[int, int]) -> Casting:
    """similarity[speaker][voice]; pinned: speaker → voice. Ties go to the earlier voice."""
    sims = np.asarray(similarity, dtype=np.float64)
    n, m = sims.shape if sims.size else (len(similarity), 0)
    if m == 0 and n:
        raise ValueError("no voices to cast")
    chosen: dict[int, int] = dict(pinned)
    free_rows = [i for i in range(n) if i not in chosen]
    free_cols = [j for j in range(m) if j not in set(chosen.values())]
    distinct = free_rows[: len(free_cols)]
    if distinct:
        # A tiny preference for earlier voices makes ties deterministic.
        sub = sims[np.ix_(distinct, free_cols)] - 1e-9 * np.arange(len(free_cols))[None, :]
        rows, cols = linear_sum_assignment(sub, maximize=True)
        for r, c in zip(rows, cols, strict=True):
            chosen[distinct[int(r)]] = free_cols[int(c)]
        _earlier_first(sims, chosen, distinct)
    for i in free_rows[len(free_cols) :]:
        chosen[i] = int(np.argmax(sims[i]))
    voices = tuple(chosen[i] for i in range(n))
    shared = tuple(sorted(j for j in set(voices) if voices.count(j) > 1))
    return Casting(voices, shared)


def _earlier_first(sims: np.ndarray, chosen: dict[int, int], rows: list[int]) -> None:
    """Where two speakers could swap voices at no cost to the total, the earlier (more speech)
    takes the voice more similar to it."""
    for a, i in enumerate(rows):
        for j in rows[a + 1 :]:
            vi, vj = chosen[i], chosen[j]
            same = abs(sims[i, vi] + sims[j, vj] - sims[i, vj] - sims[j, vi]) < 1e-9
            if same and sims[i, vj] > sims[i, vi]:
                chosen[i], chosen[j] = vj, vi
