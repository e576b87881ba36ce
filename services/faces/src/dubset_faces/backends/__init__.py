"""Shot and face detectors behind the core's Protocols."""
