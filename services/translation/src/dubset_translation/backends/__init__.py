"""Translation backends: a model behind the core's Translator signature, loaded once."""
