"""dubset alignment service: JA and EN ASR segments merged into clip pairs."""

STAGE = "alignment"
VERSION = "1"
