"""The bed's synthesizer and sound effects, as the bed plays them (see dubset_sample.bed)."""

from __future__ import annotations

from dubset_sample.bed.dsp import add, hz
from dubset_sample.bed.sfx import EFFECT_KINDS, effect
from dubset_sample.bed.synthesizer import Synth

__all__ = ["EFFECT_KINDS", "Synth", "add", "effect", "hz"]
