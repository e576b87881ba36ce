"""Pure packaging logic: clip ids, times, speakers, the episode fragment; no I/O."""
