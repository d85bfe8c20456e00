"""Hook implementations of modahub-video-frames: what it registers must match modahub.toml."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_video_frames.encoder import VideoFramesEncoder

    register(VideoFramesEncoder)
