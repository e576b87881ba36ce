"""dubset render service: a dubbed episode's English track (speech over the music and effects,
loudness-matched, true-peak limited) added to the untouched video and Japanese track."""

STAGE = "render"
VERSION = "1"
