"""Pure translation logic: lines and their time budgets, subtitle cues paired with lines, how
long English takes to say; no I/O, no models."""
