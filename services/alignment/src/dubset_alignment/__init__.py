"""dubset alignment service: JA and EN ASR segments merged into clip pairs."""

STAGE = "alignment"
VERSION = "2"  # 2: Japanese clip text keeps a space between unpunctuated segments
