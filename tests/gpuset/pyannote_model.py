"""A tiny randomly initialised pyannote.audio 4 speaker-diarization pipeline, laid out like the
4.x release (pyannote/speaker-diarization-community-1): config.yaml, segmentation/ and
embedding/ checkpoints (pytorch_model.bin), plda/ (xvec_transform.npz, plda.npz).

The segmentation model is a PyanNet with a one-layer 16-unit LSTM on the powerset of 3 speakers
(at most 2 at once), as the release's; the embedding is a WeSpeaker ResNet34 on 16 mel bins
(pyannote fixes its depth and width); the PLDA an identity-like one of 16 dimensions. The
checkpoints are saved the way pyannote's own tools write them (wespeaker/convert.py, the `strip`
command): the Lightning version, the hyper-parameters, the state dict and pyannote's
versions/architecture/specifications. Random weights know nothing of voices: the segmentation
classifier is biased so that its frames say "speaker 1 alone", so the pipeline's later steps
(embedding the speaker's chunks, clustering, reconstruction) have something to work on.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG = """\
dependencies:
  pyannote.audio: {version}
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    segmentation: $model/segmentation
    embedding: $model/embedding
    plda: $model/plda
    clustering: AgglomerativeClustering
    segmentation_step: 0.5
    segmentation_batch_size: 8
    embedding_batch_size: 8
    embedding_exclude_overlap: false
params:
  segmentation:
    min_duration_off: 0.0
  clustering:
    method: centroid
    min_cluster_size: 1
    threshold: 0.7
"""
CHUNK_S = 5.0
PLDA_DIM = 16


def offline() -> None:
    """pyannote.audio reports usage to its telemetry endpoint unless told not to."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def save_checkpoint(model: object, path: Path) -> None:
    import lightning
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),  # type: ignore[attr-defined]
        "hyper_parameters": dict(model.hparams),  # type: ignore[attr-defined]
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)  # type: ignore[attr-defined]  # pyannote's own keys
    torch.save(checkpoint, path)


def segmentation_model() -> object:
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    model = PyanNet(
        sincnet={"stride": 10},
        lstm={"hidden_size": 16, "num_layers": 1, "bidirectional": True, "monolithic": True},
        linear={"hidden_size": 16, "num_layers": 1},
    )
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=CHUNK_S,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.build()
    with torch.no_grad():  # powerset class 1 is {speaker#1}: one speaker, active throughout
        model.classifier.bias.zero_()
        model.classifier.bias[1] = 8.0
    return model


def embedding_model() -> object:
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    torch.manual_seed(1)
    model = WeSpeakerResNet34(num_mel_bins=16)
    model.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=CHUNK_S
    )
    return model


def save_plda(folder: Path, embedding_dim: int) -> None:
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lda = rng.standard_normal((embedding_dim, PLDA_DIM))
    np.savez(folder / "xvec_transform.npz", mean1=np.zeros(embedding_dim), mean2=np.zeros(PLDA_DIM),
             lda=lda)  # fmt: skip
    np.savez(folder / "plda.npz", mu=np.zeros(PLDA_DIM), tr=np.eye(PLDA_DIM),
             psi=np.linspace(2.0, 1.0, PLDA_DIM))  # fmt: skip


def build(root: Path) -> Path:
    """The pipeline directory at root (created); returns root."""
    import pyannote.audio

    offline()
    root.mkdir(parents=True, exist_ok=True)
    save_checkpoint(segmentation_model(), root / "segmentation" / "pytorch_model.bin")
    embedding = embedding_model()
    save_checkpoint(embedding, root / "embedding" / "pytorch_model.bin")
    save_plda(root / "plda", int(embedding.dimension))  # type: ignore[attr-defined]
    (root / "config.yaml").write_text(CONFIG.format(version=pyannote.audio.__version__))
    return root
