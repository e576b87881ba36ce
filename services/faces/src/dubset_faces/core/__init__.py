"""The faces stage's algorithm on plain values: tracks, motion, the AniVid filters, crops."""
