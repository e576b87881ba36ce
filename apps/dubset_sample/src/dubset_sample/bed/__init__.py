"""The music-and-effects bed: score, instruments, drums, sound effects and mastering."""
