"""Build a small randomly initialised 2-stem Spleeter model in the pretrained layout.

Run with .venv-spleeter's Python: `python spleeter_tiny_model.py OUT_DIR`; writes
OUT_DIR/2stems/{checkpoint, model.index, model.data-*, model.meta, params.json, .probe}.
"""

from __future__ import annotations

import json
import os
import sys

import tensorflow as tf
from spleeter.model import model_fn
from spleeter.utils.configuration import load_configuration


def build(out: str) -> None:
    stems = os.path.join(out, "2stems")
    os.makedirs(stems, exist_ok=True)
    params = load_configuration("spleeter:2stems")
    params["model"]["params"] = {"conv_n_filters": [2, 2, 2, 2, 2, 2]}
    tf.compat.v1.disable_eager_execution()
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        tf.compat.v1.train.get_or_create_global_step()
        features = {
            "waveform": tf.compat.v1.placeholder(tf.float32, (None, 2), name="waveform"),
            "audio_id": tf.compat.v1.placeholder(tf.string, name="audio_id"),
        }
        model_fn(features, None, tf.estimator.ModeKeys.PREDICT, dict(params, model_dir=stems))
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, os.path.join(stems, "model"))
    # Relative, as in the published models, so the directory can move.
    with open(os.path.join(stems, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "model"\nall_model_checkpoint_paths: "model"\n')
    with open(os.path.join(stems, "params.json"), "w") as f:
        json.dump(params, f, indent=2)
    with open(os.path.join(stems, ".probe"), "w") as f:
        f.write("OK")


if __name__ == "__main__":
    build(sys.argv[1])
