"""Clips: upload and generation, the media pipeline, the submission state machine, sharing."""
