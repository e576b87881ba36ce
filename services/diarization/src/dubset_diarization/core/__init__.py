"""Pure diarization: speech regions, window embeddings, clustering, speaker turns."""
