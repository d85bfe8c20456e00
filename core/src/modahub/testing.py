"""The executor contract kit left modahub-core in 0.2.1: it is ``modahub_testing`` (distribution modahub-testing)."""

raise ImportError(
    "modahub.testing moved out of modahub-core in 0.2.1: pip install modahub-testing (or name it in your plugin's "
    "`test` extra) and import from modahub_testing instead, e.g. `from modahub_testing import EncoderContract`"
)
