"""dubset separation service: dialogue and music-and-effects stems per language (dualdub, repet, spleeter)."""

STAGE = "separation"
VERSION = "1"
