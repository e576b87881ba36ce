"""Pure media logic: ffprobe reports to values, validation, the JA-EN offset estimate."""
