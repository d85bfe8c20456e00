"""modahub-image: image encoders (digits-image, offline; clip-image, your CLIP weights).

Public API for other plugins (modahub-audio trains and runs the same kind of head): the numpy
projection head, :class:`ProjectionHead`, :func:`load_head` and :func:`save_head`; and (modahub-audio's
CLAP towers) the base of encoders over one tower of a pretrained model, :class:`PretrainedTower`.
"""

from modahub_image.head import ProjectionHead, load_head, save_head
from modahub_image.pretrained import PretrainedTower, model_space

__all__ = ["PretrainedTower", "ProjectionHead", "load_head", "model_space", "save_head"]
