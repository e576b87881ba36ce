"""YourTTS (coqui-tts VITS + d-vectors): each speaker's voice cloned from their reference."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_tts.backends.yourtts_dir import inference_config, locate, unavailable
from dubset_tts.core.model import BackendUnavailableError, Speech, TtsInputError, Voice
from dubset_tts.core.wav import to_rate

SEED = 0  # VITS samples noise (flow prior, duration predictor): fixed per call
THREADS = 4  # float reductions depend on the split: a fixed count keeps outputs bit-identical
SENTENCE_GAP_MS = 150
MIN_REFERENCE_MS = 500
PROBE = "The quick brown fox jumps over the lazy dog."
DVector = npt.NDArray[np.float32]


@contextmanager
def _fixed_threads(torch: Any) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class YourTts:
    """SpeechSynthesizer over a coqui-tts YourTTS checkpoint (English, language id "en")."""

    name = "yourtts"

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        self._dir = model_dir
        files = locate(model_dir)
        try:
            import torch
            from TTS.encoder.configs.speaker_encoder_config import SpeakerEncoderConfig
            from TTS.encoder.utils.generic_utils import setup_encoder_model
            from TTS.tts.configs.vits_config import VitsConfig
            from TTS.tts.models.vits import Vits
            from TTS.utils.audio import AudioProcessor
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the yourtts backend needs coqui-tts and torchaudio (tools/setup_coqui.sh): {exc}"
            ) from exc
        if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
            raise BackendUnavailableError(f"device {device!r} is not available here")
        self._torch = torch
        self._device = torch.device(device)
        self._version = metadata.version("coqui-tts")
        self._sha = files.config_sha256
        try:
            config = VitsConfig()
            config.from_dict(inference_config(files))
            model = Vits(config)
            state = torch.load(files.checkpoint, map_location="cpu", weights_only=True)
            weights = {
                k: v
                for k, v in state["model"].items()
                if not k.startswith(("disc.", "speaker_encoder."))
            }
            model.load_state_dict(weights, strict=True)
            se_config = SpeakerEncoderConfig()
            se_config.from_dict(files.encoder_config)
            encoder = setup_encoder_model(se_config)
            encoder.load_checkpoint(se_config, str(files.encoder_checkpoint), eval=True)
            self._encoder_ap = AudioProcessor(se_config.audio)
        except Exception as exc:  # a dir that does not hold a loadable YourTTS model
            raise unavailable(model_dir, f"cannot load the model: {exc!r}") from exc
        self._model = model.eval().to(self._device)
        self._encoder = encoder.eval().to(self._device)
        self._torch_spec = bool(se_config.model_params.get("use_torch_spec", False))
        self.rate = int(config.audio.get("output_sample_rate") or config.audio["sample_rate"])
        self._language = self._english(model_dir)
        self._default_name, self._default = self._default_voice()
        self._voices: dict[str, DVector] = {}
        # coqui's own sentence splitter (pysbd ships no type information)
        self._sentences: Any = importlib.import_module("pysbd").Segmenter(language="en", clean=True)

    def backend(self) -> str:
        return f"coqui-tts-{self._version}/yourtts:{self._dir.name}:{self._sha[:12]}"

    def _english(self, model_dir: Path) -> int | None:
        ids: dict[str, int] = dict(self._model.language_manager.name_to_id)
        if not ids:
            return None
        for name in sorted(ids, key=lambda n: (n != "en", n)):
            if name == "en" or name.lower().replace("_", "-").startswith("en-"):
                return ids[name]
        if len(ids) == 1:
            return next(iter(ids.values()))
        raise unavailable(model_dir, f"the model speaks no English (languages {sorted(ids)})")

    def _default_voice(self) -> tuple[str, DVector]:
        """The first training speaker of the d-vector file; zeros (unconditioned) without one."""
        manager = self._model.speaker_manager
        names = sorted(manager.embedding_names) if manager is not None else []
        if names:
            vec = np.asarray(manager.get_mean_embedding(names[0]), np.float32)
            return names[0], vec
        return "unconditioned", np.zeros(int(self._model.embedded_speaker_dim), np.float32)

    def _embed(self, speech: Speech) -> DVector:
        """The d-vector of speech through the model's own speaker encoder (at its rate)."""
        ap = self._encoder_ap
        wav = to_rate(speech, int(ap.sample_rate)).astype(np.float32)
        if ap.do_trim_silence:
            wav = ap.trim_silence(wav)
        if ap.do_sound_norm:
            wav = ap.sound_norm(wav)
        feats = wav if self._torch_spec else ap.melspectrogram(wav)
        torch = self._torch
        with _fixed_threads(torch), torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(feats, np.float32)).to(self._device)
            vec = self._encoder.compute_embedding(x.unsqueeze(0))[0]
        return np.asarray(vec.cpu().numpy(), np.float32)

    def voice_for(self, speaker: str, reference: Speech | None) -> Voice:
        if reference is None:
            self._voices[speaker] = self._default
            return Voice(speaker, f"yourtts:{self._dir.name}:{self._default_name}", None)
        if reference.duration_ms < MIN_REFERENCE_MS:
            raise TtsInputError(
                f"reference of {speaker} is {reference.duration_ms} ms; "
                f"YourTTS needs at least {MIN_REFERENCE_MS} ms"
            )
        vec = self._embed(reference)
        self._voices[speaker] = vec
        # SECS, the YourTTS paper's measure: the encoder's cosine of cloned speech to the reference.
        probe = self._synthesize(PROBE, vec)
        similarity = float(np.dot(self._embed(probe), vec)) if len(probe.samples) else None
        tag = hashlib.sha256(vec.tobytes()).hexdigest()[:8]
        return Voice(speaker, f"yourtts:{self._dir.name}+dvec={tag}", similarity)

    def cast(self, references: Mapping[str, Speech | None], pins: Mapping[str, str]) -> list[Voice]:
        """Each speaker cloned from their own reference (distinct by construction); a speaker
        without one gets the model's default. YourTTS has no voice names to pin."""
        if pins:
            raise TtsInputError(
                "YourTTS clones each speaker from their own speech: --voice pins stock voices "
                "(a stock backend such as piper)"
            )
        return [self.voice_for(speaker, ref) for speaker, ref in references.items()]

    def speak(self, text: str, speaker: str) -> Speech:
        if not " ".join(text.split()):
            raise TtsInputError("nothing to say: the text is empty")
        speech = self._synthesize(text, self._voices.get(speaker, self._default))
        if not len(speech.samples):
            raise TtsInputError(f"{text!r} has no character the YourTTS model can speak")
        return speech

    def _speakable(self, ids: list[int]) -> bool:
        """Whether the tokens hold a letter (the tokenizer drops what the model cannot say)."""
        chars = self._model.tokenizer.characters
        vocab = len(chars.vocab)
        return any(0 <= i < vocab and chars.id_to_char(i).isalpha() for i in ids)

    def _synthesize(self, text: str, d_vector: DVector) -> Speech:
        torch = self._torch
        gap = np.zeros(self.rate * SENTENCE_GAP_MS // 1000, np.float32)
        lang = (
            None if self._language is None else torch.tensor([self._language], device=self._device)
        )
        dvec = torch.from_numpy(d_vector).to(self._device).unsqueeze(0)
        pieces: list[npt.NDArray[np.float32]] = []
        for sentence in self._sentences.segment(" ".join(text.split())):
            ids = self._model.tokenizer.text_to_ids(str(sentence).strip(), language="en")
            if not self._speakable(ids):
                continue
            x = torch.as_tensor(ids, dtype=torch.long, device=self._device).unsqueeze(0)
            aux = {
                "x_lengths": torch.tensor([x.shape[1]], device=self._device),
                "d_vectors": dvec,
                "language_ids": lang,
            }
            devices = [] if self._device.type == "cpu" else [self._device.index or 0]
            with _fixed_threads(torch), torch.random.fork_rng(devices=devices):
                torch.manual_seed(SEED)
                out = self._model.inference(x, aux_input=aux)["model_outputs"]
            wav = np.asarray(out[0].reshape(-1).cpu().numpy(), np.float32)
            if not np.all(np.isfinite(wav)):
                raise RuntimeError(f"YourTTS produced non-finite audio for {sentence!r}")
            pieces += [gap, wav] if pieces else [wav]
        audio = np.clip(np.concatenate(pieces), -1.0, 1.0) if pieces else np.zeros(0, np.float32)
        return Speech(audio.astype(np.float32), self.rate)
