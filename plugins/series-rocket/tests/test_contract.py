"""The modahub executor contract for SeriesRocketEncoder: one test per rule (see modahub.testing)."""

from modahub_series_rocket.encoder import SeriesRocketEncoder

from modahub.testing import EncoderContract


class TestSeriesRocketEncoderContract(EncoderContract):
    executor = SeriesRocketEncoder
