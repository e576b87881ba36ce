"""Pure render logic: the ducking gain, the mix of one block, the spoken subtitles and the
report; no ffmpeg, no files."""
