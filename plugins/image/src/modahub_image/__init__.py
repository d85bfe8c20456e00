"""modahub-image: image encoders (digits-image, offline; clip-image, your CLIP weights)."""
