"""modahub-audio: audio encoders (digits-audio: spoken digits into the all-minilm-l6-v2 space)."""
