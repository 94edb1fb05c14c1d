"""devkit: run, debug and ship Azure ML-style real-time endpoints on your own machine."""

__version__ = "0.1.0"
