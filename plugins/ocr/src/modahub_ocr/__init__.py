"""modahub-ocr: images of text read by PP-OCR (rapidocr-onnxruntime) and embedded in the all-MiniLM-L6-v2 space."""
