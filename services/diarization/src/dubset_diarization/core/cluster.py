"""Speaker clustering of window embeddings, with the number of speakers estimated or given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage

from dubset_diarization.core.model import FloatArray, SpeakerBounds

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClusterConfig:
    """threshold: average-linkage cosine distance at which two groups stop merging."""

    threshold: float = 0.32
    max_windows: int = 3000
    min_cluster_windows: int = 4
    min_cluster_share: float = 0.01
    refine_iterations: int = 3


def _normalise(x: FloatArray) -> npt.NDArray[np.float64]:
    x64 = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x64, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = x64 / np.maximum(norms, 1e-12)
    return out


def _big(labels: IntArray, min_size: int) -> list[int]:
    """Cluster ids with at least min_size members, largest first (ties: smaller id)."""
    ids, counts = np.unique(labels, return_counts=True)
    order = sorted(zip(ids.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0]))
    return [i for i, c in order if c >= min_size]


def cluster(
    embeddings: FloatArray, bounds: SpeakerBounds, config: ClusterConfig = ClusterConfig()
) -> IntArray:
    """A label 0..k-1 per embedding row.

    Average-linkage clustering on at most max_windows evenly spaced rows; clusters smaller than
    the minimum size are outliers, not speakers: the speaker count is the number of big clusters
    at the distance threshold (or the given count, within the bounds), and every row is then
    assigned to the nearest big-cluster centroid, refined a few times like k-means.
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    x = _normalise(embeddings)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    sample = np.unique(np.linspace(0, n - 1, min(n, config.max_windows)).round().astype(np.int64))
    xs = x[sample]
    tree = linkage(xs, method="average", metric="cosine")
    min_size = max(
        1, min(config.min_cluster_windows, len(xs) // 2), int(config.min_cluster_share * len(xs))
    )
    if bounds.num is None:
        at_threshold = fcluster(tree, t=config.threshold, criterion="distance")
        estimate = max(1, len(_big(at_threshold, min_size)))
    else:
        estimate = bounds.num
    target = min(bounds.clamp(estimate), len(xs))
    big: list[int] = []
    labels = np.ones(len(xs), dtype=np.int64)
    for m in range(target, len(xs) + 1):
        labels = fcluster(tree, t=m, criterion="maxclust").astype(np.int64)
        big = _big(labels, min_size)
        if len(big) >= target:
            break
    if len(big) < target:
        big = _big(labels, 1)
    centroids = np.stack([xs[labels == c].mean(axis=0) for c in big[:target]])
    assigned = np.zeros(n, dtype=np.int64)
    for _ in range(max(1, config.refine_iterations)):
        assigned = np.argmax(x @ _normalise(centroids.astype(np.float32)).T, axis=1)
        kept = [c for c in range(len(centroids)) if np.any(assigned == c)]
        centroids = np.stack([x[assigned == c].mean(axis=0) for c in kept])
    assigned = np.argmax(x @ _normalise(centroids.astype(np.float32)).T, axis=1)
    result: IntArray = assigned.astype(np.int64)
    return result
