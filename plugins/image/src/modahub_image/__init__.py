"""modahub-image: image encoders (digits-image, offline; clip-image, your CLIP weights).

Public API for other plugins (modahub-audio trains and runs the same kind of head): the numpy
projection head, :class:`ProjectionHead`, :func:`load_head` and :func:`save_head`.
"""

from modahub_image.head import ProjectionHead, load_head, save_head

__all__ = ["ProjectionHead", "load_head", "save_head"]
