"""modahub-speech: spoken English transcribed by pocketsphinx and embedded in the all-MiniLM-L6-v2 space."""
