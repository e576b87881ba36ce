"""The pure separation algorithms: a backing estimate, and dialogue = mixture - backing."""
