"""skeleton: reproducible builds of skeleton action-recognition datasets."""

__version__ = "0.1.0"
