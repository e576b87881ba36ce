"""dubset faces service: shots, anime faces tracked per shot, the AniVid filters and 256x256
face clips of the Japanese video (seed 003), and which on-screen face speaks."""

STAGE = "faces"
VERSION = "1"
