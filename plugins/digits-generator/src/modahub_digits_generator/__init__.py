"""modahub-digits-generator: handwritten digits from prompts with a small conditional VAE."""
