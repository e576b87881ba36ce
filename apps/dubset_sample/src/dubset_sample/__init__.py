"""Test episodes with ground truth: dubbed JA/EN episode pairs whose every line is known."""
