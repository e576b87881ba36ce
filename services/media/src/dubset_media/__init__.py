"""dubset media service: check both videos, extract canonical audio, estimate the JA-EN offset."""

STAGE = "media"
VERSION = "2"  # 2: track selection (dual-audio files), dialogue-forward surround downmix
