"""Pure ASR logic: domain values, word/segment assembly, audio blocking, output parsing."""
