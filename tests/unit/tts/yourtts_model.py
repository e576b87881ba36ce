"""A tiny randomly initialised YourTTS-shaped model directory, laid out like the release.

The release (`tts_models/multilingual/multi-dataset/your_tts`) holds model_file.pth,
config.json, model_se.pth, config_se.json, speakers.pth and language_ids.json; its config names
those files by the training machine's paths. This builds the same layout with the same kinds
of config (VITS with d-vectors from a ResNet speaker encoder on the waveform, a language
embedding, grapheme input with the multilingual cleaners: no phonemizer) at a size that builds
and runs in seconds. Checkpoints are saved the way coqui's trainer saves them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

LANGUAGES = {"en": 0, "fr-fr": 1, "pt-br": 2}
RATE = 16000
SE_DIM = 32
TRAINING_DIR = "/home/trainer/yourtts_run"  # foreign paths, as in the released config


def _encoder(out: Path) -> None:
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.encoder.configs.speaker_encoder_config import SpeakerEncoderConfig
    from TTS.encoder.utils.generic_utils import setup_encoder_model

    audio = BaseAudioConfig(
        sample_rate=RATE,
        fft_size=512,
        win_length=400,
        hop_length=160,
        num_mels=16,
        preemphasis=0.97,
        resample=False,
    )
    config = SpeakerEncoderConfig(
        audio=audio,
        model_params={
            "model_name": "resnet",
            "input_dim": 16,
            "proj_dim": SE_DIM,
            "use_torch_spec": True,
            "log_input": True,
        },
        num_loader_workers=0,
        num_classes_in_batch=2,
        num_utter_per_class=2,
    )
    encoder = setup_encoder_model(config)
    torch.save({"model": encoder.state_dict(), "step": 0, "date": "tiny"}, out / "model_se.pth")
    config.save_json(str(out / "config_se.json"))


def _speakers(out: Path) -> None:
    gen = torch.Generator().manual_seed(7)
    table = {}
    for name in ("VCTK_p225", "VCTK_p226"):
        for i in range(2):
            vec = torch.nn.functional.normalize(torch.randn(SE_DIM, generator=gen), dim=0)
            table[f"{name}/{i}.wav"] = {"name": name, "embedding": vec.tolist()}
    torch.save(table, out / "speakers.pth")


def build(out: Path, seed: int = 0) -> Path:
    """Write the tiny model directory into `out` (created) and return it."""
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits, VitsArgs

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    _encoder(out)
    _speakers(out)
    (out / "language_ids.json").write_text(json.dumps(LANGUAGES), encoding="utf-8")
    args = VitsArgs(
        hidden_channels=16,
        hidden_channels_ffn_text_encoder=32,
        num_heads_text_encoder=2,
        num_layers_text_encoder=2,
        num_layers_posterior_encoder=2,
        num_layers_flow=2,
        out_channels=257,
        resblock_type_decoder="2",
        resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]],
        upsample_rates_decoder=[8, 8, 4],
        upsample_kernel_sizes_decoder=[16, 16, 8],
        upsample_initial_channel_decoder=32,
        init_discriminator=False,
        use_d_vector_file=True,
        d_vector_file=[str(out / "speakers.pth")],
        d_vector_dim=SE_DIM,
        use_language_embedding=True,
        embedded_language_dim=4,
        language_ids_file=str(out / "language_ids.json"),
    )
    config = VitsConfig(
        model_args=args,
        use_phonemes=False,
        text_cleaner="multilingual_cleaners",
        characters=CharactersConfig(
            characters_class="TTS.tts.models.vits.VitsCharacters",
            pad="_",
            eos="&",
            bos="*",
            blank=None,
            characters="abcdefghijklmnopqrstuvwxyz\u00e0\u00e2\u00e7\u00e8\u00e9\u00ea ",
            punctuations="!'(),-.:;? ",
            phonemes=None,
        ),
        use_d_vector_file=True,
        d_vector_dim=SE_DIM,
        d_vector_file=[str(out / "speakers.pth")],
    )
    config.audio.sample_rate = RATE
    config.audio.fft_size = 512
    config.audio.win_length = 512
    config.audio.hop_length = 256
    model = Vits(config)
    state = {"model": model.state_dict(), "step": 0, "epoch": 0, "date": "tiny"}
    # Released checkpoints also carry the GAN discriminator, which inference never runs.
    state["model"]["disc.discriminators.0.convs.0.weight"] = torch.zeros(2, 1, 3)
    torch.save(state, out / "model_file.pth")
    # The released config names its files by the training machine's paths.
    saved = config.to_dict()
    saved["d_vector_file"] = [f"{TRAINING_DIR}/speakers.pth"]
    saved["model_args"].update(
        d_vector_file=[f"{TRAINING_DIR}/speakers.pth"],
        language_ids_file=f"{TRAINING_DIR}/language_ids.json",
        speaker_encoder_model_path=f"{TRAINING_DIR}/model_se.pth",
        speaker_encoder_config_path=f"{TRAINING_DIR}/config_se.json",
    )
    (out / "config.json").write_text(json.dumps(saved, indent=2), encoding="utf-8")
    return out
