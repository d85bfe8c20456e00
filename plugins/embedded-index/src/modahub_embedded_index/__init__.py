"""modahub-embedded-index: persistent vector indexes (SQLite + faiss), exact and HNSW."""
