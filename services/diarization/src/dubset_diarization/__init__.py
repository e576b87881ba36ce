"""dubset diarization service: speaker turns with episode-level speaker ids (embedded, pyannote)."""

STAGE = "diarization"
VERSION = "1"
