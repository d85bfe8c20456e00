"""modahub-video-frames: videos into the all-MiniLM-L6-v2 space through PyAV, frame sampling and digits-image."""

__version__ = "0.1.0"
