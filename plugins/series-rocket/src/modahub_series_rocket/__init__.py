"""modahub-series-rocket: Time series as MiniRocket-style convolution features (fixed kernels,
dilations and biases, proportion of positive values), pooled over channels."""

__version__ = "0.1.2"
