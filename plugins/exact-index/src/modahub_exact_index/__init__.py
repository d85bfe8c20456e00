"""modahub-exact-index: an exact in-memory vector index."""
