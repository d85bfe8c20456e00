"""The modahub executor contract for VideoFramesEncoder: one test per rule (see modahub_testing)."""

from modahub_video_frames.encoder import VideoFramesEncoder

from modahub_testing import EncoderContract


class TestVideoFramesEncoderContract(EncoderContract):
    executor = VideoFramesEncoder
