"""Are the characters' voices distinct to a speaker-embedding model (resemblyzer)?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dubset_sample.script import ScriptLine
from dubset_sample.voices import Audio, CastMember, VoiceBank, VoiceSpec, resample

EMBED_RATE = 16000
UTTERANCES_PER_VOICE = 8
Matrix = npt.NDArray[np.float64]


def embed(utterances: Sequence[Audio], rate: int) -> Matrix:
    """Unit-norm d-vectors (256) of each utterance, from resemblyzer's packaged encoder."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder("cpu", verbose=False)
    rows = [
        encoder.embed_utterance(preprocess_wav(resample(u, rate, EMBED_RATE), EMBED_RATE))
        for u in utterances
    ]
    return np.asarray(rows, np.float64)


def separability(labels: Sequence[int], vectors: Matrix) -> dict[str, object]:
    """Centroid cosine similarities, and how often an utterance is nearest its own voice."""
    ids = sorted(set(labels))
    label_arr = np.asarray(labels)
    centroids = np.stack([_unit(vectors[label_arr == i].mean(axis=0)) for i in ids])
    sim = centroids @ centroids.T
    correct = 0
    for row, label in zip(vectors, labels, strict=True):
        scores = []
        for i in ids:
            members = vectors[label_arr == i]
            if i == label and len(members) > 1:
                # Leave the utterance out of its own centroid, or the test is too easy.
                members = members[~np.all(members == row, axis=1)]
            scores.append(float(_unit(members.mean(axis=0)) @ row))
        correct += ids[int(np.argmax(scores))] == label
    cross = [sim[a, b] for a in range(len(ids)) for b in range(len(ids)) if a != b]
    return {
        "similarity": [[round(float(x), 3) for x in r] for r in sim],
        "max_cross_similarity": round(float(max(cross)), 3) if cross else None,
        "identification_accuracy": round(correct / len(labels), 3),
        "utterances": len(labels),
    }


def similarity_report(
    cast: Sequence[CastMember], voices: VoiceBank, lines: Sequence[ScriptLine]
) -> dict[str, object]:
    """Per language: the characters' voices compared on up to 8 lines each."""
    report: dict[str, object] = {}
    for lang in ("ja", "en"):
        labels: list[int] = []
        audio: list[Audio] = []
        for speaker, member in enumerate(cast):
            spoken = [ln for ln in lines if ln.speaker == speaker][:UTTERANCES_PER_VOICE]
            voice: VoiceSpec = member.ja if lang == "ja" else member.en
            for ln in spoken:
                audio.append(voices.speak(voice, ln.line.ja if lang == "ja" else ln.line.en))
                labels.append(speaker)
        if len(set(labels)) < 2:
            continue
        value = separability(labels, embed(audio, voices.sample_rate))
        value["voices"] = [(m.ja if lang == "ja" else m.en).label for m in cast]
        report[lang] = value
    return report


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
