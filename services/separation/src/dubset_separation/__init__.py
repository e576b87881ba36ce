"""dubset separation service: dialogue and backing stems per language (dualdub, repet, spleeter)."""

STAGE = "separation"
VERSION = "1"
