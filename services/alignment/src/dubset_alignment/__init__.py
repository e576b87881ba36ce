"""dubset alignment service: JA and EN ASR segments merged into clip pairs."""

STAGE = "alignment"
# 2: Japanese clip text keeps a space between unpunctuated segments. A time map (params) merges
# piece by piece; without one, the output and keys are those of version 2. 3: segments are cut
# into lines first (core/lines.py: pauses where the speaker changes or both languages are quiet);
# 4: a line may start LineConfig.onset_lead_ms before its stretch of the speech map
VERSION = "4"
