"""The modahub executor contract for SeriesRocketEncoder: one test per rule (see modahub_testing)."""

from modahub_series_rocket.encoder import SeriesRocketEncoder

from modahub_testing import EncoderContract


class TestSeriesRocketEncoderContract(EncoderContract):
    executor = SeriesRocketEncoder
