"""modahub-text: text encoders (all-MiniLM-L6-v2 on ONNX Runtime; sentence-transformers models by pinned revision)."""
