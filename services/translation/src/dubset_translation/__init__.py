"""dubset translation service: the Japanese lines of an episode as English lines to be spoken,
each with the time it may take (the dub job's step between ASR and speech)."""

STAGE = "translation"
VERSION = "2"  # 2: lines name their character from the subtitles (ASS Name)
