"""The modahub executor contract for ShapeDistEncoder: one test per rule (see modahub_testing)."""

from modahub_shape_dist.encoder import ShapeDistEncoder
from modahub_shape_dist.generator import ShapeGenerator

from modahub_testing import EncoderContract, GeneratorContract


class TestShapeDistEncoderContract(EncoderContract):
    executor = ShapeDistEncoder


class TestShapeGeneratorContract(GeneratorContract):
    executor = ShapeGenerator
