"""The pure TTS core: fit, place, level and mix synthesized speech into each clip."""
