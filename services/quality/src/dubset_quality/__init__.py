"""dubset quality service: signals that say which clip pairs to trust (DNSMOS of each
language's dialogue, speech overlap, JA/EN duration ratio, ASR confidence, agreement of a second
recognition pass, music under the dialogue) and one quality score per clip pair."""

STAGE = "quality"
# 2: the second recognition reads clips packed several to a window (core/packing.py)
VERSION = "2"
