"""modahub-video-frames: videos through any image encoder, their soundtrack through any audio encoder (PyAV)."""

__version__ = "0.2.2"
