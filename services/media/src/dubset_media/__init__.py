"""dubset media service: check both videos, extract canonical audio, estimate the JA-EN offset."""

STAGE = "media"
VERSION = "1"
