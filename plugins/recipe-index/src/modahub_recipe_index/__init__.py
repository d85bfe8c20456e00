"""modahub-recipe-index: store recipes instead of payloads, find them by prompt words, regenerate."""
